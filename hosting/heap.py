"""The garbage collector, set for a server whose start-up heap never changes.

Start-up imports about 1,250 modules (the SDK, msgraph-sdk, MSAL): several hundred thousand objects that live as long
as the process. Every full collection walked them all again, pausing every conversation for 50-100 ms a few times a
minute under load (`make bench`'s event-loop window). Once the warm-up has imported what a turn needs, they are moved
out of the collector's sight (`gc.freeze`), so a full collection walks only what turns since have kept.
"""

from __future__ import annotations

import gc

FULL_COLLECTION_EVERY = 1
"""A full collection may follow each gen-1 collection (CPython's default: every tenth), still only once what was
promoted since the last one exceeds a quarter of the old generation (CPython's own rule)."""


def freeze_start_up_heap() -> None:
    """Exempt everything alive now from later collections, and collect the old generation in smaller bites; call it
    once the warm-up is done, before the agent says it is ready.

    No collection first: it found ~200 objects of garbage (a few KB, then kept for good) and would add ~60 ms to the
    start. With the start-up heap frozen, a full collection costs what turns left in the old generation: mostly the
    cycles of turns still in flight when they were promoted, dead by then (~11,000 objects, 11-17 ms, every ~330
    turns at concurrency 16). Collected as soon as CPython's quarter rule allows, each pause frees ~2,300 and takes
    4-7 ms, for ~0.05 ms more collector time per turn (`make bench`, 2,000 turns at 16, ab)."""
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
