"""The SDK's user authorization, with the sign-in conversation a user expects around it.

The SDK's `Authorization` runs the Bot Service OAuth flow (OAuthCard, magic code, `signin/verifyState`, Teams SSO
`signin/tokenExchange`). Around it this adds what SDK 1.9.0 leaves out:
- the sign-in card says what the user signs in to and why (`cards/sign_in.py`), from the handler's TEXT and TITLE
  settings when they are set: the SDK reads both but writes "Sign in" on every card;
- a user who asks again while sign-in is pending (the card scrolled away, the page was reloaded) gets a fresh sign-in
  card and a hint, and the newest command is the one that runs after sign-in; a message that needs no sign-in
  (`help`) is simply answered, and the pending sign-in stays; `cancel` ends it, and `/logout` still signs out; once
  the SDK's flow has expired, the pending sign-in is dropped and the next command starts afresh;
- two turns racing on the same sign-in state (a double click) get the pending hint, not an error;
- a wrong magic code gets a readable answer and leaves the command to run after sign-in as it was;
  `signin/failure` gets a readable answer too;
- Teams sends one `signin/tokenExchange` per open client for the same sign-in: only the first is processed, claimed in
  storage so the claim holds for every instance that shares it (one item per user, which the next sign-in replaces);
- the sign-in invokes get the statuses Teams expects (see `_token_exchange` and `_verify_state`), with or without a
  sign-in in progress, and any other invoke is left to the routes even during a sign-in (a card's action, say);
- sign-out covers every Teams handler, not only the default one;
- a Copilot Studio token the connector handler refuses gets a plain answer instead of a failed turn.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from aiohttp import ClientResponseError
from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    InvokeResponse,
    SignInConstants,
    TokenExchangeInvokeRequest,
    TokenExchangeInvokeResponse,
    TokenResponse,
)
from microsoft_agents.hosting.core import Authorization, ChannelAdapter, Storage, StoreItem, TurnContext, TurnState
from microsoft_agents.hosting.core._oauth import _FlowResponse, _FlowStateTag, _FlowStorageClient
from microsoft_agents.hosting.core.app.oauth._handlers import _UserAuthorization
from microsoft_agents.hosting.core.app.oauth._sign_in_response import _SignInResponse
from microsoft_agents.hosting.core.app.oauth._sign_in_state import _SignInState
from microsoft_agents.hosting.core.app.oauth.authorization import _AuthInterceptResult
from microsoft_agents.hosting.core.storage._type_aliases import JSON
from pydantic import ValidationError

from cards.sign_in import sign_in_activity
from state import ConcurrentStorage, StorageConflict

log = logging.getLogger(__name__)

MAGIC_CODE = re.compile(r"^\d{6}$")
CANCEL_WORDS = {"cancel", "/cancel", "stop"}
SIGN_OUT_COMMANDS = ("logout", "signout", "sign-out")
CONNECTOR_HANDLER_TYPE = "connectoruserauthorization"
TEAMS_HANDLER_TYPE = "userauthorization"
CLAIM_ATTEMPTS = 3

PENDING_HINT = (
    "You're signing in to Microsoft 365. Finish with the sign-in card above (type the 6-digit code it shows), "
    "or type **cancel** to stop."
)
ASKED_AGAIN_HINT = (
    "Here's a fresh sign-in card: sign in with it and I'll answer your latest request. Type the 6-digit code the "
    "sign-in page shows if it asks you to, or type **cancel** to stop."
)
WRONG_CODE = "That code didn't work. Type the 6-digit code from the sign-in page, or type **cancel** to stop."
CANCELLED = "Sign-in cancelled. Ask again whenever you're ready."
FAILED = "Sign-in didn't complete{reason}. Type your command again to retry."
CONNECTOR_TOKEN_REFUSED = (
    "I can't use the Microsoft 365 token Copilot Studio sent for you: it has expired, was not issued for this agent, "
    "or could not be exchanged for Microsoft Graph. Reconnect your Microsoft 365 connection in Copilot Studio, or ask "
    "your admin to check the agent's consent."
)
_SDK_ERROR_CODE = re.compile(r"Error Code: (-?\d+)")

VERIFY_STATE = SignInConstants.verify_state_operation_name.value
TOKEN_EXCHANGE = SignInConstants.token_exchange_operation_name.value
SIGN_IN_FAILURE = "signin/failure"
SIGN_IN_INVOKES = frozenset({VERIFY_STATE, TOKEN_EXCHANGE, SIGN_IN_FAILURE})
MAX_STATE_LENGTH = 256
"""A `signin/verifyState` state is a short code; a longer one is refused before it reaches the token service's URL."""
EXCHANGE_FAILED = "The agent is unable to exchange the token. Proceed with regular login."
EXCHANGE_MALFORMED = "The signin/tokenExchange value must be an object with a connectionName and a token."
EXCHANGE_OTHER_CONNECTION = "The signin/tokenExchange names another connection than the agent's sign-in card."
NO_SIGN_IN = "No sign-in is in progress. Proceed with regular login."

_SKIP = _AuthInterceptResult(should_skip_turn=True, should_replay=False)
_RUN = _AuthInterceptResult(should_skip_turn=False, should_replay=False)
_ASKED_AGAIN = "agent.sign_in.asked_again"
"""Turn-state key: this message came while a sign-in was pending, so a route that needs sign-in starts it afresh."""
_NO_SIGN_IN_STATE = "agent.sign_in.none_stored"
"""Turn-state key: this turn found no pending sign-in in storage and wrote none since."""


class _ExchangeClaim(StoreItem):
    """The user's `signin/tokenExchange` taken last, by whichever instance processes it."""

    def __init__(self, exchange_id: str) -> None:
        self.exchange_id = exchange_id

    def store_item_to_json(self) -> JSON:
        return {"exchangeId": self.exchange_id}

    @staticmethod
    def from_json_to_store_item(json_data: JSON) -> _ExchangeClaim:
        return _ExchangeClaim(str(json_data.get("exchangeId", "")))


class _TeamsUserAuthorization(_UserAuthorization):
    """The SDK's Bot Service sign-in, sending our sign-in card in place of its "Sign in" one. Everything else (the
    flow state it has just saved, the magic code, `signin/verifyState`, SSO's `signin/tokenExchange`) is the SDK's."""

    async def _handle_flow_response(self, context: TurnContext, flow_response: _FlowResponse) -> None:
        resource = flow_response.sign_in_resource
        if flow_response.flow_state.tag != _FlowStateTag.BEGIN or resource is None:
            await super()._handle_flow_response(context, flow_response)
            return
        settings = self._handler
        await context.send_activity(sign_in_activity(resource, flow_response.flow_state.connection,
                                                     text=settings.text, button=settings.title))


class AgentAuthorization(Authorization):
    """`Authorization` with the sign-in conversation described in the module docstring."""

    def __init__(self, storage: ConcurrentStorage, connection_manager: Any, **config: Any) -> None:
        super().__init__(storage, connection_manager, **config)  # conditional writes: the exchange claim needs them

    def _init_handlers(self) -> None:
        super()._init_handlers()
        for name, settings in self._handler_settings.items():
            if settings.auth_type == TEAMS_HANDLER_TYPE:
                self._handlers[name] = _TeamsUserAuthorization(storage=self._storage,
                                                               connection_manager=self._connection_manager,
                                                               auth_handler=settings)

    @property
    def teams_handler_ids(self) -> list[str]:
        """Handlers that sign a user in through Bot Service (everything but Copilot Studio's connector)."""
        return [name for name in self._handler_settings if not self.is_connector_handler(name)]

    async def get_token(self, context: TurnContext, auth_handler_id: str | None = None) -> TokenResponse:
        """The token the route's sign-in check got this very turn, else the SDK's `get_token`.

        SDK 1.9's `get_token` (`exchange_token`) asks the token service (and Entra, on the connector) again even when
        the sign-in check cached the token in turn state moments ago (`Authorization._cache_token`). That check asks
        the token service on every turn, and turn state lives for one turn, so a sign-out on any instance still takes
        effect on the user's next turn."""
        cached = Authorization._get_cached_token(context, auth_handler_id or self._default_handler_id)
        if cached is not None and cached.token:
            return cached
        return await super().get_token(context, auth_handler_id)

    async def _load_sign_in_state(self, context: TurnContext) -> _SignInState | None:
        """The user's pending sign-in, read from storage once a turn when there is none (a signed-in user's turn):
        the SDK and `_intercept` read it three times a turn and delete it when done, which with Blob storage were
        three more round trips. A sign-in saved later in the turn is read again."""
        if context.turn_state.get(_NO_SIGN_IN_STATE):
            return None
        state = await super()._load_sign_in_state(context)
        if state is None:
            context.turn_state[_NO_SIGN_IN_STATE] = True
        return state

    async def _save_sign_in_state(self, context: TurnContext, state: _SignInState) -> None:
        context.turn_state.pop(_NO_SIGN_IN_STATE, None)
        await super()._save_sign_in_state(context, state)

    async def _delete_sign_in_state(self, context: TurnContext) -> None:
        if context.turn_state.get(_NO_SIGN_IN_STATE):
            return
        await super()._delete_sign_in_state(context)
        context.turn_state[_NO_SIGN_IN_STATE] = True

    async def sign_out_everywhere(self, context: TurnContext) -> None:
        for handler_id in self.teams_handler_ids:
            await self.sign_out(context, handler_id)

    async def _start_or_continue_sign_in(self, context: TurnContext, state: TurnState,
                                         auth_handler_id: str | None = None) -> _SignInResponse:
        """A route that needs sign-in, asked while a sign-in was pending, starts it afresh. A conflict means another
        turn of this user's is starting or finishing this sign-in right now (a double click, two quick commands): this
        turn says so instead of failing."""
        asked_again = context.turn_state.pop(_ASKED_AGAIN, None)
        try:
            if isinstance(asked_again, str):
                return await self._sign_in_afresh(context, state, asked_again, auth_handler_id)
            return await super()._start_or_continue_sign_in(context, state, auth_handler_id)
        except StorageConflict:
            await context.send_activity(PENDING_HINT)
            return _SignInResponse(tag=_FlowStateTag.CONTINUE)
        except ValueError as error:  # how the SDK's connector handler refuses a token: expired, foreign, OBO refused
            if not self.is_connector_handler(auth_handler_id):
                raise
            code = _SDK_ERROR_CODE.search(str(error))
            log.warning("Copilot Studio's token was refused (%s)", code.group(1) if code else type(error).__name__)
            await context.send_activity(CONNECTOR_TOKEN_REFUSED)
            return _SignInResponse(tag=_FlowStateTag.FAILURE)

    async def _sign_in_afresh(self, context: TurnContext, state: TurnState, pending_handler_id: str,
                              auth_handler_id: str | None) -> _SignInResponse:
        """The user asked again while a sign-in was pending: the pending flow is ended (the user has no token to sign
        out of yet), and a new one sends a fresh card and keeps this message as the one to run after sign-in."""
        await _flows(context, self._storage).delete(pending_handler_id)
        await self._delete_sign_in_state(context)
        response = await super()._start_or_continue_sign_in(context, state, auth_handler_id)
        if response.tag == _FlowStateTag.BEGIN:
            await context.send_activity(ASKED_AGAIN_HINT)
        return response

    def is_connector_handler(self, handler_id: str | None) -> bool:
        settings = self._handler_settings.get(handler_id or self._default_handler_id)
        return settings is not None and settings.auth_type == CONNECTOR_HANDLER_TYPE

    async def _on_turn_auth_intercept(self, context: TurnContext, state: TurnState) -> _AuthInterceptResult:
        try:
            return await self._intercept(context, state)
        except StorageConflict:
            await context.send_activity(PENDING_HINT)
            return _SKIP

    async def _intercept(self, context: TurnContext, state: TurnState) -> _AuthInterceptResult:
        activity = context.activity
        if activity.type == ActivityTypes.invoke and activity.name not in SIGN_IN_INVOKES:
            return _RUN  # no sign-in input, even during a sign-in: the routes answer it
        pending = await self._load_sign_in_state(context)
        if pending is not None and not await self._flow_is_open(context, pending.active_handler_id):
            await self._delete_sign_in_state(context)  # the card expired: this turn starts afresh
            pending = None
        if pending is None:
            if activity.type == ActivityTypes.invoke:
                await self._answer_without_sign_in(context)
                return _SKIP
            return await super()._on_turn_auth_intercept(context, state)
        if activity.type == ActivityTypes.message:
            text = (activity.text or "").strip()
            command = text.split(maxsplit=1)[0].lower().lstrip("/") if text else ""
            if command in SIGN_OUT_COMMANDS:
                return _AuthInterceptResult(should_skip_turn=False, should_replay=False)  # /logout runs and ends it
            if text.lower() in CANCEL_WORDS:
                await self.sign_out(context, pending.active_handler_id)  # ends the SDK's flow too
                await context.send_activity(CANCELLED)
                return _SKIP
            if not MAGIC_CODE.match(text):
                context.turn_state[_ASKED_AGAIN] = pending.active_handler_id  # see _sign_in_afresh
                return _RUN
        elif activity.name == SIGN_IN_FAILURE:
            await self.sign_out(context, pending.active_handler_id)
            await context.send_activity(FAILED.format(reason=_failure_reason(activity.value)))
            await answer_invoke(context, 200)
            return _SKIP
        elif activity.name == TOKEN_EXCHANGE:
            return await self._token_exchange(context, state, self._connection_name(pending.active_handler_id))
        elif activity.name == VERIFY_STATE:
            return await self._verify_state(context, state)
        result = await super()._on_turn_auth_intercept(context, state)
        if activity.type == ActivityTypes.message and not result.should_replay:
            still_pending = await self._load_sign_in_state(context)
            if still_pending is not None:
                # The SDK stores the code's message as the activity to replay; the command the user asked for stays.
                still_pending.continuation_activity = pending.continuation_activity
                await self._save_sign_in_state(context, still_pending)
                await context.send_activity(WRONG_CODE)
        return result

    async def _token_exchange(self, context: TurnContext, state: TurnState, connection: str) -> _AuthInterceptResult:
        """Teams SSO, answered as botbuilder's `OAuthPrompt` does: 400 with a `TokenExchangeInvokeResponse` for a value
        that is no exchange request or names another connection; 412 with one when the token service will not exchange
        the token (consent missing, or a token it refuses), so Teams falls back to the sign-in card; 200 once signed
        in. https://learn.microsoft.com/en-us/dotnet/api/microsoft.teams.apps.oauth.tokenexchangeinvokeresponse"""
        request = _token_exchange_request(context.activity.value)
        if request is None or request.connection_name != connection:
            log.info("signin/tokenExchange refused: %s", "malformed value" if request is None else "other connection")
            detail = EXCHANGE_MALFORMED if request is None else EXCHANGE_OTHER_CONNECTION
            await _answer_exchange(context, 400, connection, request.id if request else None, detail)
            return _SKIP
        if not await self._claim_exchange(context):
            await answer_invoke(context, 200)  # another client's request for this sign-in is being processed
            return _SKIP
        try:
            result = await super()._on_turn_auth_intercept(context, state)
        except ClientResponseError:  # the token service refused the token (its own faults are `ServiceFault`s)
            result = _SKIP
        if not result.should_replay:  # not signed in: Teams shows the sign-in card, and may retry the same id
            await _answer_exchange(context, 412, connection, request.id, EXCHANGE_FAILED)
            await self._storage.delete([_exchange_claim_key(context)])
        return result

    async def _verify_state(self, context: TurnContext, state: TurnState) -> _AuthInterceptResult:
        """The code from Teams' sign-in popup: 400 for a value without a state string, 404 when the token service has
        no token for it (as botbuilder's `OAuthPrompt` answers), 200 once signed in."""
        value = context.activity.value
        code = value.get("state") if isinstance(value, dict) else None
        if not isinstance(code, str) or not 0 < len(code) <= MAX_STATE_LENGTH:
            log.info("signin/verifyState refused: its value has no state string of at most %d characters",
                     MAX_STATE_LENGTH)
            await answer_invoke(context, 400)
            return _SKIP
        result = await super()._on_turn_auth_intercept(context, state)
        if context.turn_state.get(ChannelAdapter.INVOKE_RESPONSE_KEY) is None:
            await answer_invoke(context, 404)
        return result

    async def _answer_without_sign_in(self, context: TurnContext) -> None:
        """A sign-in invoke with no sign-in in progress (it expired, or was cancelled), and nothing exchanged or
        redeemed: a token exchange gets 412 so Teams falls back to the sign-in card; a code has no sign-in to finish
        (404); Teams reporting a failed sign-in is acknowledged (200)."""
        activity = context.activity
        if activity.name == TOKEN_EXCHANGE and await self._exchange_was_claimed(context):
            await answer_invoke(context, 200)  # another client's request (on any instance) signed this user in
            return
        log.info("%s with no sign-in in progress", activity.name)
        if activity.name == TOKEN_EXCHANGE:
            request = _token_exchange_request(activity.value)
            await _answer_exchange(context, 412, self._connection_name(self.teams_handler_ids[0]),
                                   request.id if request else None, NO_SIGN_IN)
        else:
            await answer_invoke(context, 404 if activity.name == VERIFY_STATE else 200)

    def _connection_name(self, handler_id: str) -> str:
        return self._handler_settings[handler_id].abs_oauth_connection_name

    async def _flow_is_open(self, context: TurnContext, handler_id: str) -> bool:
        """Whether the SDK's OAuth flow behind a pending sign-in can still complete (it expires, our state does not)."""
        flow = await _flows(context, self._storage).read(handler_id)
        return flow is not None and flow.is_active()

    async def _exchange_was_claimed(self, context: TurnContext) -> bool:
        """Whether this very exchange was taken by another request: Teams sends one per open client, and the first may
        have finished the sign-in before this one is read."""
        key = _exchange_claim_key(context)
        claim = (await self._storage.read([key], target_cls=_ExchangeClaim)).get(key)
        return claim is not None and claim.exchange_id == _exchange_id(context)

    async def _claim_exchange(self, context: TurnContext) -> bool:
        """True for the first caller with this exchange id: a conditional write in storage, so every instance sharing
        it agrees. The user's one claim item holds the latest id, so claims do not pile up."""
        key, exchange_id = _exchange_claim_key(context), _exchange_id(context)
        for _ in range(CLAIM_ATTEMPTS):
            claim = (await self._storage.read([key], target_cls=_ExchangeClaim)).get(key)
            if claim is None:
                claim = _ExchangeClaim(exchange_id)
            elif claim.exchange_id == exchange_id:
                return False
            claim.exchange_id = exchange_id  # written over the version read, or only if still absent
            try:
                await self._storage.write({key: claim})
                return True
            except StorageConflict:
                continue  # another instance claimed at the same moment: see which exchange it took
        raise StorageConflict(key)


def _flows(context: TurnContext, storage: Storage) -> _FlowStorageClient:
    """The SDK's OAuth flow states of this user on this channel, one per handler."""
    return _FlowStorageClient(context.activity.channel_id or "", context.activity.from_property.id, storage)


def _exchange_id(context: TurnContext) -> str:
    value = context.activity.value if isinstance(context.activity.value, dict) else {}
    return str(value.get("id") or context.activity.id)


def _exchange_claim_key(context: TurnContext) -> str:
    return f"auth/tokenExchange/{context.activity.channel_id}/{context.activity.from_property.id}"


def _failure_reason(value: Any) -> str:
    message = value.get("message") if isinstance(value, dict) else None
    return f": {message}" if isinstance(message, str) and message.strip() else ""


def _token_exchange_request(value: Any) -> TokenExchangeInvokeRequest | None:
    """`value` as a token exchange request with a token and a connection name, else None."""
    if not isinstance(value, dict):
        return None
    try:
        request = TokenExchangeInvokeRequest.model_validate(value)
    except ValidationError:
        return None
    return request if request.token and request.connection_name else None


async def answer_invoke(context: TurnContext, status: int, body: Any = None) -> None:
    response = InvokeResponse(status=status, body=body) if body is not None else InvokeResponse(status=status)
    await context.send_activity(Activity(type=ActivityTypes.invoke_response,
                                         value=response.model_dump(exclude_unset=True)))


async def _answer_exchange(context: TurnContext, status: int, connection: str, request_id: str | None,
                           detail: str) -> None:
    """A `TokenExchangeInvokeResponse` body as Teams reads it (camelCase, as the SDK's own 412 does not write it)."""
    body = TokenExchangeInvokeResponse(connection_name=connection, failure_detail=detail)
    if request_id:
        body.id = request_id
    await answer_invoke(context, status, body.model_dump(by_alias=True, exclude_none=True))
