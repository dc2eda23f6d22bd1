"""The build's policy for the cyclic collector (pipeline/build/collector.py): off during
the build, one collection of what each stage made at its end, survivors frozen, and the
collector given back as it was found."""

from __future__ import annotations

import gc
import weakref

import pytest

from pipeline.build.collector import quiet_collector


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


pytestmark = pytest.mark.usefixtures("collector_as_found")


def test_the_collector_is_off_inside_and_restored_after():
    gc.enable()
    with quiet_collector():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    with quiet_collector():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_settle_frees_the_cycles_a_stage_dropped_and_freezes_what_lives():
    with quiet_collector() as settle:
        kept = Node()
        dropped = weakref.ref(Node())
        assert dropped() is not None  # nothing collects while the stage runs
        settle()
        assert dropped() is None
        assert gc.get_freeze_count() > 0 and gc.is_tracked(kept)
        later = weakref.ref(Node())
        settle()
        assert later() is None
    assert gc.get_freeze_count() == 0  # given back: a later collection can free the build


def test_settle_without_collecting_only_freezes():
    with quiet_collector() as settle:
        dropped = weakref.ref(Node())
        settle(collect=False)
        assert dropped() is not None and gc.get_freeze_count() > 0
    gc.collect()
    assert dropped() is None  # unfrozen on exit, so not kept for ever


def test_a_caller_that_froze_objects_keeps_its_collector():
    """Frozen objects that die leave the frozen generation at any time (in a long test
    session other threads drop some), so the count may only fall: `settle` neither
    unfreezes (the count would be 0) nor freezes what came after (it would grow by the
    10,000 fresh lists)."""
    gc.enable()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with quiet_collector() as settle:
            assert gc.isenabled()
            fresh = [[] for _ in range(10_000)]
            settle()
            assert 0 < gc.get_freeze_count() <= frozen
        assert 0 < gc.get_freeze_count() <= frozen and gc.isenabled()
        del fresh
    finally:
        gc.unfreeze()  # the rest of the session runs with nothing frozen, as a build expects
