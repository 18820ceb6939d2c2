"""Per-user hints from Graph's earlier answers, so a command can save a round trip."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Generic, TypeVar

T = TypeVar("T")


class KnownHints(Generic[T]):
    """Something Graph said about each user, kept for a while so the next command can skip asking: the zone their
    calendar was last shown in (`/calendar` asks the mailbox again in the same round trip and corrects a stale one),
    their name and UPN (`/files`).

    Keyed by the user's identity from their token (`graph.client.user_key`), never by anything a client sends.
    Bounded."""

    def __init__(self, seconds: float = 3600, size: int = 10_000) -> None:
        self._seconds = seconds
        self._size = size
        self._hints: OrderedDict[str, tuple[T, float]] = OrderedDict()

    def get(self, user: str) -> T | None:
        found = self._hints.get(user)
        if found is None or found[1] < time.monotonic():
            self._hints.pop(user, None)
            return None
        return found[0]

    def put(self, user: str, value: T) -> None:
        self._hints[user] = (value, time.monotonic() + self._seconds)
        self._hints.move_to_end(user)
        while len(self._hints) > self._size:
            self._hints.popitem(last=False)
