"""The garbage collector, set for a server whose start-up heap never changes.

Start-up imports about 1,250 modules (the SDK, msgraph-sdk, MSAL): several hundred thousand objects that live as long
as the process. Every full collection walked them all again, pausing every conversation for 50-100 ms a few times a
minute under load (`make bench`'s event-loop window). Once the warm-up has imported what a turn needs, they are moved
out of the collector's sight (`gc.freeze`), so a full collection walks only what turns since have kept.
"""

from __future__ import annotations

import gc


def freeze_start_up_heap() -> None:
    """Exempt everything alive now from later collections; call it once the warm-up is done, before the agent says it
    is ready. No collection first: it found ~200 objects of garbage (a few KB, then kept for good) and would add
    ~60 ms to the start."""
    gc.freeze()
