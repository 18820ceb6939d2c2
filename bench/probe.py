"""Runs an agent unchanged with a watch on its event loop, garbage collector and spans, for the turn benchmark.

    python -m bench.probe REPORT_FILE bot.py --env-file PATH
    python -m bench.probe REPORT_FILE -m bench.echo_agent --env-file PATH

The agent runs in this process as `__main__`, exactly as `python bot.py` would run it. Nothing is measured until the
benchmark sends SIGUSR1: from then every callback the loop runs is timed (the longest is the loop's longest stall:
while it runs, no other conversation moves; asyncio's debug mode warns of the same with `slow_callback_duration`), a
1 ms ticker records how late it wakes (which also counts the wait behind other ready callbacks when the agent is
saturated: queueing, not a stall), and every garbage collection is timed. SIGUSR2 stops all three and writes
REPORT_FILE (JSON). Spans made through the OpenTelemetry API's no-op tracer (no exporter configured) are counted all
along; SIGUSR1 zeroes the count.
"""

from __future__ import annotations

import asyncio
import gc
import json
import runpy
import signal
import sys
import time
from pathlib import Path
from typing import Any

from opentelemetry import trace

from bench.measure import TICK, percentile


class Watch:
    """What one window between SIGUSR1 and SIGUSR2 saw."""

    def __init__(self, report: Path) -> None:
        self.report = report
        self.gaps: list[float] = []
        self.longest_callback = 0.0
        self.collections: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self.spans = 0
        self._collecting_since = 0.0
        self._ticker: asyncio.Task[None] | None = None
        self._open = False

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if not self._open:
            return
        if phase == "start":
            self._collecting_since = time.perf_counter()
        else:
            self.collections[info["generation"]].append(time.perf_counter() - self._collecting_since)

    def count_span(self) -> None:
        self.spans += 1

    def on_callback(self, seconds: float) -> None:
        if self._open and seconds > self.longest_callback:
            self.longest_callback = seconds

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.gaps.clear()
        self.longest_callback = 0.0
        for pauses in self.collections.values():
            pauses.clear()
        self.spans = 0
        self._open = True
        if self._ticker is None:
            self._ticker = loop.create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(TICK)
            self.gaps.append(max(time.perf_counter() - asked - TICK, 0.0))

    def stop(self) -> None:
        self._open = False
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        report = {
            "ticks": len(self.gaps),
            "longest_callback_ms": self.longest_callback * 1000,
            "max_tick_late_ms": max(self.gaps, default=0.0) * 1000,
            "p99_tick_late_ms": percentile(self.gaps, 99) * 1000,
            "gc": {str(generation): {"count": len(pauses), "max_ms": max(pauses, default=0.0) * 1000,
                                     "total_ms": sum(pauses) * 1000}
                   for generation, pauses in self.collections.items()},
            "spans": self.spans,
        }
        temporary = self.report.with_suffix(".tmp")
        temporary.write_text(json.dumps(report))
        temporary.replace(self.report)  # the benchmark waits for the file: it appears whole


def _time_callbacks(watch: Watch) -> None:
    """Every callback and task step of an asyncio loop runs through `Handle._run` (timed the same way by asyncio's
    debug mode); a garbage collection that starts inside one counts towards it."""
    run = asyncio.Handle._run

    def timed_run(self: asyncio.Handle) -> None:
        began = time.perf_counter()
        run(self)
        watch.on_callback(time.perf_counter() - began)

    asyncio.Handle._run = timed_run  # type: ignore[method-assign]


def _count_no_op_spans(watch: Watch) -> None:
    """Every span started through the API without an SDK tracer provider goes through `NoOpTracer.start_span`."""
    original = trace.NoOpTracer.start_span

    def start_span(self: trace.NoOpTracer, *args: Any, **kwargs: Any) -> trace.Span:
        watch.count_span()
        return original(self, *args, **kwargs)

    trace.NoOpTracer.start_span = start_span  # type: ignore[method-assign]


class _WatchedLoopPolicy(asyncio.DefaultEventLoopPolicy):
    """Hands the agent's loop (made by `asyncio.run` or `web.run_app`) the two signals that open and close a window."""

    def __init__(self, watch: Watch) -> None:
        super().__init__()
        self._watch = watch

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        loop = super().new_event_loop()
        loop.add_signal_handler(signal.SIGUSR1, self._watch.start, loop)
        loop.add_signal_handler(signal.SIGUSR2, self._watch.stop)
        return loop


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        raise SystemExit(__doc__)
    watch = Watch(Path(argv[0]))
    gc.callbacks.append(watch.on_gc)
    _time_callbacks(watch)
    _count_no_op_spans(watch)
    asyncio.set_event_loop_policy(_WatchedLoopPolicy(watch))
    target = argv[1:]
    if target[0] == "-m":
        sys.argv = [target[1], *target[2:]]
        runpy.run_module(target[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = target
        runpy.run_path(target[0], run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
