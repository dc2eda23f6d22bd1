"""The parsed-release cache answers only for an unchanged bundle and survives damage."""

from __future__ import annotations

import os

import pytest
import stix_factory as f
from pipeline.ingest.attack import read_attack_release
from pipeline.ingest.release_cache import cached_read


def counting_reader():
    calls = []

    def read(path, *, domain, version):
        calls.append(path)
        return read_attack_release(path, domain=domain, version=version)

    return read, calls


def test_second_read_comes_from_the_cache(tmp_path):
    bundle = f.write(tmp_path / "b.json.gz", f.small_bundle(), gz=True)
    read, calls = counting_reader()
    first = cached_read(read, bundle, domain="enterprise", version="1.0", cache=tmp_path / "cache")
    second = cached_read(read, bundle, domain="enterprise", version="1.0", cache=tmp_path / "cache")
    assert len(calls) == 1 and second == first
    assert second.get("technique:T1046").name == "Network Service Discovery"
    assert not list((tmp_path / "cache").rglob("*.part"))


def test_an_edited_bundle_is_read_again(tmp_path):
    bundle = f.write(tmp_path / "b.json", f.small_bundle())
    read, calls = counting_reader()
    cached_read(read, bundle, domain="enterprise", version="1.0", cache=tmp_path / "cache")
    doc = f.small_bundle()
    doc["objects"][3]["name"] = "Renamed"
    f.write(bundle, doc)
    os.utime(bundle, ns=(1, 1))
    again = cached_read(read, bundle, domain="enterprise", version="1.0", cache=tmp_path / "cache")
    assert len(calls) == 2 and again.get("technique:T1046").name == "Renamed"
    # Another version label is another entry.
    cached_read(read, bundle, domain="enterprise", version="2.0", cache=tmp_path / "cache")
    assert len(calls) == 3


def test_a_damaged_entry_is_replaced(tmp_path):
    bundle = f.write(tmp_path / "b.json", f.small_bundle())
    read, calls = counting_reader()
    cached_read(read, bundle, domain="enterprise", version="1.0", cache=tmp_path / "cache")
    [entry] = (tmp_path / "cache").rglob("*.pickle")
    entry.write_bytes(b"not a pickle")
    release = cached_read(read, bundle, domain="enterprise", version="1.0", cache=tmp_path / "cache")
    assert len(calls) == 2 and release.get("technique:T1046") is not None


def test_a_read_not_stored_is_still_answered_from_an_entry(tmp_path):
    """`store=False` (a caller that caches a digest of the release instead) writes no
    entry, but an entry another command wrote answers it."""
    bundle = f.write(tmp_path / "b.json", f.small_bundle())
    read, calls = counting_reader()
    cache = tmp_path / "cache"
    first = cached_read(read, bundle, domain="enterprise", version="1.0", cache=cache, store=False)
    assert not list(cache.rglob("*.pickle")) and len(calls) == 1
    cached_read(read, bundle, domain="enterprise", version="1.0", cache=cache)
    assert len(list(cache.rglob("*.pickle"))) == 1 and len(calls) == 2
    again = cached_read(read, bundle, domain="enterprise", version="1.0", cache=cache, store=False)
    assert len(calls) == 2 and again == first


def test_unwritable_cache_only_costs_speed(tmp_path):
    bundle = f.write(tmp_path / "b.json", f.small_bundle())
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache directory should be")
    read, calls = counting_reader()
    assert cached_read(read, bundle, domain="enterprise", version="1.0", cache=blocker).get("technique:T1046")
    assert cached_read(read, bundle, domain="enterprise", version="1.0", cache=None).get("technique:T1046")
    assert len(calls) == 2


@pytest.mark.parametrize(
    "command, entry",
    [
        # `show --attack-only` loads the ATT&CK graph through the graph cache.
        (["show", "T1046"], "graph-*.pickle"),
        # `stats --attack-only` counts from the records (pipeline.graph.counts): the parsed-release cache.
        (["stats"], "enterprise-99.0-*.pickle"),
    ],
)
def test_attack_only_caches_keep_output_and_warnings(tmp_path, command, entry):
    """A second `--attack-only` run answers from the cache: same answer, same warnings;
    an edited bundle is read again."""
    from click.testing import CliRunner

    from pipeline.cli import cli

    mirror = tmp_path / "mirror"
    bundle_path = mirror / "attack" / "enterprise-attack-99.0.json.gz"
    doc = f.small_bundle()
    doc["objects"].append({"type": "x-vendor-thing", "id": "x-vendor-thing--1"})
    f.write(bundle_path, doc, gz=True)
    sources = f.sources_file(tmp_path / "sources.toml", [("enterprise", "99.0")])
    env = {"ATTACK_PIPELINE_CACHE": str(tmp_path / "cache")}
    args = [*command, "--attack-only", "--json", "--verbose", "--mirror", str(mirror), "--sources", str(sources)]
    first = CliRunner().invoke(cli, args, env=env)
    second = CliRunner().invoke(cli, args, env=env)
    assert first.exit_code == second.exit_code == 0
    assert first.stdout == second.stdout and first.stderr == second.stderr
    assert "unknown type 'x-vendor-thing'" in second.stderr
    assert list((tmp_path / "cache" / "parsed" / "attack").glob(entry))
    # an edit both answers see: a new technique (counted) and T1046 renamed (shown)
    for obj in doc["objects"]:
        if obj.get("name") == "Network Service Discovery":
            obj["name"] = "Network Service Scanning"
    doc["objects"].append(f.technique("T1049", "System Network Connections Discovery", "discovery"))
    f.write(bundle_path, doc, gz=True)
    os.utime(bundle_path, ns=(2, 2))
    third = CliRunner().invoke(cli, args, env=env)
    assert third.exit_code == 0 and third.stdout != first.stdout


def test_a_target_release_read_keeps_its_citations_for_the_pages(tmp_path, monkeypatch):
    """A workspace that parses its target release (no parsed entry yet) also puts the
    bundle's citations and contributors into their cache, from the objects it read: the
    pages then take them from there instead of reading the bundle again."""
    from pipeline.core.config import load_config
    from pipeline.ingest import attack_texts
    from pipeline.workspace import Workspace

    mirror = tmp_path / "mirror"
    doc = f.small_bundle()
    (t1046,) = [o for o in doc["objects"] if o.get("name") == "Network Service Discovery"]
    t1046["external_references"].append({"source_name": "Example Report", "url": "https://r.test/", "description": "A report."})
    t1046["x_mitre_contributors"] = ["Ada Lovelace"]
    bundle = f.write(mirror / "attack" / "enterprise-attack-99.0.json.gz", doc, gz=True)
    sources = f.sources_file(tmp_path / "sources.toml", [("enterprise", "99.0")])
    monkeypatch.setenv("ATTACK_PIPELINE_CACHE", str(tmp_path / "cache"))
    expected = attack_texts.read_attack_texts(bundle)
    assert expected.references and expected.contributors

    Workspace.open(load_config(sources), mirror, "99.0").releases()
    (entry,) = (tmp_path / "cache" / "parsed" / "attack-texts").glob("*.json")

    def never(*_a, **_k):
        raise AssertionError("the bundle was read again")

    monkeypatch.setattr(attack_texts, "read_bundle", never)
    assert attack_texts.cached_attack_texts(bundle, tmp_path / "cache") == expected
    # an older release read for its names only keeps nothing
    entry.unlink()
    Workspace.open(load_config(sources), mirror, "99.0").release("enterprise", "99.0", keep=False)
    assert not list((tmp_path / "cache" / "parsed" / "attack-texts").glob("*.json"))
