"""`python -m bench graph --quick` and `python -m bench turns --quick` keep working: they run end to end and print
their reports. Timings are never asserted."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from bench.measure import Rate, Stalls, cpu_seconds, percentile, run_for
from bench.turns import parse_args
from localcloud.launcher import ROOT


@pytest.fixture(scope="module")
def quick_run() -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", "graph", "--quick"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(scope="module")
def quick_turns() -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", "turns", "--quick"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.servers  # the bench starts the local cloud and agents
def test_quick_run_prints_every_row_and_a_verdict(quick_run: subprocess.CompletedProcess[str]) -> None:
    assert quick_run.returncode == 0, quick_run.stderr
    lines = quick_run.stdout.splitlines()
    rows = [line.split()[0] for line in lines if line.startswith(("/me $batch", "calendarView page"))]
    assert rows == ["/me", "/me", "calendarView", "calendarView"]
    for start in ("idle loop (noise floor)", "first calendar command", "3 calendar commands", "VERDICT: "):
        assert any(line.startswith(start) for line in lines), start
    assert "stopped" in lines[-1]


@pytest.mark.servers  # the bench starts the local cloud and agents
def test_quick_run_never_prints_a_token(quick_run: subprocess.CompletedProcess[str]) -> None:
    assert "eyJ" not in quick_run.stdout + quick_run.stderr


@pytest.mark.servers  # the bench starts the local cloud and agents
def test_turn_benchmark_measures_every_agent_path_and_goal(quick_turns: subprocess.CompletedProcess[str]) -> None:
    assert quick_turns.returncode == 0, quick_turns.stderr[-3000:]
    lines = quick_turns.stdout.splitlines()
    # Each at 2 concurrencies, in the stall table and the start table; the logging pair in its rows and the start table.
    for agent, rows in (("SDK echo agent (floor)", 4), ("hand-written /me", 4), ("ours: python bot.py", 4),
                        ("ours, LOG_LEVEL=INFO", 2), ("ours, LOG_LEVEL=WARNING", 2)):
        assert sum(line.startswith(agent) for line in lines) == rows, agent
    for row in ("ours, Teams /me", "ours, connector /me, OBO warm", "ours, connector /me, OBO cold"):
        assert any(line.startswith(row) for line in lines), row
    goals = [line for line in lines if line.startswith(("  PASS", "  FAIL"))]
    assert len(goals) == 2 * 2 + 8
    assert lines[-2].startswith("VERDICT: ") and "stopped" in lines[-1]


@pytest.mark.servers  # the bench starts the local cloud and agents
def test_turn_benchmark_answers_every_turn_and_never_prints_a_token(
    quick_turns: subprocess.CompletedProcess[str],
) -> None:
    """Every turn of every agent got the answer it should (a card from the /me agents, an echo from the floor)."""
    assert "went unanswered" not in quick_turns.stdout
    assert "eyJ" not in quick_turns.stdout + quick_turns.stderr


def test_turn_benchmark_sizes_are_checked() -> None:
    assert parse_args(["--quick"]).users >= max(parse_args(["--quick"]).concurrency)
    assert parse_args([]).concurrency == (1, 16, 64) and parse_args([]).users == 256
    with pytest.raises(SystemExit):
        parse_args(["--users", "8"])  # fewer users than workers: one user's turns would overlap


def test_cpu_time_of_this_process_grows_with_work() -> None:
    before = cpu_seconds()
    sum(index * index for index in range(2_000_000))
    assert cpu_seconds() > before


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
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0 and percentile([], 99) == 0.0
