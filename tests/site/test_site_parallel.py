"""The worker split of the site's page loops: every page exactly once, whatever the
number of pages and workers; a worker's failure reaches the parent."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.site import parallel


@given(st.integers(0, 500), st.integers(1, 4))
def test_every_page_goes_to_exactly_one_worker(n, workers):
    shares = parallel._chunks(n, workers)
    assert len(shares) == workers
    seen = [i for share in shares for run in share for i in run]
    assert sorted(seen) == list(range(n))


def test_results_come_back_for_every_index():
    got = {i: v for i, v, _ in parallel._in_workers(70, 2, lambda i: i * i)}
    assert got == {i: i * i for i in range(70)}


def test_a_failing_page_raises_in_the_parent():
    def job(i):
        if i == 41:
            raise ValueError("page 41 is broken")
        return i

    with pytest.raises(parallel.WorkerError, match="page 41 is broken") as info:
        list(parallel._in_workers(70, 2, job))
    assert info.value.index == 41


def test_a_worker_that_dies_is_an_error_not_missing_pages():
    import os

    def job(i):
        if i == 40:
            os._exit(3)  # killed mid-way: its earlier runs arrived, the rest never will
        return i

    with pytest.raises(parallel.WorkerError, match="ended early"):
        list(parallel._in_workers(70, 2, job))
