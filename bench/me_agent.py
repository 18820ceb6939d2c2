"""A hand-written `/me` agent in the style of Microsoft's auto-signin sample (profile only), for the turn benchmark.

    python -m bench.me_agent --env-file PATH       (PORT from the environment)

As `samples/python/auto-signin/src/agent.py` does: a `/me` route behind the `GRAPH` handler that asks for the token
again with `auth.get_token`, one `GET /v1.0/me` with aiohttp, and an Adaptive Card of the answer. One change makes it
a stronger baseline, not a weaker one: it keeps one aiohttp session for the process (the sample opens a new one, with
a new TLS handshake, for every call).
"""

from __future__ import annotations

import re
from typing import Any

import aiohttp
from aiohttp import web
from microsoft_agents.hosting.core import CardFactory, MessageFactory, TurnContext, TurnState

from bench.sdk_sample import build_agent, load_settings, serve

HANDLER = "GRAPH"


def profile_card(profile: dict[str, Any]) -> dict[str, Any]:
    """The sample's card: name, then job title, mail, given name and surname."""
    details = [{"type": "TextBlock", "text": profile.get(key) or "", "spacing": "None"}
               for key in ("jobTitle", "mail", "givenName", "surname")]
    return {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "weight": "Bolder", "text": profile.get("displayName") or ""},
                 {"type": "Container", "spacing": "Small", "items": details}],
    }


def main() -> None:
    agent = build_agent(load_settings(__doc__ or ""))
    me_url = f"{agent.cloud.graph_base_url()}/me"
    sessions: list[aiohttp.ClientSession] = []

    async def open_session(_: web.Application) -> None:
        sessions.append(aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=agent.cloud.ssl_context())))

    async def close_session(_: web.Application) -> None:
        await sessions[0].close()

    async def get_user_info(token: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        async with sessions[0].get(me_url, headers=headers) as response:
            if response.status == 200:
                return await response.json()
            raise RuntimeError(f"Error from Graph API: {response.status}")

    @agent.app.message(re.compile(r"^/(me|profile)$", re.IGNORECASE), auth_handlers=[HANDLER])
    async def profile_request(context: TurnContext, _state: TurnState) -> None:
        token = await agent.app.auth.get_token(context, HANDLER)
        if token and token.token:
            profile = await get_user_info(token.token)
            await context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(profile_card(profile))))
        else:
            await context.send_activity(MessageFactory.text('Token not available. Enter "login" to sign in.'))

    serve(agent, on_startup=open_session, on_cleanup=close_session)


if __name__ == "__main__":
    main()
