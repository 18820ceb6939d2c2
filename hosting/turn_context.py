"""A turn context that is freed as soon as its turn ends, not at the next cyclic garbage collection.

The SDK's `TurnContext` leaves every turn in reference cycles: `_emit` (run for each send, update and delete) builds a
closure that refers to itself, and the `TypingIndicator`'s handlers and the turn's `StreamingResponse` point back at
the context that holds them. So a finished turn's whole graph (context, activities, state, clients) would stay in
memory until the collector found it, and the collector's full passes over such turns are long event-loop pauses under
load. Here `_emit` chains the handlers with partials, which refer to nothing that
refers back, and closing the context drops its handlers and streaming response, so reference counting frees the turn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from functools import partial
from typing import Any, TypeVar

from microsoft_agents.hosting.core import TurnContext

Result = TypeVar("Result")
Handler = Callable[[TurnContext, Any, Callable[[], Awaitable[Any]]], Awaitable[Any]]


class FreedTurnContext(TurnContext):
    """The SDK's context, with `_emit` and `_aclose` that leave no reference cycle behind."""

    async def _emit(self, handlers: Sequence[Handler], arg: Any, logic: Callable[[], Awaitable[Result]]) -> Result:
        """Each handler in the order registered, given the rest of the chain as its `next`, then `logic`: what the
        SDK's `_emit` does."""
        return await _run_from(0, self, list(handlers), arg, logic)

    async def _aclose(self) -> None:
        """The SDK's close handlers, then the turn's own handlers and streaming response are let go: the adapter closes
        the context once its pipeline has ended, and nothing sends on it after that."""
        try:
            await super()._aclose()
        finally:
            self._on_send_activities.clear()
            self._on_update_activity.clear()
            self._on_delete_activity.clear()
            with suppress(AttributeError):  # made on first use only
                del self._streaming_response


def _run_from(index: int, context: TurnContext, handlers: list[Handler], arg: Any,
              logic: Callable[[], Awaitable[Result]]) -> Awaitable[Result]:
    if index == len(handlers):
        return logic()
    return handlers[index](context, arg, partial(_run_from, index + 1, context, handlers, arg, logic))
