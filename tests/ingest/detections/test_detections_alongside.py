"""Work beside the parse (`corpus.Alongside`): done once on every record of every file
parsed now, wherever its batch is parsed (a worker, this process stealing, or this
process alone), never on what the cache gave, and a failure costs only its result."""

from __future__ import annotations

import os

import pytest

from pipeline.ingest.detections import corpus
from pipeline.ingest.detections.corpus import Alongside, load_sources

from detection_helpers import failing_work, native_ids, source_for, unsendable_work, write
from test_detections_cache import corpus_dir


def collect(work=native_ids, fmt="sigma-yaml"):
    taken: list = []
    return Alongside(format=fmt, work=work, take=taken.append), taken


def corpus_in_small_batches(tmp_path, monkeypatch, files: int):
    """(source, folder, its plain serial load) of a Sigma corpus whose files go to the
    workers four at a time."""
    root = corpus_dir(tmp_path, files)
    source = source_for("sigma-yaml", "sigma")
    monkeypatch.setattr(corpus, "MIN_PARALLEL_FILES", 1)
    monkeypatch.setattr(corpus, "BATCH_FILES", 4)
    return source, root, load_sources([(source, root)], cache_dir=None, jobs=1)[0]


@pytest.mark.parametrize("jobs", [1, 2])
def test_every_parsed_record_is_worked_on_once(tmp_path, monkeypatch, jobs):
    source, root, plain = corpus_in_small_batches(tmp_path, monkeypatch, 30)
    alongside, taken = collect()
    started = corpus.start_sources([(source, root)], cache_dir=tmp_path / "cache", jobs=jobs, alongside=alongside)
    [load] = corpus.finish_sources(started)
    assert load.detections == plain.detections and load.issues == plain.issues
    ids = [i for result in taken for i in result["ids"]]
    assert sorted(ids) == sorted(d.native_id for d in load.detections)  # each once
    if jobs == 2:  # the batches are shared: some parsed by the worker, some here
        assert {result["pid"] for result in taken} >= {os.getpid()} and len({result["pid"] for result in taken}) == 2
    # The second load takes every file from the cache: nothing is parsed, nothing worked on.
    again, taken_again = collect()
    [cached] = corpus.finish_sources(corpus.start_sources([(source, root)], cache_dir=tmp_path / "cache", jobs=jobs, alongside=again))
    assert cached.detections == load.detections and cached.cached == 31 and taken_again == []


def test_work_for_another_format_is_not_done(tmp_path):
    root = corpus_dir(tmp_path, 3)
    alongside, taken = collect(fmt="elastic-toml")
    [load] = corpus.finish_sources(corpus.start_sources([(source_for("sigma-yaml", "sigma"), root)], cache_dir=None, jobs=1, alongside=alongside))
    assert len(load.detections) == 3 and taken == []


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("work", [failing_work, unsendable_work])
def test_failing_work_costs_only_its_results(tmp_path, monkeypatch, jobs, work):
    """Work that raises, or returns what cannot cross to this process: its batches'
    results are None (this process's own batches: what the work returned, unsent)."""
    source, root, plain = corpus_in_small_batches(tmp_path, monkeypatch, 12)
    alongside, taken = collect(work)
    [load] = corpus.finish_sources(corpus.start_sources([(source, root)], cache_dir=None, jobs=jobs, alongside=alongside))
    assert load.detections == plain.detections and load.issues == plain.issues
    assert taken
    if work is failing_work:
        assert all(result is None for result in taken)
    elif jobs == 2:  # the worker's could not be sent
        assert None in taken


def test_a_file_that_gives_no_record_gives_the_work_nothing(tmp_path):
    root = tmp_path / "sigma"
    write(root, "rules/bad.yml", "- a list\n")
    alongside, taken = collect()
    [load] = corpus.finish_sources(corpus.start_sources([(source_for("sigma-yaml", "sigma"), root)], cache_dir=None, jobs=1, alongside=alongside))
    assert load.detections == () and taken == [{"ids": [], "pid": os.getpid()}]
