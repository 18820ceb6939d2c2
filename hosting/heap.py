"""The garbage collector, set for a server whose start-up heap never changes, and malloc, set so that a huge body's
memory goes back to the system.

Start-up imports about 1,250 modules (the SDK, msgraph-sdk, MSAL): several hundred thousand objects that live as long
as the process. Every full collection would walk them all again, pausing every conversation while it does, several
times a minute under load (`make bench` shows the longest pause). Once the warm-up has imported what a turn needs,
they are moved out of the collector's sight (`gc.freeze`), so a full collection walks only what turns since have
kept.
"""

from __future__ import annotations

import ctypes
import gc

M_MMAP_THRESHOLD = -3
"""glibc's `mallopt` parameter (malloc.h)."""
LARGE_BLOCK = 128 * 1024
"""Blocks of this size or more get a mapping of their own: glibc's own starting threshold, kept fixed."""
FULL_COLLECTION_EVERY = 1
"""A full collection may follow each gen-1 collection (CPython's default: every tenth), still only once what was
promoted since the last one exceeds a quarter of the old generation (CPython's own rule)."""


def freeze_start_up_heap() -> None:
    """Exempt everything alive now from later collections, and collect the old generation in smaller bites; call it
    once the warm-up is done, before the agent says it is ready.

    No collection first: start-up leaves little garbage, and a full walk of the whole heap would only delay the start.
    With the start-up heap frozen, a full collection walks what is alive since (turns in flight, caches), which is
    short, and frees what turns left in cycles. A warm turn leaves almost none (`hosting.turn_context`), but a failing
    one often leaves its exception, traceback and frames in one: collected as soon as CPython's quarter rule allows,
    such garbage never piles up into one long pause. That makes full collections more frequent than CPython's default
    but no longer each, a small steady cost traded for no long pause (figures: `docs/performance.md`)."""
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


def map_large_blocks() -> None:
    """Have glibc's malloc give every block of `LARGE_BLOCK` or more a mapping of its own, unmapped when freed.

    By default glibc raises that threshold to the size of each mapped block freed (up to 32 MiB): after the first
    body near the 1 MiB limit, the huge bodies callers send (their bytes, copies and parsed values) came from the heap,
    whose top the small objects that live on pin, so the heap kept the high-water mark of the huge bodies once in
    flight together. Setting the threshold turns that adjustment off. A no-op without glibc: macOS has no `mallopt`,
    musl's does nothing."""
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is not None:
        mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK)
