"""`make demo`: the local cloud, the agent and the Agents Playground come up together, and a person can sign in.

The Playground is driven as a person drives it: messages go in through its automation API, as its current user, in
the personal chat, and the agent's replies are read from the websocket its web UI listens on.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from playwright.async_api import Page, Route, async_playwright, expect

from cards.sign_in import SIGN_IN_BUTTON, SIGN_IN_TEXT
from localcloud.browser import magic_code, sign_in_over_http
from localcloud.client import LocalCloudClient
from localcloud.launcher import ROOT, ChildProcess, CloudProcess, free_port
from localcloud.tenant import USERS
from tests.support import ADAPTIVE_CARD, CHROMIUM_ARGS, OAUTH_CARD, chromium_trusting
from tools.demo import banner, start_demo

pytestmark = pytest.mark.playground

REPLY_SECONDS = 20  # the SDK replays /me after sign-in on its own time

Attachment = dict[str, Any]


@dataclass
class Demo:
    playground: str
    cloud: CloudProcess
    agent_port: int
    children: list[ChildProcess]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    children: list[ChildProcess] = []
    agent_port, port = free_port(), free_port()
    try:
        cloud = start_demo(tmp_path_factory.mktemp("demo"), agent_port, port, children)
        yield Demo(f"127.0.0.1:{port}", cloud, agent_port, children)
    finally:
        for child in reversed(children):
            child.stop()


@dataclass
class Chat:
    """The Playground's personal chat as its current user sees it."""

    session: aiohttp.ClientSession
    socket: aiohttp.ClientWebSocketResponse
    playground: str
    conversation: str
    user: str

    async def send(self, text: str) -> None:
        async with self.session.post(
            f"http://{self.playground}/_conversation/v1/conversations/{self.conversation}/messages",
            json={"from": {"id": self.user}, "text": text, "textFormat": "plain"},
        ) as response:
            assert response.status == 200, await response.text()

    async def attachments_until(self, wanted: Callable[[Attachment], bool]) -> list[Attachment]:
        """The agent's attachments in this chat, up to and including the first `wanted` one (replies may be late)."""
        messages = await self.messages_until(lambda _, message: any(map(wanted, message.get("attachments") or [])))
        seen = [attachment for _, message in messages for attachment in message.get("attachments") or []]
        return seen[:next(index for index, attachment in enumerate(seen) if wanted(attachment)) + 1]

    async def messages_until(self, done: Callable[[str, dict[str, Any]], bool]) -> list[tuple[str, dict[str, Any]]]:
        """The agent's messages in this chat as the web UI gets them, `(action, message)`, up to the first `done` one:
        `createMessage` for a new one, `updateMessage` when a streamed message changes (its final card)."""
        seen: list[tuple[str, dict[str, Any]]] = []
        async with asyncio.timeout(REPLY_SECONDS):
            while not seen or not done(*seen[-1]):
                event = json.loads((await self.socket.receive()).data)
                message = event.get("message") or {}
                if (event.get("action") in ("createMessage", "updateMessage")
                        and event.get("actionConversationId") == self.conversation
                        and message.get("from", {}).get("id") != self.user):
                    seen.append((event["action"], message))
        return seen


@pytest.fixture(scope="module")
async def chat(demo: Demo) -> AsyncIterator[Chat]:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://{demo.playground}/_internal/v1/config") as response:
            config = (await response.json())["config"]
        async with session.ws_connect(f"ws://{demo.playground}/_ws_conversation/v1/conversations/stream") as socket:
            yield Chat(session, socket, demo.playground, config["personalChat"]["id"], config["currentUser"]["id"])


def card_saying(text: str) -> Callable[[Attachment], bool]:
    return lambda attachment: attachment["contentType"] == ADAPTIVE_CARD and text in json.dumps(attachment["content"])


@dataclass
class SignIn:
    link: str
    page: str
    """The HTML of the page the token service shows after Accept."""
    code: str
    after_code: list[Attachment]


@pytest.fixture(scope="module")
async def signed_in(chat: Chat, demo: Demo) -> SignIn:
    """What a person does: "/me", open the card's Sign in link, pick Adele and accept, type the code into the chat."""
    await chat.send("/me")
    oauth_card = (await chat.attachments_until(lambda attachment: attachment["contentType"] == OAUTH_CARD))[-1]
    link = oauth_card["content"]["buttons"][0]["value"]
    status, page = await sign_in_over_http(link, "adele", ca_file=demo.cloud.settings["EXTRA_CA_FILE"])
    assert status == 200, page
    code = magic_code(page)
    await chat.send(code)
    return SignIn(link, page, code, await chat.attachments_until(card_saying("Adele Vance")))


async def test_the_playground_shows_the_agents_help_card_for_hello(chat: Chat) -> None:
    await chat.send("hello")

    card = (await chat.attachments_until(lambda attachment: attachment["contentType"] == ADAPTIVE_CARD))[-1]
    assert card["content"]["type"] == "AdaptiveCard"
    assert "/calendar" in json.dumps(card["content"])


async def test_me_offers_a_sign_in_button_that_opens_the_local_sign_in_page(demo: Demo, signed_in: SignIn) -> None:
    token_service = demo.cloud.settings["TOKEN_SERVICE_ENDPOINT"]

    assert signed_in.link.startswith(f"{token_service}/api/oauth/signin?signin=")


async def test_the_local_sign_in_page_tells_the_person_to_type_its_six_digit_code_into_the_chat(
        signed_in: SignIn) -> None:
    text = " ".join(re.sub(r"<[^>]+>", " ", signed_in.page).split())

    shown = re.search(r"Enter this code in the chat to finish signing in: (\S+)", text)
    assert shown and shown.group(1) == signed_in.code and re.fullmatch(r"\d{6}", shown.group(1))


async def test_typing_the_code_into_the_chat_shows_the_signed_in_users_profile_card(signed_in: SignIn) -> None:
    profile = json.dumps(signed_in.after_code[-1]["content"])

    assert "Adele Vance" in profile
    assert "adele@contoso.onmicrosoft.com" in profile
    assert "Retail Manager" in profile
    assert not any(attachment["contentType"] == OAUTH_CARD for attachment in signed_in.after_code)


async def test_calendar_after_signing_in_answers_without_another_sign_in(chat: Chat, signed_in: SignIn) -> None:
    await chat.send("/calendar")

    replies = await chat.attachments_until(lambda attachment: attachment["contentType"] == ADAPTIVE_CARD)
    assert [attachment["contentType"] for attachment in replies] == [ADAPTIVE_CARD]
    assert "Your calendar" in json.dumps(replies[0]["content"])


async def test_the_playground_shows_the_informative_update_then_the_answer_in_its_place(
        chat: Chat, demo: Demo, signed_in: SignIn) -> None:
    """While Graph takes its time the agent streams; the Playground puts the final message's text in the streamed
    message and shows its card below it."""
    async with LocalCloudClient(demo.cloud.url) as cloud:
        await cloud.add_fault("graph", "/v1.0/*", latency_ms=1500)
        try:
            await chat.send("what's on my calendar tomorrow?")
            messages = await chat.messages_until(lambda _, message: bool(message.get("attachments")))
        finally:
            await cloud.clear_faults()
    (progress,) = [message for _, message in messages
                   if (message.get("streamEntity") or {}).get("streamType") == "informative"]
    updates = [message for action, message in messages if action == "updateMessage"]
    assert progress["text"] == "Reading your calendar…"
    assert [message["messageId"] for message in updates] == [progress["messageId"]]
    assert updates[0]["text"].startswith("Your calendar") and updates[0]["streamEntity"]["streamType"] == "final"
    assert "Your calendar" in json.dumps(messages[-1][1]["attachments"])


async def signed_out(chat: Chat) -> None:
    """Until the agent says the sign-out is done: the Playground hands messages on without waiting for replies."""
    async with asyncio.timeout(REPLY_SECONDS):
        while "signed out" not in ((json.loads((await chat.socket.receive()).data).get("message") or {}).get("text")
                                   or ""):
            pass


async def test_each_seeded_user_sees_their_meetings_in_their_mailboxs_zone(chat: Chat, demo: Demo,
                                                                           signed_in: SignIn) -> None:
    """The Playground stamps every message `localTimezone: UTC`: the agent shows each user's mailbox zone instead."""
    for user in USERS:
        await chat.send("/logout")
        await signed_out(chat)
        await chat.send("/calendar")
        oauth_card = (await chat.attachments_until(lambda attachment: attachment["contentType"] == OAUTH_CARD))[-1]
        status, page = await sign_in_over_http(oauth_card["content"]["buttons"][0]["value"], user.username,
                                               ca_file=demo.cloud.settings["EXTRA_CA_FILE"])
        assert status == 200, page
        await chat.send(magic_code(page))
        calendar = (await chat.attachments_until(card_saying("Your calendar")))[-1]["content"]["fallbackText"]

        assert f"({user.time_zone}):" in calendar, user.username
        assert ("Nothing on your calendar" if user.calendar_empty else "- 11:00–12:00: Q3 budget review") in calendar


@pytest.mark.browser
async def test_the_playground_web_ui_renders_the_help_card_typed_into_its_compose_box(
        demo: Demo, tmp_path: Path) -> None:
    async def loopback_only(route: Route) -> None:
        """Offline, as in CI: the UI's only outside requests are Segoe UI fonts and an animation from the Office CDN."""
        if urlsplit(route.request.url).hostname in {"127.0.0.1", "localhost"}:
            await route.continue_()
        else:
            await route.abort()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.route("**/*", loopback_only)
            await page.goto(f"http://{demo.playground}/")
            help_cards = page.get_by_text("Here is what I can do")
            await _opened(page)
            before = await help_cards.count()

            await _type(page, "help")

            await expect(help_cards).to_have_count(before + 1, timeout=20_000)
            await expect(help_cards.last).to_be_visible()
            await expect(page.get_by_role("button", name="My profile").last).to_be_visible()
            await page.screenshot(path=tmp_path / "playground-help.png")
        finally:
            await browser.close()


@pytest.mark.browser
async def test_a_person_who_reloads_before_signing_in_asks_again_gets_a_fresh_card_and_the_newest_command_runs(
        demo: Demo, tmp_path: Path) -> None:
    async def loopback_only(route: Route) -> None:
        if urlsplit(route.request.url).hostname in {"127.0.0.1", "localhost"}:
            await route.continue_()
        else:
            await route.abort()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(  # the sign-in page is https, with the local cloud's certificate
            executable_path="/usr/bin/chromium", args=chromium_trusting(demo.cloud.settings["EXTRA_CA_FILE"]))
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 900})
            await context.route("**/*", loopback_only)
            page = await context.new_page()
            await page.goto(f"http://{demo.playground}/")
            await _opened(page)
            await _type(page, "/logout")  # signed out, whatever the tests before did
            await expect(page.get_by_text("signed out of Microsoft 365").last).to_be_visible(timeout=20_000)

            await _type(page, "/me")
            await expect(page.get_by_text(SIGN_IN_TEXT)).to_have_count(1, timeout=20_000)
            await page.reload()
            await _opened(page)
            await _type(page, "/calendar")
            await expect(page.get_by_text("Here's a fresh sign-in card").last).to_be_visible(timeout=20_000)
            sign_in_card = page.get_by_text(SIGN_IN_TEXT).last
            await expect(sign_in_card).to_be_visible()
            await page.screenshot(path=tmp_path / "playground-fresh-sign-in-card.png")

            async with page.expect_popup() as opened:
                await page.get_by_text(SIGN_IN_BUTTON, exact=True).last.click()
            sign_in_page = await opened.value
            await sign_in_page.locator('[data-testid="user-megan"]').click()
            await sign_in_page.locator('[data-testid="accept"]').click()
            code = (await sign_in_page.locator('[data-testid="magic-code"]').inner_text(timeout=20_000)).strip()
            await sign_in_page.close()
            await _type(page, code)

            await expect(page.get_by_text("Your calendar").last).to_be_visible(timeout=REPLY_SECONDS * 1000)
            await page.screenshot(path=tmp_path / "playground-calendar-after-sign-in.png")
            await expect(page.get_by_text("Send email")).to_have_count(0)  # no profile card: /calendar was newest
        finally:
            await browser.close()


COMPOSE = '[role=textbox][data-lexical-editor="true"]'


async def _opened(page: Page) -> None:
    """The chat is open and takes text. A one-on-one chat starts empty: the agent sends no welcome there, so that
    Teams can show its prompt starters (`skills/help.py`)."""
    await expect(page.locator(COMPOSE)).to_be_editable(timeout=30_000)


async def _type(page: Page, text: str) -> None:
    compose = page.locator(COMPOSE)
    await compose.click()
    await compose.press_sequentially(text)
    await compose.press("Enter")


LOOPBACK = {"0100007F", "00000000000000000000000001000000", "0000000000000000FFFF00000100007F"}
"""127.0.0.1, ::1 and ::ffff:127.0.0.1 as /proc/net/tcp* spells them."""


def _parent(stat: Path) -> int | None:
    try:
        return int(stat.read_text().rsplit(") ", 1)[1].split()[1])  # after "pid (comm) state"
    except OSError:  # the process ended meanwhile
        return None


def _descendants(pids: set[int]) -> set[int]:
    """`pids` and every process started under them (node may start workers)."""
    parents = {int(stat.parent.name): _parent(stat) for stat in Path("/proc").glob("[0-9]*/stat")}
    found = set(pids)
    while more := {pid for pid, parent in parents.items() if parent in found} - found:
        found |= more
    return found


def _socket_inodes(pid: int) -> set[str]:
    try:
        targets = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
    except OSError:  # the process ended, or closed a descriptor, meanwhile
        return set()
    return {target[len("socket:["):-1] for target in targets if target.startswith("socket:[")}


def test_every_socket_the_demo_listens_on_is_on_loopback(demo: Demo) -> None:
    inodes = set().union(*(_socket_inodes(pid) for pid in _descendants({child.pid for child in demo.children})))
    rows = [line.split() for name in ("tcp", "tcp6") for line in Path(f"/proc/net/{name}").read_text().splitlines()[1:]]
    listening = [row[1].rsplit(":", 1) for row in rows if row[3] == "0A" and row[9] in inodes]
    cloud_ports = {int(port) for value in demo.cloud.settings.values()
                   for port in re.findall(r"https?://127\.0\.0\.1:(\d+)", value)}

    playground_port = int(demo.playground.rsplit(":", 1)[1])
    assert {int(port, 16) for _, port in listening} >= {*cloud_ports, demo.agent_port, playground_port}
    assert {address for address, _ in listening} <= LOOPBACK


def test_the_banner_gives_the_playground_address_the_sign_in_steps_and_every_user() -> None:
    text = banner(56150, "http://127.0.0.1:1")

    assert "http://127.0.0.1:56150" in text
    assert '"Sign in"' in text and "6-digit code" in text and "into the chat" in text
    assert all(user.user_principal_name in text and user.password not in text for user in USERS)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_a_killed_agent_stops_the_demo_with_a_message_naming_it_and_the_last_lines_of_its_log(tmp_path: Path) -> None:
    demo = subprocess.Popen([sys.executable, "-m", "tools.demo", "--state", str(tmp_path)], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PORT": "0", "PLAYGROUND_PORT": "0"})
    try:
        deadline = time.monotonic() + 90
        # The Playground starts once the demo has seen the agent listen: from then on the agent counts as started.
        while not any("cli.js" in _cmdline(pid) for pid in _descendants({demo.pid}) - {demo.pid}):
            assert demo.poll() is None and time.monotonic() < deadline, "the demo's agent never came up"
            time.sleep(0.2)
        children = _descendants({demo.pid}) - {demo.pid}
        [agent] = [pid for pid in children if "bot.py" in _cmdline(pid)]

        os.kill(agent, signal.SIGKILL)
        out, err = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.send_signal(signal.SIGTERM)
            demo.communicate(timeout=30)

    assert demo.returncode == 1
    assert f"The agent (pid {agent}) stopped unexpectedly (killed by SIGKILL)" in err
    assert "agent.log" in err and "Serving on" in err  # the last lines of its log
    assert "Stopping" in out
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists() and "Z" not in _state(pid)]


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[0]
    except OSError:
        return "Z"
