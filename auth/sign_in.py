"""The sign-in conversation, owned here and spoken to the token service through the SDK's public `UserTokenClient`.

A user is in one of three states for each Teams handler: not signed in; a sign-in card sent for a command (a
`PendingSignIn` in storage, the one record of ours); signed in (the token service holds the token, so nothing of ours
is stored and a sign-out on any instance counts on the next turn). Copilot Studio's connector needs no conversation:
its bearer is the user's token, exchanged on-behalf-of through the connection's MSAL app.

Around that the user gets:
- a sign-in card that says what they sign in to and why: the card is passed in, worded by the handler's TEXT and
  TITLE settings when they are set;
- after signing in (a magic code typed, `signin/verifyState`, or Teams SSO's `signin/tokenExchange`), the command
  they asked for runs, as a new turn of the same conversation;
- asking again while a card is out (it scrolled away, the page was reloaded) gets a fresh card and a hint, and the
  newest command is the one that runs after sign-in; a message that needs no sign-in (`help`) is simply answered and
  the card stays; `cancel` ends the sign-in, `/logout` still signs out; a card past its life is dropped, so the next
  command starts afresh;
- two turns racing on the same sign-in (a double click) get the pending hint, not an error;
- a wrong code gets a readable answer and keeps the command; the third ends the sign-in; `signin/failure` gets a
  readable answer too;
- Teams sends one `signin/tokenExchange` per open client for the same sign-in: only the first is processed, claimed in
  storage so the claim holds for every instance that shares it (one item per user, which the next sign-in replaces);
- the sign-in invokes get the statuses Teams expects (see `_token_exchange` and `_verify_state`), with or without a
  sign-in in progress, and any other invoke is left to the routes even during a sign-in (a card's action, say);
- sign-out covers every Teams handler;
- a Copilot Studio token that cannot be exchanged gets a plain answer instead of a failed turn.

The SDK's own `Authorization` stays in the application without handlers, so it never intercepts a turn.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Callable, Coroutine, Mapping, MutableMapping
from typing import Any

from aiohttp import ClientResponseError
from microsoft_agents.activity import (
    ActionTypes,
    Activity,
    ActivityTypes,
    CardAction,
    InvokeResponse,
    OAuthCard,
    SignInConstants,
    SignInResource,
    TokenExchangeInvokeRequest,
    TokenExchangeInvokeResponse,
    TokenExchangeRequest,
    TokenResponse,
)
from microsoft_agents.hosting.core import (
    AgentApplication,
    AuthHandler,
    CardFactory,
    Connections,
    StoreItem,
    TurnContext,
    TurnState,
    UserTokenClientBase,
)
from msal.exceptions import MsalServiceError
from pydantic import AliasChoices, BaseModel, Field, ValidationError

from state import ConcurrentStorage, StorageConflict
from turn import deadline
from turn.retry import Backoff, retried

from .connections import is_connector_request

log = logging.getLogger(__name__)

MAGIC_CODE = re.compile(r"^\d{6}$")
CANCEL_WORDS = {"cancel", "/cancel", "stop"}
SIGN_OUT_COMMANDS = ("logout", "signout", "sign-out")
CONNECTOR_HANDLER_TYPE = "connectoruserauthorization"
TEAMS_HANDLER_TYPE = "userauthorization"
CLAIM_BACKOFF = Backoff(3, wait_initial=0.0, wait_max=0.0)
"""An exchange is claimed in three tries at most, each straight after the conflict that ended the one before."""
CODE_ATTEMPTS = 3
"""Wrong codes a sign-in takes before it ends, as the SDK's flow allowed: a code is six digits, so guessing is slow."""
CARD_SECONDS = 10 * 60
"""How long a sign-in card stays good, as long as the SDK's own flow lasted."""

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
TOO_MANY_CODES = ": three codes didn't work"
CONNECTOR_TOKEN_REFUSED = (
    "I can't use the Microsoft 365 token Copilot Studio sent for you: it has expired or been revoked, was not issued "
    "for this agent, or could not be exchanged for Microsoft Graph. Reconnect your Microsoft 365 connection in Copilot "
    "Studio, or ask your admin to check the agent's consent."
)
"""What a Copilot Studio connector user is told when their token cannot serve: Entra would not exchange it, or
Microsoft Graph rejected what it was exchanged for."""

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

_ASKED_AGAIN = "agent.sign_in.asked_again"
"""Turn-state key: this message came while a sign-in was pending, so a route that needs sign-in starts it afresh."""
_NO_SIGN_IN_STATE = "agent.sign_in.none_stored"
"""Turn-state key: this turn found no pending sign-in in storage and wrote none since."""
_TOKEN = "agent.sign_in.token:"
"""Turn-state key prefix: the user's token for a handler, got this turn (and carried into the command run after
sign-in), so a route does not ask the token service or Entra for it twice."""

SignInCard = Callable[[SignInResource, str, str, str], Activity]
"""The sign-in card's activity from the token service's sign-in resource, the connection's name, and the handler's
TEXT and TITLE settings (either may be empty)."""


def oauth_card(resource: SignInResource, connection_name: str, text: str, title: str) -> Activity:
    """The protocol's own OAuthCard, for an agent that passes no card of its own."""
    card = OAuthCard(text=text or "Sign in", connection_name=connection_name,
                     buttons=[CardAction(title=title or "Sign in", type=ActionTypes.signin,
                                         value=resource.sign_in_link)],
                     token_exchange_resource=resource.token_exchange_resource,
                     token_post_resource=resource.token_post_resource)
    return Activity(type=ActivityTypes.message, attachments=[CardFactory.oauth_card(card)])


class PendingSignIn(BaseModel, StoreItem):
    """A sign-in card sent for a command, under `auth/{channelId}/{userId}/{handlerId}`.

    The fields keep the names of the SDK's flow state at that key (`auth_handler_id`, `connection`, `expiration`,
    `attempts_remaining`, `continuation_activity`); the handler is also read under the SDK sign-in state's name,
    `active_handler_id`."""

    active_handler_id: str = Field(validation_alias=AliasChoices("auth_handler_id", "active_handler_id"),
                                   serialization_alias="auth_handler_id")
    connection: str = ""
    expiration: float = 0.0
    """When the card stops being good, in seconds since the epoch."""
    attempts_remaining: int = CODE_ATTEMPTS
    continuation_activity: Activity | None = None
    """The command to run once signed in."""

    def is_open(self) -> bool:
        return time.time() < self.expiration and self.attempts_remaining > 0

    def store_item_to_json(self) -> MutableMapping[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @staticmethod
    def from_json_to_store_item(json_data: MutableMapping[str, Any]) -> PendingSignIn:
        return PendingSignIn.model_validate(json_data)


class _ExchangeClaim(StoreItem):
    """The user's `signin/tokenExchange` taken last, by whichever instance processes it."""

    def __init__(self, exchange_id: str) -> None:
        self.exchange_id = exchange_id

    def store_item_to_json(self) -> MutableMapping[str, Any]:
        return {"exchangeId": self.exchange_id}

    @staticmethod
    def from_json_to_store_item(json_data: MutableMapping[str, Any]) -> _ExchangeClaim:
        return _ExchangeClaim(str(json_data.get("exchangeId", "")))


class AgentAuthorization:
    """The sign-in service: a user's token for a handler, or the sign-in conversation that gets it.

    Handlers are the SDK's configuration (`AGENTAPPLICATION__USERAUTHORIZATION__HANDLERS__<ID>__…`), read into the
    SDK's public `AuthHandler`; `attach` puts the conversation in front of an application's routes."""

    def __init__(self, storage: ConcurrentStorage, connection_manager: Connections,
                 sign_in_card: SignInCard = oauth_card, **config: Any) -> None:
        self._storage = storage  # conditional writes: the pending sign-in and the exchange claim need them
        self._connections = connection_manager
        self._card = sign_in_card
        handlers = config.get("AGENTAPPLICATION", {}).get("USERAUTHORIZATION", {}).get("HANDLERS") or {}
        self._handlers = {name: AuthHandler(name=name, auth_type=settings.get("TYPE", ""),
                                            **settings.get("SETTINGS", {}))
                          for name, settings in handlers.items()}
        for name, handler in self._handlers.items():
            if handler.auth_type not in (TEAMS_HANDLER_TYPE, CONNECTOR_HANDLER_TYPE):
                raise ValueError(f"Sign-in handler {name} has TYPE {handler.auth_type!r}: the agent signs users in "
                                 "with UserAuthorization (Teams) or ConnectorUserAuthorization (Copilot Studio).")
        # the handlers that sign a user in through Bot Service: a pending sign-in and sign-out concern these
        self._teams = [handler for handler in self._handlers.values() if handler.auth_type == TEAMS_HANDLER_TYPE]
        self._run_turn: Callable[[TurnContext], Coroutine[Any, Any, None]] | None = None
        self._replays: set[asyncio.Task[None]] = set()

    def attach(self, app: AgentApplication[Any]) -> None:
        """Answer sign-in input before `app`'s routes, and run each signed-in command as a turn of `app`."""
        app.before_turn(self._before_turn)
        self._run_turn = app.on_turn

    # ── a route's token ─────────────────────────────────────────────────────────────────────────────────────────────

    async def sign_in(self, context: TurnContext, handler_id: str) -> str | None:
        """The user's token for `handler_id`, or None once the user was answered instead: sent a sign-in card (the
        command runs after sign-in), the pending hint, or why Copilot Studio's token cannot be used."""
        handler = self._handlers[handler_id]
        if handler.auth_type == CONNECTOR_HANDLER_TYPE:
            token = await self._connector_token(context, handler)
            if token is None:
                await context.send_activity(CONNECTOR_TOKEN_REFUSED)
            return token
        cached = context.turn_state.get(_TOKEN + handler_id)
        if isinstance(cached, str):
            return cached
        try:
            return await self._token_or_card(context, handler)
        except StorageConflict:  # another turn of this user's is starting or finishing a sign-in right now
            await context.send_activity(PENDING_HINT)
            return None

    async def stored_token(self, context: TurnContext, handler_id: str) -> str | None:
        """The user's token without any prompt (a skill's caller cannot show a card): the token service's stored
        token, or Copilot Studio's exchanged; None when there is none."""
        handler = self._handlers[handler_id]
        if handler.auth_type == CONNECTOR_HANDLER_TYPE:
            return await self._connector_token(context, handler)
        activity = context.activity
        response = await _token_client(context).get_user_token(
            activity.from_property.id, handler.abs_oauth_connection_name, activity.channel_id or "")
        return await self._on_behalf_of(handler, response.token) if response.token else None

    async def _token_or_card(self, context: TurnContext, handler: AuthHandler) -> str | None:
        activity = context.activity
        asked_again = context.turn_state.pop(_ASKED_AGAIN, False)
        if asked_again:
            await self._delete_sign_in_state(context)  # the pending card is ended: this command replaces its command
        found = await _token_client(context).get_token_or_sign_in_resource(handler.abs_oauth_connection_name, activity)
        if found.token_response is not None and found.token_response.token:
            return await self._signed_in(context, handler, found.token_response.token)
        if found.sign_in_resource is None:
            raise ValueError("the token service answered with neither a token nor a sign-in resource")
        await self._save_sign_in_state(context, PendingSignIn(
            active_handler_id=handler.name, connection=handler.abs_oauth_connection_name,
            expiration=time.time() + CARD_SECONDS, continuation_activity=activity))
        await context.send_activity(self._card(found.sign_in_resource, handler.abs_oauth_connection_name,
                                               handler.text, handler.title))
        if asked_again:
            await context.send_activity(ASKED_AGAIN_HINT)
        return None

    async def _signed_in(self, context: TurnContext, handler: AuthHandler, token: str) -> str:
        """The token the route uses (exchanged on-behalf-of when the handler says so), kept for the rest of the turn."""
        token = await self._on_behalf_of(handler, token)
        context.turn_state[_TOKEN + handler.name] = token
        return token

    async def _on_behalf_of(self, handler: AuthHandler, token: str) -> str:
        """A Teams handler's token as is, or exchanged through MSAL's on-behalf-of when the handler names a connection
        and scopes and the token can be exchanged (as the SDK's handler does)."""
        if not (handler.obo_connection_name and handler.scopes and TokenResponse(token=token).is_exchangeable()):
            return token
        connection = self._connections.get_connection(handler.obo_connection_name)
        return await connection.acquire_token_on_behalf_of(scopes=handler.scopes, user_assertion=token)

    async def _connector_token(self, context: TurnContext, handler: AuthHandler) -> str | None:
        """Copilot Studio's bearer (checked on admission, `auth/incoming.py`), exchanged on-behalf-of for the
        handler's scopes; None when it cannot be: not issued to be exchanged, or refused by Entra. Entra's own faults
        (busy, down) are raised, for the turn's fault answer."""
        assertion = context.identity.security_token if context.identity is not None else None
        if not assertion:
            return None
        if not (handler.obo_connection_name and handler.scopes):
            return assertion
        if not TokenResponse(token=assertion).is_exchangeable():
            log.warning("Copilot Studio's token was not issued to be exchanged")
            return None
        connection = self._connections.get_connection(handler.obo_connection_name)
        try:
            return await connection.acquire_token_on_behalf_of(scopes=handler.scopes, user_assertion=assertion)
        except (ValueError, MsalServiceError) as error:  # how MSAL (through the SDK) reports a refused assertion
            log.warning("Copilot Studio's token was refused by Entra (%s)", type(error).__name__)
            return None

    # ── sign-out ────────────────────────────────────────────────────────────────────────────────────────────────────

    async def sign_out_everywhere(self, context: TurnContext) -> None:
        """Every Teams handler's token dropped at the token service, and any pending sign-in ended."""
        activity = context.activity
        client = _token_client(context)
        for handler in self._teams:
            context.turn_state.pop(_TOKEN + handler.name, None)
            await client.sign_out_user(activity.from_property.id, handler.abs_oauth_connection_name,
                                       activity.channel_id or "")
        await self._delete_sign_in_state(context)

    # ── the pending sign-in, read from storage once a turn ──────────────────────────────────────────────────────────

    def _pending_keys(self, context: TurnContext) -> list[str]:
        return [_pending_key(context, handler.name) for handler in self._teams]

    async def _load_sign_in_state(self, context: TurnContext) -> PendingSignIn | None:
        """The user's pending sign-in. A turn that found none does not ask storage again (with Blob storage each ask is
        a round trip) until it saves one."""
        if context.turn_state.get(_NO_SIGN_IN_STATE) or not self._teams:
            return None
        found = await self._storage.read(self._pending_keys(context), target_cls=PendingSignIn)
        pending = next(iter(found.values()), None)
        if pending is None:
            context.turn_state[_NO_SIGN_IN_STATE] = True
        return pending

    async def _save_sign_in_state(self, context: TurnContext, pending: StoreItem) -> None:
        """Written over the version read, or only if none is stored: `StorageConflict` when another turn got there
        first. The SDK's own sign-in state (a handler and a command) is taken as a new pending sign-in."""
        if not isinstance(pending, PendingSignIn):
            pending = PendingSignIn.from_json_to_store_item(pending.store_item_to_json())
        context.turn_state.pop(_NO_SIGN_IN_STATE, None)
        await self._storage.write({_pending_key(context, pending.active_handler_id): pending})

    async def _delete_sign_in_state(self, context: TurnContext) -> None:
        if context.turn_state.get(_NO_SIGN_IN_STATE) or not self._teams:
            return
        await self._storage.delete(self._pending_keys(context))
        context.turn_state[_NO_SIGN_IN_STATE] = True

    # ── sign-in input, before the routes ────────────────────────────────────────────────────────────────────────────

    async def _before_turn(self, context: TurnContext, _state: TurnState) -> bool:
        """False when the turn was sign-in input and is answered; True leaves it to the routes."""
        activity = context.activity
        if activity.type not in (ActivityTypes.message, ActivityTypes.invoke):
            return True
        if activity.type == ActivityTypes.invoke and activity.name not in SIGN_IN_INVOKES:
            return True  # no sign-in input, even during a sign-in: the routes answer it
        if is_connector_request(context):  # its token comes with each request: no sign-in is ever pending
            if activity.type == ActivityTypes.invoke:
                await self._answer_without_sign_in(context)
            return activity.type == ActivityTypes.message
        try:
            return await self._intercept(context)
        except StorageConflict:
            await context.send_activity(PENDING_HINT)
            return False

    async def _intercept(self, context: TurnContext) -> bool:
        activity = context.activity
        pending = await self._load_sign_in_state(context)
        if pending is not None and not pending.is_open():
            await self._delete_sign_in_state(context)  # the card expired: this turn starts afresh
            pending = None
        if pending is None:
            if activity.type == ActivityTypes.invoke:
                await self._answer_without_sign_in(context)
                return False
            return True
        if activity.type == ActivityTypes.message:
            text = (activity.text or "").strip()
            command = text.split(maxsplit=1)[0].lower().lstrip("/") if text else ""
            if command in SIGN_OUT_COMMANDS:
                return True  # /logout runs and ends it
            if text.lower() in CANCEL_WORDS:
                await self.sign_out_everywhere(context)
                await context.send_activity(CANCELLED)
                return False
            if not MAGIC_CODE.match(text):
                context.turn_state[_ASKED_AGAIN] = True  # see _token_or_card
                return True
            if not await self._redeem(context, pending, text):
                await context.send_activity(WRONG_CODE if pending.is_open() else FAILED.format(reason=TOO_MANY_CODES))
            return False
        if activity.name == SIGN_IN_FAILURE:
            await self.sign_out_everywhere(context)
            await context.send_activity(FAILED.format(reason=_failure_reason(activity.value)))
            await answer_invoke(context, 200)
        elif activity.name == TOKEN_EXCHANGE:
            await self._token_exchange(context, pending)
        else:
            await self._verify_state(context, pending)
        return False

    async def _redeem(self, context: TurnContext, pending: PendingSignIn, code: str) -> bool:
        """Whether the token service gave the token for `code`; a wrong code uses one of the sign-in's attempts."""
        activity = context.activity
        response = await _token_client(context).get_user_token(activity.from_property.id, pending.connection,
                                                               activity.channel_id or "", magic_code=code)
        if response.token:
            await self._complete(context, pending, response.token)
            return True
        pending.attempts_remaining -= 1
        if pending.is_open():
            await self._save_sign_in_state(context, pending)
        else:
            await self._delete_sign_in_state(context)
        return False

    async def _complete(self, context: TurnContext, pending: PendingSignIn, token: str) -> None:
        """Signed in: the pending sign-in ends, an invoke gets 200, and the command it was for runs as a new turn."""
        await self._delete_sign_in_state(context)
        token = await self._signed_in(context, self._handlers[pending.active_handler_id], token)
        if context.activity.type == ActivityTypes.invoke:
            await answer_invoke(context, 200)
        if pending.continuation_activity is not None:
            self._replay(context, pending.continuation_activity, {_TOKEN + pending.active_handler_id: token})

    def _replay(self, context: TurnContext, command: Activity, turn_state: Mapping[str, Any]) -> None:
        """Run `command` as a turn of the application, after this one has answered (an invoke's caller waits)."""
        run_turn, identity = self._run_turn, context.identity
        if run_turn is None or identity is None:
            log.error("the command a sign-in was for cannot run: no application attached or no identity")
            return

        async def turn(replayed: TurnContext) -> None:
            replayed.turn_state.update(turn_state)
            await run_turn(replayed)

        task = asyncio.create_task(context.adapter.continue_conversation_with_claims(identity, command, turn))
        self._replays.add(task)
        task.add_done_callback(self._replayed)

    def _replayed(self, task: asyncio.Task[None]) -> None:
        self._replays.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("the command run after sign-in failed", exc_info=task.exception())

    async def _token_exchange(self, context: TurnContext, pending: PendingSignIn) -> None:
        """Teams SSO, answered as botbuilder's `OAuthPrompt` does: 400 with a `TokenExchangeInvokeResponse` for a value
        that is no exchange request or names another connection; 412 with one when the token service will not exchange
        the token (consent missing, or a token it refuses), so Teams falls back to the sign-in card; 200 once signed
        in. https://learn.microsoft.com/en-us/dotnet/api/microsoft.teams.apps.oauth.tokenexchangeinvokeresponse"""
        connection = pending.connection
        request = _token_exchange_request(context.activity.value)
        if request is None or request.connection_name != connection:
            log.info("signin/tokenExchange refused: %s", "malformed value" if request is None else "other connection")
            detail = EXCHANGE_MALFORMED if request is None else EXCHANGE_OTHER_CONNECTION
            await _answer_exchange(context, 400, connection, request.id if request else None, detail)
            return
        if not await self._claim_exchange(context):
            await answer_invoke(context, 200)  # another client's request for this sign-in is being processed
            return
        activity = context.activity
        try:
            response = await _token_client(context).exchange_token(
                activity.from_property.id, connection, activity.channel_id or "",
                TokenExchangeRequest(token=request.token))
        except ClientResponseError as error:  # the token service refused it (its own faults are `ServiceFault`s)
            log.info("signin/tokenExchange refused by the token service (%d)", error.status)
            response = TokenResponse()
        if response.token:
            await self._complete(context, pending, response.token)
            return
        await _answer_exchange(context, 412, connection, request.id, EXCHANGE_FAILED)  # Teams may retry this id
        await self._storage.delete([_exchange_claim_key(context)])

    async def _verify_state(self, context: TurnContext, pending: PendingSignIn) -> None:
        """The code from Teams' sign-in popup: 400 for a value without a state string, 404 when the token service has
        no token for it (as botbuilder's `OAuthPrompt` answers), 200 once signed in."""
        value = context.activity.value
        code = value.get("state") if isinstance(value, dict) else None
        if not isinstance(code, str) or not 0 < len(code) <= MAX_STATE_LENGTH:
            log.info("signin/verifyState refused: its value has no state string of at most %d characters",
                     MAX_STATE_LENGTH)
            await answer_invoke(context, 400)
            return
        if not await self._redeem(context, pending, code):
            await answer_invoke(context, 404)

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
            ours = [handler.abs_oauth_connection_name for handler in self._teams]
            named = request.connection_name if request and request.connection_name in ours else None
            connection = named or next(iter(ours), "")
            await _answer_exchange(context, 412, connection, request.id if request else None, NO_SIGN_IN)
        else:
            await answer_invoke(context, 404 if activity.name == VERIFY_STATE else 200)

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

        async def claim_once() -> bool:
            claim = (await self._storage.read([key], target_cls=_ExchangeClaim)).get(key)
            if claim is None:
                claim = _ExchangeClaim(exchange_id)
            elif claim.exchange_id == exchange_id:
                return False
            claim.exchange_id = exchange_id  # written over the version read, or only if still absent
            await self._storage.write({key: claim})
            return True

        # A conflict is another instance claiming at the same moment: read again at once to see which exchange it took.
        return await retried(claim_once, when=lambda error: isinstance(error, StorageConflict),
                             left=lambda: deadline.work_left(math.inf), backoff=CLAIM_BACKOFF)


def _token_client(context: TurnContext) -> UserTokenClientBase:
    """The token service's client the adapter made for this turn."""
    client = context.services.get(UserTokenClientBase)
    if client is None:
        raise RuntimeError("this turn has no token service client")
    return client


def _pending_key(context: TurnContext, handler_id: str) -> str:
    return f"auth/{context.activity.channel_id}/{context.activity.from_property.id}/{handler_id}"


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
    """A `TokenExchangeInvokeResponse` body as Teams reads it (camelCase); none without a connection to name (the agent
    has no Teams handler)."""
    if not connection:
        await answer_invoke(context, status)
        return
    body = TokenExchangeInvokeResponse(connection_name=connection, failure_detail=detail)
    if request_id:
        body.id = request_id
    await answer_invoke(context, status, body.model_dump(by_alias=True, exclude_none=True))
