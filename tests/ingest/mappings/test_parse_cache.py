"""The parsed-table cache: a hit returns the table the parse returned, warnings included,
and anything the parse depends on (the file, the parser code, the limits, the ids patterns
expand against) turns a hit into a miss; a damaged entry is a miss, and the environment
switch bypasses the cache."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from pipeline.core.limits import Limits
from pipeline.ingest import mappings
from pipeline.ingest.mappings import cache as parse_cache
from pipeline.ingest.mappings import Universe, read_catalog, read_mapping_table
from pipeline.ingest.release_cache import NO_CACHE_ENV

TSV_SOURCE = SimpleNamespace(
    id="t/tsv", format="nist-mappings-tsv", framework="nist_800_53", framework_version="rev5", domain="enterprise", attack_version="8.2"
)
CAT_SOURCE = SimpleNamespace(
    id="t/cat", format="nist-controls-tsv", framework="nist_800_53", framework_version="rev4", domain="enterprise", attack_version=""
)
TECHNIQUES = ["T1003", "T1003.001", "T1003.005", "T1003.006", "T1046", "T1072"]
CONTROLS = ["AC-2", "AC-4", "IA-2"]


def write_tsv(path, rows):
    path.write_text("\n".join("\t".join(r) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _cache_on(monkeypatch):
    monkeypatch.delenv(NO_CACHE_ENV, raising=False)


@pytest.fixture
def table(tmp_path):
    return write_tsv(
        tmp_path / "m.tsv",
        [
            ["date delivered", "mitigationID", "techniqueID", "controlID", "description"],
            ["8/17/20", "M1015", r"T1003(\.006|\.005)?", "(AC-(2|4)|IA-2)", ""],
            ["8/17/20", "M1015", "T10x6", "AC-4", ""],  # a warning, which must survive the cache
        ],
    )


@pytest.fixture
def calls(monkeypatch):
    """Counts the parses of the TSV mapping reader and the TSV catalogue reader."""
    counted: list[str] = []
    for registry, fmt in ((mappings.MAPPING_FORMATS, "nist-mappings-tsv"), (mappings.CATALOG_FORMATS, "nist-controls-tsv")):
        real = registry[fmt]

        def reader(*args, _real=real, _fmt=fmt, **kwargs):
            counted.append(_fmt)
            return _real(*args, **kwargs)

        monkeypatch.setitem(registry, fmt, reader)
    return counted


def read(path, cache, *, techniques=TECHNIQUES, controls=CONTROLS, limits=Limits()):
    return read_mapping_table(
        TSV_SOURCE, path, file="m.tsv", techniques=Universe(techniques), controls=Universe(controls), limits=limits, cache=cache
    )


def entries(cache):
    return sorted((cache / "parsed" / "mappings").glob("*.pickle"))


def test_a_hit_returns_an_equal_table_with_its_warnings(tmp_path, table, calls):
    cache = tmp_path / "cache"
    first = read(table, cache)
    assert [i.code for i in first.issues] == ["bad-id"] and first.mappings
    second = read(table, cache)
    assert calls == ["nist-mappings-tsv"] and len(entries(cache)) == 1
    assert second == first and second.issues == first.issues


def test_a_changed_file_misses(tmp_path, table, calls):
    cache = tmp_path / "cache"
    first = read(table, cache)
    write_tsv(table, [["date delivered", "mitigationID", "techniqueID", "controlID", "description"], ["8/17/20", "M1015", "T1046", "AC-4", ""]])
    st = table.stat()
    os.utime(table, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # even on a coarse clock
    second = read(table, cache)
    assert calls == ["nist-mappings-tsv"] * 2
    assert second != first and [(m.subject_id, m.technique_id) for m in second.mappings] == [("AC-4", "T1046")]


def test_changed_code_limits_or_universes_miss(tmp_path, table, calls, monkeypatch):
    cache = tmp_path / "cache"
    read(table, cache)
    read(table, cache, limits=Limits(json_max_depth=10))
    read(table, cache, techniques=TECHNIQUES[:-1])
    read(table, cache, controls=CONTROLS[:-1])
    monkeypatch.setattr(parse_cache, "code_fingerprint", lambda: "other code")
    read(table, cache)
    assert calls == ["nist-mappings-tsv"] * 5 and len(entries(cache)) == 5


def test_a_narrower_universe_changes_the_table_it_returns(tmp_path, table):
    cache = tmp_path / "cache"
    wide = read(table, cache)
    narrow = read(table, cache, controls=["AC-2"])
    assert {m.subject_id for m in wide.mappings} == {"AC-2", "AC-4", "IA-2"}
    assert {m.subject_id for m in narrow.mappings} == {"AC-2"}


@pytest.mark.parametrize("content", [b"", b"not a pickle", b"\x80\x05K\x01.", b"\x80\x05\x95"])
def test_a_damaged_entry_is_a_miss_and_is_rewritten(tmp_path, table, calls, content):
    cache = tmp_path / "cache"
    first = read(table, cache)
    (entry,) = entries(cache)
    entry.write_bytes(content)  # truncated, garbage, a pickle of the wrong type
    again = read(table, cache)
    assert again == first and calls == ["nist-mappings-tsv"] * 2
    assert read(table, cache) == first and calls == ["nist-mappings-tsv"] * 2


def test_the_environment_switch_bypasses_the_cache(tmp_path, table, calls, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv(NO_CACHE_ENV, "1")
    read(table, cache)
    read(table, cache)
    assert calls == ["nist-mappings-tsv"] * 2 and not (cache / "parsed").exists()


def test_no_cache_directory_means_no_cache(tmp_path, table, calls):
    read(table, None)
    read(table, None)
    assert calls == ["nist-mappings-tsv"] * 2


def test_a_missing_file_is_parsed_and_reported_not_cached(tmp_path, calls):
    cache = tmp_path / "cache"
    t = read(tmp_path / "absent.tsv", cache)
    assert [i.code for i in t.issues] == ["unreadable"] and not entries(cache)


def test_catalogues_are_cached_too(tmp_path, calls):
    cache = tmp_path / "cache"
    path = write_tsv(
        tmp_path / "r4.tsv",
        [
            ["FAMILY", "NAME", "TITLE", "PRIORITY", "BASELINE-IMPACT", "DESCRIPTION", "SUPPLEMENTAL GUIDANCE", "RELATED"],
            ["ACCESS CONTROL", "AC-2", "ACCOUNT MANAGEMENT", "P1", "LOW", "The organization:", "Guidance.", "AC-3"],
            ["ACCESS CONTROL", "AC-02x", "BAD", "", "", "", "", ""],
        ],
    )
    first = read_catalog(CAT_SOURCE, path, file="r4.tsv", cache=cache)
    second = read_catalog(CAT_SOURCE, path, file="r4.tsv", cache=cache)
    assert calls == ["nist-controls-tsv"] and second == first and [i.code for i in second.issues] == ["bad-id"]
    read_catalog(CAT_SOURCE, path, file="other.tsv", cache=cache)  # the name warnings carry is part of the key
    assert calls == ["nist-controls-tsv"] * 2


def test_a_folder_source_misses_when_a_file_is_added(tmp_path):
    folder = tmp_path / "stack"
    folder.mkdir()
    (folder / "a.yaml").write_text("x: 1\n")
    before = parse_cache.file_identity(folder)
    (folder / "b.yaml").write_text("x: 2\n")
    assert parse_cache.file_identity(folder) != before


def test_a_file_rewritten_while_parsed_is_not_stored(tmp_path, table, monkeypatch):
    cache = tmp_path / "cache"
    real = mappings.MAPPING_FORMATS["nist-mappings-tsv"]

    def reader(path, *args, **kwargs):
        out = real(path, *args, **kwargs)
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # rewritten after it was read
        return out

    monkeypatch.setitem(mappings.MAPPING_FORMATS, "nist-mappings-tsv", reader)
    read(table, cache)
    assert not entries(cache)
