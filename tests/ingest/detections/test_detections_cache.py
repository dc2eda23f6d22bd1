"""The parsed-file cache: reused when bytes are unchanged, ignored when damaged, JSON only."""

from __future__ import annotations

import orjson
import pytest

from pipeline.ingest.detections import corpus
from pipeline.ingest.detections.cache import file_key
from pipeline.ingest.detections.corpus import load_source, load_sources

from detection_helpers import source_for, write
from test_detections_sigma import rule


def corpus_dir(tmp_path, n: int = 12):
    root = tmp_path / "sigma"
    for i in range(n):
        write(root, f"rules/r{i:02}.yml", rule("attack.t1046", f"attack.t10{i:02}").replace("1111", f"{i:04}"))
    write(root, "rules/bad.yml", "- a list\n")
    return root


def test_second_run_reads_the_cache_and_gives_the_same_result(tmp_path):
    root, cache = corpus_dir(tmp_path), tmp_path / "cache"
    source = source_for("sigma-yaml", "sigma")
    cold = load_source(source, root, cache_dir=cache)
    warm = load_source(source, root, cache_dir=cache)
    assert (cold.parsed, cold.cached) == (13, 0)
    assert (warm.parsed, warm.cached) == (0, 13)
    assert warm.detections == cold.detections and warm.issues == cold.issues
    assert len(warm.issues) == 1 and warm.issues[0].file == str(root / "rules/bad.yml")
    doc = orjson.loads((cache / "sigma.json").read_bytes())  # plain JSON, no pickle
    assert set(doc) == {"parser", "entries"} and len(doc["entries"]) == 13

    write(root, "rules/r03.yml", rule("attack.t1016").replace("1111", "0003"))
    changed = load_source(source, root, cache_dir=cache)
    assert (changed.parsed, changed.cached) == (1, 12)
    assert [t.attack_id for t in next(d for d in changed.detections if d.path == "rules/r03.yml").techniques] == ["T1016"]


@pytest.mark.parametrize("damage", [b"\x00garbage", b"[]", b'{"parser": 1}', b'{"parser": "x", "entries": {"k": 1}}'])
def test_a_damaged_cache_is_ignored(tmp_path, damage):
    root, cache = corpus_dir(tmp_path, 3), tmp_path / "cache"
    source = source_for("sigma-yaml", "sigma")
    cold = load_source(source, root, cache_dir=cache)
    (cache / "sigma.json").write_bytes(damage)
    again = load_source(source, root, cache_dir=cache)
    assert again.parsed == 4 and again.detections == cold.detections


def test_a_planted_entry_of_the_wrong_shape_is_parsed_again(tmp_path):
    root, cache = corpus_dir(tmp_path, 2), tmp_path / "cache"
    source = source_for("sigma-yaml", "sigma")
    cold = load_source(source, root, cache_dir=cache)
    doc = orjson.loads((cache / "sigma.json").read_bytes())
    key = file_key("rules/r00.yml", (root / "rules/r00.yml").read_bytes())
    doc["entries"][key] = {"records": [{"id": "x", "__class__": "os.system"}], "issues": []}
    (cache / "sigma.json").write_bytes(orjson.dumps(doc))
    again = load_source(source, root, cache_dir=cache)
    assert (again.parsed, again.cached) == (1, 2)
    assert again.detections == cold.detections


def test_parallel_parsing_gives_the_serial_result(tmp_path, monkeypatch):
    root = corpus_dir(tmp_path, 30)
    source = source_for("sigma-yaml", "sigma")
    serial = load_sources([(source, root)], cache_dir=None, jobs=1)
    monkeypatch.setattr(corpus, "MIN_PARALLEL_FILES", 1)
    monkeypatch.setattr(corpus, "BATCH_FILES", 4)
    parallel = load_sources([(source, root)], cache_dir=None, jobs=2)
    assert parallel[0].detections == serial[0].detections
    assert parallel[0].issues == serial[0].issues


def test_unwritable_cache_directory_only_costs_speed(tmp_path):
    root = corpus_dir(tmp_path, 2)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    load = load_source(source_for("sigma-yaml", "sigma"), root, cache_dir=blocker / "cache")
    assert len(load.detections) == 2


def test_files_started_early_and_finished_later_give_the_plain_load(tmp_path, monkeypatch):
    """`start_sources` queues the files on the workers; whatever runs before
    `finish_sources` (a build reads ATT&CK meanwhile), the loads are the plain ones."""
    root = corpus_dir(tmp_path, 30)
    source = source_for("sigma-yaml", "sigma")
    plain = load_sources([(source, root)], cache_dir=None, jobs=1)
    monkeypatch.setattr(corpus, "MIN_PARALLEL_FILES", 1)
    monkeypatch.setattr(corpus, "BATCH_FILES", 4)
    started = corpus.start_sources([(source, root)], cache_dir=tmp_path / "cache", jobs=2)
    assert started.pool.executor is not None and started.pending[0].futures
    said: list[str] = []
    [load] = corpus.finish_sources(started, progress=said.append)
    assert load.detections == plain[0].detections and load.issues == plain[0].issues
    assert said == ["parsing detections/sigma"]


def test_a_start_left_unfinished_stops_its_workers(tmp_path, monkeypatch, mirror, config):
    """The graph starts the rule files before reading ATT&CK; when that read fails, the
    workers are stopped and nothing is left half-started for a later load."""
    from pipeline.ingest.detections import load as loading
    from pipeline.workspace import Workspace

    closed, begun = [], []

    class Begun:
        def close(self):
            closed.append(self)

    def start(found, **_kwargs):
        begun.append([source.id for source, _root in found])
        return Begun()

    monkeypatch.setattr(loading, "start_sources", start)
    ws = Workspace.open(config, mirror)
    with pytest.raises(RuntimeError, match="ATT&CK could not be read"):
        with loading.parsing_meanwhile(ws):
            assert len(ws.cache["detection_starts"]) == 1
            raise RuntimeError("ATT&CK could not be read")
    assert begun == [[s.id for s in loading.select_sources(config, None)[0]]]
    assert len(closed) == 1 and ws.cache["detection_starts"] == {}


def test_a_build_starts_the_parse_ahead_of_the_graph_once(tmp_path, monkeypatch, mirror, config):
    """`parsing_ahead` starts the rule files (with the conversion beside them) before the
    graph; the graph inside it starts nothing more and finishes that start; a body that
    fails first stops it."""
    from pipeline.ingest.detections import load as loading
    from pipeline.workspace import Workspace

    closed, begun = [], []

    class Begun:
        def close(self):
            closed.append(self)

    def start(found, **kwargs):
        begun.append(kwargs.get("alongside"))
        return Begun()

    monkeypatch.setattr(loading, "start_sources", start)
    monkeypatch.setenv("ATTACK_PIPELINE_CACHE", str(tmp_path / "cache"))
    ws = Workspace.open(config, mirror)
    with pytest.raises(RuntimeError, match="stopped"):
        with ws.parsing_ahead():
            assert len(ws.cache["detection_starts"]) == 1
            with loading.parsing_meanwhile(ws):  # as the graph's own: nothing new is started
                pass
            raise RuntimeError("stopped")
    assert len(begun) == 1 and begun[0] is not None and begun[0].format == "sigma-yaml"
    assert len(closed) == 1 and ws.cache["detection_starts"] == {}


def test_workers_take_the_sources_read_so_far_once_there_is_enough_to_parse(tmp_path, monkeypatch):
    """The workers start as soon as the sources read so far hold enough files to parse:
    the first source's files are queued with the second's, the third's when it is read;
    the loads are the plain ones."""
    roots = [corpus_dir(tmp_path / name, 12) for name in ("a", "b", "c")]
    sources = [(source_for("sigma-yaml", name), root) for name, root in zip(("a", "b", "c"), roots)]
    plain = load_sources(sources, cache_dir=None, jobs=1)
    monkeypatch.setattr(corpus, "MIN_PARALLEL_FILES", 20)  # 13 files a source: two are enough
    monkeypatch.setattr(corpus, "BATCH_FILES", 4)
    events: list[str] = []
    submit, prepare = corpus._submit, corpus._prepare
    monkeypatch.setattr(corpus, "_submit", lambda p, executor: events.append(f"queued {p.source.id[-1]}") or submit(p, executor))
    monkeypatch.setattr(corpus, "_prepare", lambda source, *a: events.append(f"read {source.id[-1]}") or prepare(source, *a))
    started = corpus.start_sources(sources, cache_dir=None, jobs=2)
    assert events == ["read a", "read b", "queued a", "queued b", "read c", "queued c"]
    assert all(p.futures for p in started.pending)
    loads = corpus.finish_sources(started)
    assert [load.detections for load in loads] == [load.detections for load in plain]
    assert [load.issues for load in loads] == [load.issues for load in plain]
