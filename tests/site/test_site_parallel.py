"""The worker split of the site's page loops: every page exactly once, whatever the
number of pages and workers; a worker's failure reaches the parent."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.site import parallel


@given(st.integers(0, 200_000))
def test_every_page_is_in_exactly_one_run(n):
    runs = parallel._runs(n)
    assert len(runs) <= parallel.MAX_RUNS
    assert [i for run in runs for i in run] == list(range(n))


@pytest.mark.parametrize("n, workers", [(0, 2), (1, 2), (70, 2), (70, 3), (1000, 2)])
def test_results_come_back_for_every_index(n, workers):
    got = {i: v for i, v, _ in parallel._in_workers(n, workers, lambda i: i * i)}
    assert got == {i: i * i for i in range(n)}


def test_results_larger_than_a_pipe_arrive_whole():
    big = lambda i: bytes([i % 251]) * 300_000  # noqa: E731 - a run of 32 pages: ~10 MB
    got = {i: v for i, v, _ in parallel._in_workers(70, 2, big)}
    assert got == {i: big(i) for i in range(70)}


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


def test_results_that_cannot_be_kept_are_an_error_naming_the_problem(monkeypatch):
    def full(fd, data, offset):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(parallel, "_write_at", full)  # in the forked workers too
    with pytest.raises(parallel.WorkerError, match="could not keep the results of a page: .*No space left"):
        list(parallel._in_workers(70, 2, lambda i: i))


@pytest.mark.parametrize("workers", [1, 2])
def test_a_page_that_cannot_be_written_names_itself(hostile_build, tmp_path, workers):
    """A page whose template cannot be found: the site build fails with mkdocs' line
    naming the page, whether it was written here or in a worker."""
    import shutil

    from pipeline.core.errors import PipelineError
    from pipeline.site.make import make_site

    edited = tmp_path / "edited"
    shutil.copytree(os.path.realpath(hostile_build), edited)
    (edited / "docs" / "controls" / "ZZ-1.md").write_text("---\ntemplate: no-such.html\n---\n# ZZ-1 A control\n", encoding="utf-8")
    with pytest.raises(PipelineError, match=r"Error building page 'controls/ZZ-1\.md': 'no-such\.html' not found"):
        make_site(edited, tmp_path / "site", workers=workers)
