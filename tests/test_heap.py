"""The start-up heap leaves the collector's sight once the agent is warm (`hosting.heap`); run in a child process,
since freezing is for the rest of a process's life."""

from __future__ import annotations

import subprocess
import sys

import pytest

from localcloud.launcher import ROOT

FREEZE = """
import gc, bot
from hosting.heap import freeze_start_up_heap
freeze_start_up_heap()
start_up = gc.get_freeze_count()
kept = [[index] for index in range(1000)]
print(start_up > 50_000, len(gc.get_objects()) < 5_000)
"""


def test_after_warm_up_a_collection_walks_only_what_came_later() -> None:
    ran = subprocess.run([sys.executable, "-c", FREEZE], cwd=ROOT, capture_output=True, text=True, check=True)

    assert ran.stdout.split() == ["True", "True"]


OLD_CYCLES = """
import gc, bot
from hosting.heap import freeze_start_up_heap
freeze_start_up_heap()

class Turn:
    pass

in_flight = []
for _ in range(5000):
    turn = Turn()
    turn.itself = turn
    in_flight.append(turn)
gc.collect(1)  # still alive: promoted to the old generation, as a turn in flight is
del in_flight, turn
collections = []
gc.callbacks.append(lambda phase, info: phase == "stop" and collections.append(info["generation"]))
kept = []
while 2 not in collections and len(collections) < 2000:
    kept.append([[] for _ in range(100)])
print(collections.count(1))
"""


def test_dead_cycles_in_the_old_generation_wait_at_most_two_middle_collections() -> None:
    # CPython's default waits for ten, so each full collection frees (and pauses for) five times as much.
    ran = subprocess.run([sys.executable, "-c", OLD_CYCLES], cwd=ROOT, capture_output=True, text=True, check=True)

    assert int(ran.stdout) <= 2



LARGE_BLOCKS = """
import ctypes
from hosting.heap import map_large_blocks

class Mallinfo(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Mallinfo
{set_up}
refused = b"x" * (4 << 20)  # a body past the limit, read and let go
del refused
mapped_before = libc.mallinfo2().hblkhd
body = b"x" * (1 << 20)
print(libc.mallinfo2().hblkhd - mapped_before >= 1 << 20)
"""


@pytest.mark.parametrize(("set_up", "mapped"), [("", "False"), ("map_large_blocks()", "True")])
def test_a_huge_body_after_a_larger_one_has_a_mapping_of_its_own_once_large_blocks_are_mapped(
        set_up: str, mapped: str) -> None:
    """glibc's default serves it from the heap, which then keeps its high-water mark; a mapping of its own goes back
    to the system when the body is freed."""
    ran = subprocess.run([sys.executable, "-c", LARGE_BLOCKS.format(set_up=set_up)], cwd=ROOT, capture_output=True,
                         text=True, check=True)

    assert ran.stdout.split() == [mapped]
