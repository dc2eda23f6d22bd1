"""`collected_later` (pipeline/core/perf.py): the collector paused for a block, and what
the block made moved to the oldest generation unwalked; nothing left frozen, a caller's
frozen objects left as they were."""

from __future__ import annotations

import gc
import weakref

import pytest

from pipeline.core.perf import collected_later


def _cycle() -> weakref.ref:
    """A weak reference to an object in a reference cycle (only the cyclic collector frees it)."""
    cycle = type("Cycle", (), {})()
    cycle.me = cycle
    return weakref.ref(cycle)


pytestmark = pytest.mark.usefixtures("collector_as_found")


def test_the_collector_is_off_inside_and_restored_after():
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        with collected_later():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled


def test_what_the_block_made_is_walked_only_by_a_full_collection():
    gc.collect()
    with collected_later():
        dropped = _cycle()
        assert dropped() is not None
    assert gc.get_freeze_count() == 0
    gc.collect(0)
    gc.collect(1)
    assert dropped() is not None  # in the oldest generation: the young collections skip it
    gc.collect()
    assert dropped() is None  # not kept for ever


def test_a_callers_frozen_objects_are_left_frozen():
    gc.disable()
    kept = _cycle()
    gc.freeze()
    frozen = gc.get_freeze_count()
    with collected_later():
        dropped = _cycle()
    assert gc.get_freeze_count() == frozen and kept() is not None
    gc.collect()
    assert dropped() is None
