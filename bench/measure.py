"""Measuring tools: calls per second of an async call, event-loop stalls, and a process's memory and CPU time."""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

Call = Callable[[], Awaitable[object]]
TICK = 0.001
"""The ticker asks to wake every millisecond; anything later than that is time the loop was busy elsewhere."""


@dataclass
class Rate:
    """Calls completed and seconds spent, summed over the interleaved slots of one path."""

    calls: int = 0
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0


async def run_for(call: Call, concurrency: int, seconds: float, into: Rate) -> None:
    """`concurrency` workers make calls back to back until `seconds` are up; adds what they did to `into`."""
    stop_at = time.perf_counter() + seconds
    calls = 0

    async def worker() -> None:
        nonlocal calls
        while time.perf_counter() < stop_at:
            await call()
            calls += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    into.calls += calls
    into.seconds += time.perf_counter() - start


@dataclass
class Stalls:
    """How late a 1 ms ticker on the loop woke up, in seconds beyond the millisecond it asked for."""

    gaps: list[float] = field(default_factory=list)

    @property
    def max_ms(self) -> float:
        return max(self.gaps, default=0.0) * 1000

    def percentile_ms(self, percent: float) -> float:
        """Nearest-rank percentile."""
        return percentile(self.gaps, percent) * 1000


async def stalls_during(work: Call) -> Stalls:
    """Run `work` while a ticker on the same loop records each wake-up's lateness."""
    stalls = Stalls()
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            asked = time.perf_counter()
            await asyncio.sleep(TICK)
            stalls.gaps.append(max(time.perf_counter() - asked - TICK, 0.0))

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)  # the ticker is waiting before the work starts
    try:
        await work()
    finally:
        done.set()
        await task
    return stalls


def rss_mb(pid: int | str = "self") -> float | None:
    """A process's resident memory now (Linux `/proc`), or None where that is not available."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    line = next((line for line in status.splitlines() if line.startswith("VmRSS:")), None)
    return int(line.split()[1]) / 1024 if line else None


def cpu_seconds(pid: int | str = "self") -> float:
    """CPU time a process has used so far, all its threads, user and system (Linux `/proc`; 0 elsewhere)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def percentile(values: list[float], percent: float) -> float:
    """Nearest-rank percentile of `values` (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(math.ceil(percent / 100 * len(ordered)) - 1, 0)]
