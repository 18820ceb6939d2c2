"""What a person does in the browser during a local sign-in, for scripts and tests without a browser.

It follows a sign-in link to the local sign-in page, picks a user, presses Accept (or Cancel) and reads the 6-digit
code the token service shows, exactly through the pages a browser gets (no JavaScript is involved). The sign-in page is
https, as Entra's is: the caller names the local cloud's CA (`EXTRA_CA_FILE`) to trust, as a browser would be told to.
"""

from __future__ import annotations

import re
import ssl
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import aiohttp

_MAGIC_CODE = re.compile(r'data-testid="magic-code"[^>]*>\s*(\d{6})\s*<')


class _SignInForm(HTMLParser):
    """The sign-in page's form: its action, hidden fields, and the name/value behind each `data-testid` choice."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.hidden: dict[str, str] = {}
        self.choices: dict[str, tuple[str, str]] = {}
        self._label: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.action = attributes.get("action", "")
        elif tag == "label":
            self._label = attributes.get("data-testid")
        elif tag == "input" and attributes.get("type") == "hidden":
            self.hidden[attributes["name"]] = attributes.get("value", "")
        elif tag == "input" and attributes.get("type") == "radio" and self._label:
            self.choices[self._label] = (attributes["name"], attributes.get("value", ""))
        elif tag == "button" and "data-testid" in attributes:
            self.choices[attributes["data-testid"]] = (attributes["name"], attributes.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label = None


async def sign_in_over_http(link: str, user: str = "adele", choice: str = "accept", *,
                            ca_file: str | Path) -> tuple[int, str]:
    """Follow the sign-in link, pick `user` and press `choice` (accept or cancel); the last page's status and HTML.
    `ca_file` is the only CA trusted for the https pages."""
    trust = ssl.create_default_context(cafile=str(ca_file))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust)) as session:
        async with session.get(link) as response:
            if response.status != 200:
                return response.status, await response.text()
            url, form = str(response.url), _SignInForm()
            form.feed(await response.text())
        data = dict(form.hidden)
        for test_id in (f"user-{user}", choice):
            name, value = form.choices[test_id]
            data[name] = value
        async with session.post(urljoin(url, form.action), data=data) as response:
            return response.status, await response.text()


def magic_code(page: str) -> str:
    """The 6-digit code on the token service's final page."""
    found = _MAGIC_CODE.search(page)
    if not found:
        raise ValueError("the page shows no magic code")
    return found.group(1)


async def magic_code_for(link: str, user: str = "adele", *, ca_file: str | Path) -> str:
    """Sign `user` in through `link` and return the code to type into the chat."""
    status, page = await sign_in_over_http(link, user, ca_file=ca_file)
    if status != 200:
        raise ValueError(f"the sign-in ended with HTTP {status}")
    return magic_code(page)
