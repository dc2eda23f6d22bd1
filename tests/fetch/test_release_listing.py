"""ATT&CK 19.0 and 19.1 listed: the digests table, a download checked against it and pinned
on first fetch (a local server on 127.0.0.1), and the default target release."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from test_fetch_network import FAST, Server, ok  # noqa: F401 - the local server of the fetch tests
from testpaths import ROOT
from pipeline.cli import cli
from pipeline.core.config import load_config
from pipeline.fetch.newest import default_release
from pipeline.fetch.official import official_sha256


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("ATTACK_PIPELINE_OFFLINE", raising=False)


def test_the_digests_table_equals_mitreattack_python():
    from mitreattack import release_info

    config = load_config(ROOT / "data" / "sources.toml")
    for s in config.attack_releases():
        table = release_info.STIX21 if s.stix_version == "2.1" else release_info.STIX20
        assert s.sha256 == table[s.domain][s.attack_version], s.id
        assert official_sha256(s) == s.sha256


def test_19_0_and_19_1_are_listed_for_every_domain_as_stix_2_1():
    config = load_config(ROOT / "data" / "sources.toml")
    for domain in ("enterprise", "mobile", "ics"):
        for version in ("19.0", "19.1"):
            s = config.attack_release(domain, version)
            assert s is not None and s.stix_version == "2.1"
            assert s.url == (
                "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/"
                f"{domain}-attack/{domain}-attack-{version}.json"
            )
            assert s.mirror_path == f"attack/{domain}-attack-{version}.json"


PAYLOAD = b'{"type": "bundle", "id": "bundle--0", "objects": []}\n'
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


def _sources(tmp_path: Path, base: str, digest: str) -> Path:
    path = tmp_path / "data" / "sources.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"""
[attack]
mirror = "attack/{{domain}}-attack-{{version}}.json"
url_stix20 = "{base}/cti/{{domain}}-attack-{{version}}.json"
url_stix21 = "{base}/stix21/{{domain}}-attack-{{version}}.json"
releases = [
  {{ domain = "ics", version = "18.1", stix = "2.1" }},
  {{ domain = "ics", version = "19.1", stix = "2.1", sha256 = "{digest}" }},
]
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path / "www")
    yield s
    s.close()


def _fetch(sources: Path, tmp_path: Path, *args: str):
    return CliRunner().invoke(
        cli,
        ["fetch", "--attack-version", "19.1", "--sources", str(sources), "--cache", str(tmp_path / "cache"),
         "--timeout", "2", "--retries", "0", *args],
        env={"ATTACK_PIPELINE_MIRROR": str(tmp_path / "mirror")},
    )


def test_fetch_attack_version_checks_the_official_digest_and_pins_on_first_fetch(tmp_path, server, monkeypatch):
    (tmp_path / "mirror" / "attack").mkdir(parents=True)
    (tmp_path / "mirror" / "attack" / "ics-attack-18.1.json").write_bytes(b"")
    sources = _sources(tmp_path, server.base, DIGEST)
    server.route("stix21/ics-attack-19.1.json", ok(PAYLOAD))
    first = _fetch(sources, tmp_path, "--json")
    assert first.exit_code == 0, first.output
    [got] = orjson.loads(first.stdout)["sources"]
    assert (got["id"], got["origin"], got["official"], got["lock"]) == ("attack/ics-19.1", "url", "verified", "pinned")
    lock = orjson.loads(sources.with_name("sources.lock").read_bytes())
    assert lock["sources"]["attack/ics-19.1"]["url"]["sha256"] == DIGEST
    # Before the fetch the default was 18.1 (in the mirror); the fetched release in the cache
    # is now the default target.
    config = load_config(sources)
    monkeypatch.setenv("ATTACK_PIPELINE_CACHE", str(tmp_path / "elsewhere"))
    assert default_release(config, tmp_path / "mirror", "ics").version == "18.1"
    monkeypatch.setenv("ATTACK_PIPELINE_CACHE", str(tmp_path / "cache"))
    assert default_release(config, tmp_path / "mirror", "ics").version == "19.1"
    second = _fetch(sources, tmp_path, "--json")
    assert orjson.loads(second.stdout)["sources"][0]["lock"] == "verified"


def test_a_download_that_is_not_the_official_file_is_refused(tmp_path, server):
    (tmp_path / "mirror" / "attack").mkdir(parents=True)
    sources = _sources(tmp_path, server.base, DIGEST)
    server.route("stix21/ics-attack-19.1.json", ok(PAYLOAD.replace(b"[]", b"[ ]")))
    r = _fetch(sources, tmp_path)
    assert r.exit_code == 1
    assert r.stderr.splitlines()[0].startswith(
        "error: source 'attack/ics-19.1': sha256 mismatch with the official ATT&CK release hash "
        f"(data/sources.toml, mitreattack-python): expected {DIGEST}, actual "
    )
    assert not sources.with_name("sources.lock").exists()
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


def test_the_default_is_the_newest_release_at_hand(tmp_path):
    sources = _sources(tmp_path, "http://127.0.0.1:9", DIGEST)
    config = load_config(sources)
    mirror = tmp_path / "mirror"
    (mirror / "attack").mkdir(parents=True)
    (mirror / "attack" / "ics-attack-18.1.json.gz").write_bytes(b"")
    found = default_release(config, mirror, "ics")
    assert (found.version, found.missing) == ("18.1", ("19.1",))
    assert found.notice == (
        "ATT&CK 19.1 is listed but not available offline; using 18.1 "
        "(run `attack-pipeline fetch --attack-version 19.1` to get it)"
    )
    (mirror / "attack" / "ics-attack-19.1.json").write_bytes(b"")
    assert default_release(config, mirror, "ics").notice is None


def test_a_bad_digest_in_the_sources_file_is_one_line(tmp_path):
    from pipeline.core.errors import ConfigError

    sources = _sources(tmp_path, "http://127.0.0.1:9", "ABC")
    with pytest.raises(ConfigError, match=r"releases\[1\]: sha256 'ABC' is not 64 lower-case hex digits"):
        load_config(sources)
