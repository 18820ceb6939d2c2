"""`make demo`: the local cloud, the agent and the Agents Playground come up together and can chat."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from localcloud.launcher import ChildProcess, free_port
from tools.demo import start_demo

pytestmark = pytest.mark.playground


@pytest.fixture(scope="module")
def playground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    children: list[ChildProcess] = []
    port = free_port()
    try:
        start_demo(tmp_path_factory.mktemp("demo"), free_port(), port, children)
        yield f"127.0.0.1:{port}"
    finally:
        for child in reversed(children):
            child.stop()


async def _say(playground: str, text: str) -> list[dict]:
    """Send `text` as the Playground's current user in the personal chat; return the agent's replies."""
    async with aiohttp.ClientSession() as session:
        config = await (await session.get(f"http://{playground}/_internal/v1/config")).json()
        conversation = config["config"]["personalChat"]["id"]
        user = config["config"]["currentUser"]["id"]
        async with session.ws_connect(f"ws://{playground}/_ws_conversation/v1/conversations/stream") as socket:
            response = await session.post(
                f"http://{playground}/_conversation/v1/conversations/{conversation}/messages",
                json={"from": {"id": user}, "text": text, "textFormat": "plain"},
            )
            assert response.status == 200
            replies = []
            while not replies or not any(reply.get("attachments") for reply in replies):
                message = await asyncio.wait_for(socket.receive(), timeout=20)
                event = json.loads(message.data)
                if event.get("action") == "createMessage" and event["message"]["from"]["id"] != user:
                    replies.append(event["message"])
            return replies


async def test_the_playground_shows_the_agents_help_card_for_hello(playground: str) -> None:
    replies = await _say(playground, "hello")

    cards = [attachment["content"] for reply in replies for attachment in reply.get("attachments", [])]
    assert cards and cards[0]["type"] == "AdaptiveCard"
    assert "/calendar" in json.dumps(cards[0])


def test_the_demo_listens_only_on_loopback(playground: str) -> None:
    port = int(playground.rsplit(":", 1)[1])
    listening = Path("/proc/net/tcp").read_text().splitlines()[1:] + Path("/proc/net/tcp6").read_text().splitlines()[1:]
    local_addresses = {line.split()[1] for line in listening if line.split()[3] == "0A"}
    ours = [address for address in local_addresses if int(address.rsplit(":", 1)[1], 16) == port]
    assert ours and all(address.startswith("0100007F:") for address in ours)
