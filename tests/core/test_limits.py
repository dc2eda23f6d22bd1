"""Resource limits: every one configurable, every one enforced with a one-line error
naming the file and the limit, and the defaults accepting every real input."""

from __future__ import annotations

import gzip
import socket
import os
import threading
import tracemalloc
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from pipeline.core import limits
from pipeline.core.config import load_config
from pipeline.core.errors import ConfigError, InputError, PipelineError
from pipeline.ingest.attack import read_attack_release
from pipeline.ingest.detections import sigma, splunk
from pipeline.ingest.detections.common import FileContext, SourceInfo
from pipeline.ingest.mappings import TableSpec
from pipeline.ingest.mappings.mapex import read_mapex
from pipeline.ingest.mappings.security_stack import read_security_stack
from testpaths import ROOT

BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(9)
)
STACK = TableSpec(source_id="p/stack", format="security-stack-yaml", framework="azure", attack_version="8.2")
MAPEX = TableSpec(source_id="p/mapex", format="mapex-json", framework="nist_800_53", framework_version="rev5")


@pytest.fixture(autouse=True)
def _fresh_limits(monkeypatch):
    for name in limits.ENV.values():
        monkeypatch.delenv(name, raising=False)


def ctx(fmt: str, relpath: str) -> FileContext:
    return FileContext(source=SourceInfo(name="t", source_id="detections/t", format=fmt), relpath=relpath, file=relpath)


def sources_with(tmp_path: Path, settings: str) -> Path:
    text = (ROOT / "data" / "sources.toml").read_text(encoding="utf-8")
    path = tmp_path / "sources.toml"
    path.write_text(text.replace("[settings]\n", f"[settings]\n{settings}\n", 1), encoding="utf-8")
    return path


# -- configuration ------------------------------------------------------------------------


def test_defaults_and_the_sources_file_settings(tmp_path):
    assert limits.from_environment() == limits.Limits() == limits.DEFAULT
    config = load_config(sources_with(tmp_path, "max_file_bytes = 1_000\nyaml_max_nodes = 50\njson_max_depth = 8\nhttp_timeout = 2.5"))
    assert config.limits == limits.Limits(max_file_bytes=1000, yaml_max_nodes=50, json_max_depth=8, http_timeout=2.5)
    # The sources file's limits are its configuration's value, not the process's.
    assert limits.from_environment() == limits.DEFAULT
    assert not hasattr(limits, "current") and not hasattr(limits, "activate")


def test_the_environment_overrides_the_sources_file(tmp_path, monkeypatch):
    monkeypatch.setenv("ATTACK_PIPELINE_JSON_MAX_DEPTH", "12")
    monkeypatch.setenv("ATTACK_PIPELINE_HTTP_TIMEOUT", "0.5")
    config = load_config(sources_with(tmp_path, "json_max_depth = 8"))
    assert (config.limits.json_max_depth, config.limits.http_timeout) == (12, 0.5)


@pytest.mark.parametrize(
    "setting, message",
    [
        ("json_max_depth = 2000", "json_max_depth must be a number between 1 and 1,024, not 2000"),
        ("yaml_max_nodes = 0", "yaml_max_nodes must be a number between 1 and 1,099,511,627,776, not 0"),
        ("yaml_max_depth = 9000", "yaml_max_depth must be a number between 1 and 5,000, not 9000"),
        # Non-finite, negative, boolean and huge values: one line each, never OverflowError or ValueError.
        ("max_file_bytes = inf", "max_file_bytes must be a number between 1 and 1,099,511,627,776, not inf"),
        ("max_file_bytes = -inf", "max_file_bytes must be a number between 1 and 1,099,511,627,776, not -inf"),
        ("max_file_bytes = nan", "max_file_bytes must be a number between 1 and 1,099,511,627,776, not nan"),
        ("max_file_bytes = -5", "max_file_bytes must be a number between 1 and 1,099,511,627,776, not -5"),
        ("max_file_bytes = true", "max_file_bytes must be an integer, not True"),
        ("max_file_bytes = 9_223_372_036_854_775_807", "max_file_bytes must be a number between 1 and 1,099,511,627,776, not 9223372036854775807"),
        ("max_file_bytes = 1e300", "max_file_bytes must be a number between 1 and 1,099,511,627,776, not 1e+300"),
        ("yaml_max_nodes = inf", "yaml_max_nodes must be a number between 1 and 1,099,511,627,776, not inf"),
        ("yaml_max_depth = nan", "yaml_max_depth must be a number between 1 and 5,000, not nan"),
        ("json_max_depth = -inf", "json_max_depth must be a number between 1 and 1,024, not -inf"),
        ("http_timeout = inf", "http_timeout must be a number between 0.001 and 86,400.0, not inf"),
        ("http_timeout = nan", "http_timeout must be a number between 0.001 and 86,400.0, not nan"),
        ("http_timeout = -1", "http_timeout must be a number between 0.001 and 86,400.0, not -1"),
        ("http_timeout = 1e308", "http_timeout must be a number between 0.001 and 86,400.0, not 1e+308"),
        ('max_file_bytes = "lots"', "max_file_bytes must be a number, not 'lots'"),
        ("max_file_bytes = 1.5", "max_file_bytes must be an integer, not 1.5"),
        ("http_timeout = true", "http_timeout must be a number, not True"),
    ],
)
def test_bad_settings_are_one_line_config_errors(tmp_path, setting, message):
    path = sources_with(tmp_path, setting)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.one_line() == f"{path}: [settings]: limit {message}"


@pytest.mark.parametrize("var, value, message", [
    ("ATTACK_PIPELINE_MAX_FILE_BYTES", "99999999999999999999999999", "max_file_bytes must be a number between 1 and 1,099,511,627,776"),
    ("ATTACK_PIPELINE_HTTP_TIMEOUT", "inf", "http_timeout must be a number between 0.001 and 86,400.0, not inf"),
    ("ATTACK_PIPELINE_HTTP_TIMEOUT", "NaN", "http_timeout must be a number between 0.001 and 86,400.0, not nan"),
    ("ATTACK_PIPELINE_HTTP_TIMEOUT", "1e999", "http_timeout must be a number between 0.001 and 86,400.0, not inf"),
    ("ATTACK_PIPELINE_JSON_MAX_DEPTH", "-1", "json_max_depth must be a number between 1 and 1,024, not -1"),
])
def test_unbounded_environment_values_are_config_errors(tmp_path, monkeypatch, var, value, message):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as info:
        load_config(sources_with(tmp_path, ""))
    assert message in info.value.one_line() and "\n" not in info.value.one_line()


def test_a_bad_environment_value_names_the_variable_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("ATTACK_PIPELINE_YAML_MAX_NODES", "many")
    with pytest.raises(ConfigError, match=r"\[settings\]: limit yaml_max_nodes must be a number, not 'many'"):
        load_config(sources_with(tmp_path, ""))


# -- file size ----------------------------------------------------------------------------


def test_an_oversized_bundle_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.json"
    path.write_bytes(b'{"type": "bundle", "objects": []}' + b" " * 2000)
    with pytest.raises(InputError) as info:
        read_attack_release(path, domain="enterprise", version="1.0", limits=limits.Limits(max_file_bytes=1000))
    line = info.value.one_line()
    assert line == (
        f"{path}: file is 2,033 bytes, over the limit of 1,000 bytes (max_file_bytes; "
        "raise it in [settings] or ATTACK_PIPELINE_MAX_FILE_BYTES)"
    )


def peak_memory(work) -> int:
    """Peak Python memory while `work()` runs: the bound on work these tests put on a
    hostile input (its cost in seconds is measured in bench/bench_limits.py)."""
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_gzip_bomb_stops_at_the_limit(tmp_path):
    path = tmp_path / "bomb.json.gz"
    path.write_bytes(gzip.compress(b"[" + b" " * 50_000_000 + b"]"))
    assert path.stat().st_size < 100_000

    def read() -> None:
        with pytest.raises(InputError, match=r"bomb\.json\.gz: decompressed data is over the limit of 1,000,000 bytes"):
            read_attack_release(path, domain="enterprise", version="1.0", limits=limits.Limits(max_file_bytes=1_000_000))

    # Inflating stops at the limit: a few times the limit, not the 50 MB the file holds.
    assert peak_memory(read) < 4_000_000


def test_concatenated_and_truncated_gzip_members(tmp_path):
    doc = b'{"type": "bundle", "objects": []}'
    path = tmp_path / "two.json.gz"
    path.write_bytes(gzip.compress(doc[:10]) + gzip.compress(doc[10:]))
    assert read_attack_release(path, domain="enterprise", version="1.0").objects == {}
    path.write_bytes(gzip.compress(doc)[:-12])
    with pytest.raises(InputError, match="truncated gzip stream"):
        read_attack_release(path, domain="enterprise", version="1.0")


def test_an_oversized_mapping_table_is_an_issue_not_a_crash(tmp_path):
    path = tmp_path / "m.json"
    path.write_bytes(b'{"metadata": {}, "mapping_objects": []}' + b" " * 200)
    table = read_mapex(path, replace(MAPEX, limits=limits.Limits(max_file_bytes=100)))
    [issue] = table.issues
    assert issue.code == "unreadable" and issue.file == str(path) and "over the limit of 100 bytes" in issue.problem


def test_an_oversized_rule_file_is_skipped_before_it_is_read(tmp_path):
    from pipeline.ingest.detections import corpus

    path = tmp_path / "huge.yml"
    with open(path, "wb") as fh:
        fh.truncate(corpus.MAX_FILE_BYTES + 1)  # sparse: nothing is written, nothing must be read
    problem = corpus._read(str(path))
    assert problem == f"file is {corpus.MAX_FILE_BYTES + 1:,} bytes, over the {corpus.MAX_FILE_BYTES:,}-byte limit for a rule file; skipped"


def _mappings() -> int:
    with open("/proc/self/maps", "rb") as fh:
        return fh.read().count(b"\n")


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="counts the process's memory mappings in /proc")
def test_reading_many_rule_files_leaves_no_memory_mapping_behind(tmp_path):
    """`read(MAX_FILE_BYTES + 1)` made glibc map 2 MB for every rule file, a mapping the
    shrunk bytes object kept: 100,000 rules passed `vm.max_map_count` (65,530) and the
    next allocation failed (`ImportError … Cannot allocate memory`). Read by their size,
    300 files held at once add no mapping per file."""
    from pipeline.ingest.detections import corpus

    paths = []
    for n in range(300):
        path = tmp_path / f"r{n}.yml"
        path.write_bytes(b"title: rule %d\n" % n)
        paths.append(str(path))
    before = _mappings()
    held = [corpus._read(p) for p in paths]
    grown = _mappings() - before
    assert held[7] == b"title: rule 7\n" and all(isinstance(h, bytes) for h in held)
    assert grown < 30, f"{grown} new memory mappings for {len(held)} files read"
    files = [tmp_path / "f.json"]
    files[0].write_bytes(b"{}")
    before = _mappings()
    held = [limits.read_limited(files[0], limits=limits.DEFAULT) for _ in range(300)]
    assert _mappings() - before < 30


def test_a_rule_file_that_grows_past_the_limit_while_read_is_skipped(tmp_path):
    """Size from fstat, then that many bytes plus one: a file without a size (a FIFO) or
    one that grew is read on in chunks up to the limit and refused past it."""
    import threading

    from pipeline.ingest.detections import corpus

    fifo = tmp_path / "growing.yml"
    os.mkfifo(fifo)

    def write() -> None:
        try:
            fifo.write_bytes(b"x" * (corpus.MAX_FILE_BYTES + 10))
        except BrokenPipeError:  # the reader stopped at the limit, as it should
            pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    problem = corpus._read(str(fifo))
    writer.join(timeout=60)
    assert problem == f"file grew past the {corpus.MAX_FILE_BYTES:,}-byte limit for a rule file while read; skipped"


def test_an_oversized_sources_file(tmp_path, monkeypatch):
    path = sources_with(tmp_path, "")
    monkeypatch.setenv("ATTACK_PIPELINE_MAX_FILE_BYTES", "100")
    with pytest.raises(ConfigError, match=r"sources\.toml: file is [\d,]+ bytes, over the limit of 100 bytes"):
        load_config(path)


# -- YAML ---------------------------------------------------------------------------------


def test_billion_laughs_is_refused_before_it_expands_everywhere(tmp_path):
    (tmp_path / "laughs.yaml").write_text(BILLION_LAUGHS)
    tables = []

    def load_everywhere() -> None:
        with pytest.raises(limits.YamlLimitError, match="more than 100,000 nodes"):
            limits.yaml_load(BILLION_LAUGHS, limits=limits.DEFAULT)
        tables.append(read_security_stack(tmp_path, STACK))
        for module, fmt, rel in ((sigma, "sigma-yaml", "rules/laughs.yml"), (splunk, "splunk-yaml", "detections/a/laughs.yml")):
            with pytest.raises(InputError) as info:
                module.parse(BILLION_LAUGHS.encode(), ctx(fmt, rel))
            assert info.value.one_line().startswith(f"{rel}: YAML document expands to more than 100,000 nodes")

    # Refused on the composed node graph: the 10^9 strings are never built (a few MB).
    assert peak_memory(load_everywhere) < 8_000_000
    [issue] = tables[0].issues
    assert issue.code == "bad-yaml" and issue.file.endswith("laughs.yaml") and "100,000 nodes" in issue.problem


def test_a_self_referring_anchor_is_refused():
    with pytest.raises(limits.YamlLimitError, match="an anchor refers to itself"):
        limits.yaml_load("a: &a [1, *a]", limits=limits.DEFAULT)
    with pytest.raises(limits.YamlLimitError):
        limits.yaml_load_all("---\nx: 1\n---\nb: &b {c: *b}\n", limits=limits.DEFAULT)


def test_aliases_within_the_limit_load_normally():
    assert limits.yaml_load("a: &x {b: 1}\nc: *x\n", limits=limits.DEFAULT) == {"a": {"b": 1}, "c": {"b": 1}}
    with pytest.raises(limits.YamlLimitError, match="more than 6 nodes"):
        limits.yaml_load("a: &x {b: 1}\nc: *x\n", limits=limits.Limits(yaml_max_nodes=6))  # 1 + (1 + 3) * 2 = 9 expanded nodes


@pytest.mark.parametrize("deep", ["- " * 100_000 + "x", "[" * 100_000, "a:\n" + "".join(" " * i + "b:\n" for i in range(1, 1200))])
def test_deep_yaml_is_refused_without_crashing(deep, monkeypatch):
    """libyaml's composer recursed in C on such files and killed the interpreter. The
    depth is counted on the event stream, which stops one level past the limit."""
    import yaml

    parse = yaml.parse
    events = []

    def counted(*args, **kwargs):
        for event in parse(*args, **kwargs):
            events.append(event)
            yield event

    monkeypatch.setattr(yaml, "parse", counted)
    for data in (deep, deep.encode("utf-16")):
        events.clear()
        with pytest.raises(limits.YamlLimitError, match="nested more than 1,000 levels deep"):
            limits.yaml_load(data, limits=limits.DEFAULT)
        assert len(events) <= 2 * 1_000 + 3  # stream, document, a key and a collection start a level, 1,001 levels


def test_deep_security_stack_file_is_an_issue(tmp_path):
    (tmp_path / "deep.yaml").write_text("- " * 100_000 + "x")
    [issue] = read_security_stack(tmp_path, STACK).issues
    assert issue.code == "bad-yaml" and "nested more than 1,000 levels deep" in issue.problem


def test_yaml_nesting_up_to_the_limit_loads():
    chosen = limits.Limits(yaml_max_depth=50)
    assert limits.yaml_load("[" * 50 + "]" * 50, limits=chosen) is not None
    with pytest.raises(limits.YamlLimitError):
        limits.yaml_load("[" * 51 + "]" * 51, limits=chosen)


@pytest.mark.realdata
def test_every_real_yaml_file_is_within_the_limits(mirror):
    loaded = 0
    for path in sorted((mirror / "detections").rglob("*.yml")) + sorted((mirror / "mappings").rglob("*.yaml")):
        limits.yaml_load_all(path.read_bytes(), limits=limits.DEFAULT)
        loaded += 1
    assert loaded > 6000


# -- JSON ---------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [65, 1000, 1024, 5000])
def test_deeply_nested_json_is_one_line(tmp_path, depth):
    path = tmp_path / "deep.json"
    path.write_bytes(b'{"type": "bundle", "objects": [' + b"[" * depth + b"]" * depth + b"]}")
    with pytest.raises(PipelineError) as info:
        read_attack_release(path, domain="enterprise", version="1.0")
    assert info.value.one_line() == (
        f"{path}: JSON nested more than 64 levels deep (json_max_depth; raise it in [settings] or ATTACK_PIPELINE_JSON_MAX_DEPTH)"
    )
    table = read_mapex(path, MAPEX)
    assert [(i.code, i.file) for i in table.issues] == [("too-deep", str(path))]


def test_json_depth_limit_is_exact_and_configurable():
    for limit in (1, 8, 64, 1024):
        chosen = limits.Limits(json_max_depth=limit)
        doc = limits.loads_json(b"[" * limit + b"]" * limit, "f", limits=chosen)
        for _ in range(limit - 1):
            [doc] = doc
        assert doc == []
        if limit < 1024:
            with pytest.raises(InputError, match=f"more than {limit} levels"):
                limits.loads_json(b'{"a":' * (limit + 1) + b"1" + b"}" * (limit + 1), "f", limits=chosen)


@pytest.mark.parametrize("text", [b"1],[2", b"[1] [2]", b"", b"]", b"[", b'"a"]', b"{}}"])
def test_the_depth_wrapper_never_accepts_invalid_json(text):
    with pytest.raises(orjson.JSONDecodeError) as info:
        limits.loads_json(text, "f", limits=limits.DEFAULT)
    with pytest.raises(orjson.JSONDecodeError) as plain:
        orjson.loads(text)
    assert str(info.value) == str(plain.value)


@pytest.mark.realdata
def test_the_enterprise_bundle_is_within_the_limits(mirror):
    """The check's cost against plain orjson is measured in bench/bench_limits.py."""
    from pipeline.ingest.bundle import read_json_bytes

    data = read_json_bytes(mirror / "attack" / "enterprise-attack-18.1.json.gz")
    doc = limits.loads_json(data, "enterprise", limits=limits.DEFAULT)
    assert len(doc["objects"]) > 20_000 and doc == orjson.loads(data)


# -- network ------------------------------------------------------------------------------


_RELEASE = threading.Event()


class _Stall(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server API
        self.send_response(200)
        self.send_header("Content-Length", "10")
        self.end_headers()
        self.wfile.write(b"12")
        self.wfile.flush()
        # Stalls until the test is over (at most 60 s): only a timeout ends the download
        # with "timed out"; without one it would end as a short body.
        _RELEASE.wait(60)

    def log_message(self, *args):
        pass


@pytest.fixture
def stalling_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stall)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _RELEASE.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}/file"
    _RELEASE.set()
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("how", ["settings", "environment"])
def test_the_download_timeout_comes_from_the_limits(tmp_path, monkeypatch, stalling_server, how):
    import io

    from pipeline.fetch.http import DownloadError, Downloader
    from pipeline.fetch.resolver import Resolver

    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    if how == "settings":
        config = load_config(sources_with(tmp_path, "http_timeout = 0.2"))
    else:
        monkeypatch.setenv("ATTACK_PIPELINE_HTTP_TIMEOUT", "0.2")
        config = load_config(sources_with(tmp_path, ""))
    # The resolver's downloader takes the configuration's timeout.
    downloader = replace(Resolver.for_config(config, None).downloader, retries=0)
    assert downloader.timeout == 0.2
    with pytest.raises(DownloadError, match=r"timed out \(no data for 0.2 s\)"):
        downloader.download(stalling_server, io.BytesIO())
    assert Downloader(timeout=5).timeout == 5  # an explicit value (--timeout) wins


def test_default_download_timeout_is_sixty_seconds():
    from pipeline.fetch.http import Downloader

    assert Downloader().timeout == 60.0
    assert socket.getdefaulttimeout() is None  # nothing relies on a global socket timeout


def test_a_bounded_read_allocates_what_the_file_holds_not_the_limit(tmp_path):
    """read(limit + 1) made Python allocate 256 MB for every file, even an empty one."""
    import tracemalloc

    path = tmp_path / "small.json"
    path.write_bytes(b"{}")
    tracemalloc.start()
    try:
        assert limits.read_limited(path, limits=limits.DEFAULT) == b"{}"
        assert limits.gunzip_limited(gzip.compress(b"{}"), "small.json.gz", limits=limits.DEFAULT) == b"{}"
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


def test_a_special_file_without_a_size_is_still_bounded():
    with pytest.raises(InputError, match=r"/dev/zero: file is 4,097 bytes, over the limit of 4,096 bytes"):
        limits.read_limited(Path("/dev/zero"), limits=limits.Limits(max_file_bytes=4096))
