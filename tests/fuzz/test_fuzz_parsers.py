"""Every parser, the same contract: arbitrary bytes and mutated real files give records,
or the project's own one-line error or issues naming the file — never another
exception, never memory beyond a bound (and under `make fuzz`'s profile, never more than
5 s an input).

The structured strategies of each format live in the other modules of this folder;
here every target of `fuzz_targets.TARGETS` gets the same byte-level treatment.
`FUZZ_EXAMPLES` (default 60) sets the examples per target and strategy.
"""

from __future__ import annotations

import os
import random
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzz_targets as ft

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
# No deadline here: the profile decides (none under `make test`, 5 s an input under `make fuzz`).
SETTINGS = settings(
    max_examples=EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
# Peak Python memory a parser may use on one input: a fixed allowance for the parser's
# own structures plus a multiple of the input (records are a few times their text).
MEMORY_BASE = 64 * 1024 * 1024
MEMORY_PER_INPUT_BYTE = 200
NAMES = sorted(ft.TARGETS)


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


@pytest.fixture(scope="module", autouse=True)
def _warm_imports(folder):
    """The first parse of each target imports its libraries (openpyxl, networkx): not a
    cost the per-input deadline should see."""
    for target in ft.TARGETS.values():
        try:
            ft.outcome(target, b"", folder)
        except ft.ContractViolation:
            pass


def bounded(target: ft.Target, data: bytes, folder: Path) -> tuple[str, int]:
    tracemalloc.start()
    try:
        result = ft.outcome(target, data, folder)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    bound = MEMORY_BASE + MEMORY_PER_INPUT_BYTE * len(data)
    assert peak <= bound, f"{target.name}: peak {peak:,} bytes for a {len(data):,}-byte input (bound {bound:,})"
    return result


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes(name, data, folder):
    bounded(ft.TARGETS[name], data, folder)


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(text=st.text(max_size=400))
def test_arbitrary_text(name, text, folder):
    bounded(ft.TARGETS[name], text.encode("utf-8", "surrogatepass"), folder)


@pytest.fixture(scope="module")
def seeds(mirror):
    return {name: ft.seed_bytes(t, mirror) for name, t in ft.TARGETS.items()}


@pytest.mark.realdata
@pytest.mark.parametrize("name", NAMES)
def test_every_real_seed_parses_to_records(name, seeds, folder):
    target = ft.TARGETS[name]
    assert len(seeds[name]) == len(target.seeds), "a seed file is missing from the mirror"
    for data in seeds[name]:
        kind, count = ft.outcome(target, data, folder)
        assert kind == "records" and count > 0


@pytest.mark.realdata
@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(choice=st.integers(0, 10**6), seed=st.integers(0, 2**32 - 1))
def test_mutated_real_files(name, choice, seed, seeds, folder):
    target = ft.TARGETS[name]
    pool = seeds[name]
    data = ft.mutator(target)(pool[choice % len(pool)], random.Random(seed))
    bounded(target, data, folder)
