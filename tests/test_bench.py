"""`python -m bench --quick` keeps working: it runs end to end and prints its report. Timings are never asserted."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from bench.measure import Rate, Stalls, run_for
from localcloud.launcher import ROOT


@pytest.fixture(scope="module")
def quick_run() -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", "--quick"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_quick_run_prints_every_row_and_a_verdict(quick_run: subprocess.CompletedProcess[str]) -> None:
    assert quick_run.returncode == 0, quick_run.stderr
    lines = quick_run.stdout.splitlines()
    rows = [line.split()[0] for line in lines if line.startswith(("/me $batch", "calendarView page"))]
    assert rows == ["/me", "/me", "calendarView", "calendarView"]
    for start in ("idle loop (noise floor)", "first calendar command", "3 calendar commands", "VERDICT: "):
        assert any(line.startswith(start) for line in lines), start
    assert "stopped" in lines[-1]


def test_quick_run_never_prints_a_token(quick_run: subprocess.CompletedProcess[str]) -> None:
    assert "eyJ" not in quick_run.stdout + quick_run.stderr


async def test_rate_counts_every_call_of_every_worker() -> None:
    made: list[int] = []

    async def call() -> None:
        await asyncio.sleep(0)
        made.append(1)

    rate = Rate()
    await run_for(call, concurrency=3, seconds=0.01, into=rate)
    assert rate.calls == len(made) >= 3 and rate.seconds > 0


def test_percentile_is_nearest_rank() -> None:
    stalls = Stalls(gaps=[i / 1000 for i in range(1, 101)])
    assert stalls.percentile_ms(99) == pytest.approx(99) and stalls.max_ms == pytest.approx(100)
