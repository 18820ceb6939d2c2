"""Helpers the end-to-end tests share: the agent as its own process, card lookups, and a Teams sign-in."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from localcloud.browser import magic_code_for
from localcloud.client import LocalCloudClient, Recorded, TeamsResult
from localcloud.launcher import free_port, start_agent
from localcloud.tenant import USERS, WITHOUT_MAILBOX

OAUTH_CARD = "application/vnd.microsoft.card.oauth"
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
"""Debian's Chromium headless in a container, making no requests of its own."""


def chromium_trusting(ca_file: str | Path) -> list[str]:
    """`CHROMIUM_ARGS` plus trust in the local cloud's https certificate and nothing else: Chromium is told the SPKI
    hash of the one key the cloud serves with (`server.pem` beside the CA), as a person would accept that one site.
    Certificate errors of any other key still fail, so the page is still checked as https."""
    chain = (Path(ca_file).parent / "server.pem").read_bytes()
    key = x509.load_pem_x509_certificate(chain).public_key()
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    pin = base64.b64encode(hashlib.sha256(spki).digest()).decode()
    return [*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={pin}"]


@dataclass(frozen=True)
class RunningAgent:
    """The agent process's endpoint and its log (where a raised turn shows as `turn failed`)."""

    endpoint: str
    log_file: Path

    def failed_turns(self) -> int:
        return self.log_file.read_text(errors="replace").count("turn failed")


@contextmanager
def agent_with_settings(settings: Mapping[str, str], directory: Path) -> Iterator[RunningAgent]:
    """`python bot.py` on exactly `settings` (written as its env file in `directory`), stopped by PID afterwards."""
    env_file = directory / "agent.env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
    port = free_port()
    process = start_agent(env_file, port, log_file=directory / "agent.log")
    try:
        yield RunningAgent(f"http://127.0.0.1:{port}/api/messages", directory / "agent.log")
    finally:
        process.stop()


def oauth_links(replies: Iterable[Recorded]) -> list[str]:
    """The Sign in links of the OAuthCards among `replies`."""
    return [attachment["content"]["buttons"][0]["value"] for reply in replies for attachment in reply.attachments
            if attachment.get("contentType") == OAUTH_CARD]


def adaptive_cards(replies: Iterable[Recorded]) -> list[dict[str, Any]]:
    return [attachment["content"] for reply in replies for attachment in reply.attachments
            if attachment.get("contentType") == ADAPTIVE_CARD]


def display_name(user: str) -> str:
    return next(known.display_name for known in (*USERS, *WITHOUT_MAILBOX) if known.username == user)


def is_profile_of(user: str) -> Callable[[Recorded], bool]:
    """Whether a reply carries `user`'s profile card (an Adaptive Card naming them)."""
    name = display_name(user)
    return lambda reply: any(name in json.dumps(card) for card in adaptive_cards([reply]))


async def ask_signed_out(client: LocalCloudClient, endpoint: str, user: str, text: str) -> TeamsResult:
    """`text` from a user with no token (another test may have signed them in), so the sign-in card comes back."""
    await client.teams(user, "/logout", agent_endpoint=endpoint)
    return await client.teams(user, text, agent_endpoint=endpoint)


@asynccontextmanager
async def teams_user_signed_in(client: LocalCloudClient, endpoint: str, user: str) -> AsyncIterator[str]:
    """`user` with a token at the token service while the block runs, signed out again after it."""
    await sign_in(client, endpoint, user, [])
    try:
        yield user
    finally:
        await client.teams(user, "/logout", agent_endpoint=endpoint)


async def sign_in(client: LocalCloudClient, endpoint: str, user: str, signed_in: list[str]) -> None:
    """Sign `user` in on Teams with the magic code unless the token service already has a token for them; `user`
    is added to `signed_in` so the caller can sign them out again."""
    sent = await client.teams(user, "/me", agent_endpoint=endpoint)
    links = oauth_links(sent.replies)
    if user not in signed_in:
        signed_in.append(user)
    if not links:
        return
    code = await magic_code_for(links[0], user, ca_file=await client.ca_file())
    typed = await client.teams(user, code, agent_endpoint=endpoint)
    # The profile card, not any reply naming the user (every reply does, as its recipient): the replayed /me has
    # answered, so its stream is closed before the caller starts another one in this chat.
    await client.wait_for_reply(typed.conversation, is_profile_of(user), timeout=15, after=sent.last)
