"""The start-up heap leaves the collector's sight once the agent is warm (`hosting.heap`); run in a child process,
since freezing is for the rest of a process's life."""

from __future__ import annotations

import subprocess
import sys

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
