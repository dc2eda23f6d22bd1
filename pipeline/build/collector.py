"""The cyclic garbage collector during a build.

A build allocates millions of objects that live until it ends (the parsed releases,
tables and corpora, the graph, the render context) and makes few reference cycles:
most of what a renderer throws away is freed by reference counting. With the collector
running on its own, each of its full passes walked every one of those live objects again:
nine full passes and about 3 s of CPU on a warm default build, a seventh of it, and
growing faster than the inputs.

So during a build the collector does not run on its own. At the end of each stage the
build calls `settle()`: one collection of what the stage made (what is older is frozen,
`gc.freeze`, and not walked again), then the survivors are frozen too. Cyclic garbage
(the diff's second graph of the previous release leaves 187,000 objects in cycles) is
still freed stage by stage, so peak memory does not grow; measured on the default build,
0.3 s of collection in all instead of 3 s, and a lower peak RSS (540 MB against 580 MB).
On exit every frozen object is given back to the collector, so a process that runs
several builds (the tests) frees the earlier ones.
"""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator, Protocol


class Settle(Protocol):
    def __call__(self, *, collect: bool = True) -> None: ...


@contextlib.contextmanager
def quiet_collector() -> Iterator[Settle]:
    """Yields `settle(collect=True)`, to call at the end of a stage whose objects live
    to the end of the build; `collect=False` freezes without looking for garbage (for a
    stage known to leave almost none, where a collection would walk everything it
    made). Leaves the collector as it found it. When the caller has frozen objects of
    its own, their state is theirs: the collector is left alone and `settle` does nothing."""
    if gc.get_freeze_count():
        yield _unchanged
        return
    was_enabled = gc.isenabled()
    gc.disable()

    def settle(*, collect: bool = True) -> None:
        if collect:
            gc.collect()
        gc.freeze()

    try:
        yield settle
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def _unchanged(*, collect: bool = True) -> None:
    return None
