"""Download faults against a cache that already holds a good copy of the same source.

`fetch --update` bypasses the cache and downloads again; whatever goes wrong on the
wire (a short body, a 500 that never ends, a 404, a stall, a refused connection, a
redirect loop, bytes that fail the official release hash, a broken archive), the good
entry must stay byte for byte as it was and the cache must hold no temp file or
half-unpacked folder afterwards. The servers and helpers are those of
test_fetch_network; only the cache checks are new here.
"""

from __future__ import annotations

import gzip
import hashlib
import os

import pytest

from fetch_support import mirror_data
from pipeline.core.config import load_config
from pipeline.core.errors import PipelineError
from pipeline.fetch.hashing import tree_digest
from pipeline.fetch.http import Downloader
from test_fetch_network import (
    ICS_URL,
    PAYLOAD,
    RULES,
    Server,
    _no_proxy,
    cut_short,
    github_archive,
    ok,
    redirect,
    resolver,
    status,
    write_sources,
)

FAULTY = Downloader(timeout=0.2, retries=1, backoff=0.01)
__all__ = ["_no_proxy"]  # that module's autouse fixture (no proxy, network allowed) applies here too


def snapshot(cache) -> dict[str, tuple]:
    """Every entry of the cache: path -> (kind, bytes hash, inode). The inode proves a
    file was not replaced by an identical copy behind our back."""
    out = {}
    for p in sorted(cache.rglob("*")):
        rel = p.relative_to(cache).as_posix()
        if p.is_symlink():
            out[rel] = ("link", os.readlink(p), None)
        elif p.is_dir():
            out[rel] = ("dir", None, None)
        else:
            out[rel] = ("file", hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_ino)
    return out


def temp_entries(cache) -> list[str]:
    return [p.relative_to(cache).as_posix() for p in cache.rglob("*") if ".part" in p.name or p.name.startswith(".")]


def _fault(server, path: str, kind: str, body: bytes):
    """Script `kind` for every request of `path` (the last behaviour repeats)."""
    if kind == "truncated":
        server.route(path, cut_short(body, len(body) // 3))
    elif kind == "http-500":
        server.route(path, status(500))
    elif kind == "http-404":
        server.route(path, status(404))
    elif kind == "stalled-body":
        server.route(path, cut_short(body, 10, pause=0.6))
    elif kind == "redirect-loop":
        server.route(path, redirect(server.url(path + ".bounce")))
        server.route(path + ".bounce", redirect(server.url(path)))
    elif kind != "refused":
        raise AssertionError(kind)


FILE_FAULTS = ["truncated", "http-500", "http-404", "stalled-body", "redirect-loop", "refused"]


@pytest.mark.parametrize("fault", FILE_FAULTS)
def test_a_failed_update_leaves_the_good_file_entry_alone(tmp_path, fault):
    server = Server(tmp_path / "www")
    try:
        sources = write_sources(tmp_path, server.base)
        source = load_config(sources).source("demo/file")
        server.route("files/table.json", ok(PAYLOAD))
        good = resolver(tmp_path, sources).fetch(source)
        assert good.origin == "url" and good.path.read_bytes() == PAYLOAD
        before = snapshot(tmp_path / "cache")

        # The same URL now fails; `fetch --update` must not touch the entry.
        new_body = PAYLOAD.replace(b"bundle", b"BUNDLE")
        if fault == "refused":
            server.close()
        else:
            _fault(server, "files/table.json", fault, new_body)
        with pytest.raises(PipelineError) as info:
            resolver(tmp_path, sources, update=True, downloader=FAULTY).fetch(source)
        line = info.value.one_line()
        assert "\n" not in line and "could not download" in line and "source 'demo/file'" in line
        assert snapshot(tmp_path / "cache") == before
        assert temp_entries(tmp_path / "cache") == []
        # And the other commands still read the good copy, without the network.
        again = resolver(tmp_path, sources, allow_network=False).resolve(source)
        assert again.origin == "cache" and again.path.read_bytes() == PAYLOAD
    finally:
        if fault != "refused":
            server.close()


@pytest.mark.parametrize("fault", ["truncated", "http-500", "stalled-body"])
def test_a_failed_first_download_leaves_an_empty_cache(tmp_path, fault):
    """No good entry yet: the fault leaves no file at all (no empty or partial entry a
    later run could take for the source)."""
    server = Server(tmp_path / "www")
    try:
        sources = write_sources(tmp_path, server.base)
        _fault(server, "files/table.json", fault, PAYLOAD)
        with pytest.raises(PipelineError):
            resolver(tmp_path, sources, downloader=FAULTY).fetch(load_config(sources).source("demo/file"))
        cache = tmp_path / "cache"
        assert not cache.exists() or [p for p in cache.rglob("*") if p.is_file()] == []
        assert not cache.exists() or temp_entries(cache) == []
    finally:
        server.close()


@pytest.mark.parametrize("fault", ["truncated", "http-500", "not-a-tarball"])
def test_a_failed_update_leaves_the_good_folder_entry_alone(tmp_path, fault):
    """A folder source is replaced by rename only after its archive unpacked and
    checked; a bad archive leaves the old tree and no half-unpacked folder."""
    server = Server(tmp_path / "www")
    try:
        archive = github_archive(tmp_path / "build" / "a.tar.gz", RULES).read_bytes()
        sources = write_sources(tmp_path, server.base)
        source = load_config(sources).source("demo/rules")
        server.route("archive/abc123.tar.gz", ok(archive))
        with resolver(tmp_path, sources) as r:
            good = r.fetch(source)
        assert good.digest.files == 2
        before = snapshot(tmp_path / "cache")
        if fault == "not-a-tarball":
            server.route("archive/abc123.tar.gz", ok(b"<html>rate limited</html>"))
        else:
            _fault(server, "archive/abc123.tar.gz", fault, archive)
        with pytest.raises(PipelineError) as info:
            with resolver(tmp_path, sources, update=True, downloader=FAULTY) as r:
                r.fetch(source)
        assert "\n" not in info.value.one_line()
        assert snapshot(tmp_path / "cache") == before
        assert temp_entries(tmp_path / "cache") == []
        assert tree_digest(good.path) == good.digest
    finally:
        server.close()


def pinned_good_copy(tmp_path, server):
    """demo/file downloaded into the cache and pinned in the lock: (sources, source, fetched)."""
    sources = write_sources(tmp_path, server.base)
    source = load_config(sources).source("demo/file")
    server.route("files/table.json", ok(PAYLOAD))
    first = resolver(tmp_path, sources)
    good = first.fetch(source)
    first.save_lock()
    return sources, source, good


def test_a_damaged_entry_is_dropped_and_a_wrong_download_never_replaces_it(tmp_path):
    """A cache entry that no longer matches its pin is worthless; the download that
    should replace it fails the pin too: the cache ends empty, not holding either."""
    server = Server(tmp_path / "www")
    try:
        sources, source, good = pinned_good_copy(tmp_path, server)
        good.path.write_bytes(PAYLOAD[:-1] + b"X")  # damaged on disk
        server.route("files/table.json", ok(PAYLOAD + b"tampered"))
        warnings: list[str] = []
        with pytest.raises(PipelineError, match="sha256 mismatch") as info:
            resolver(tmp_path, sources, warn=warnings.append).fetch(source)
        assert "source 'demo/file'" in info.value.one_line()
        assert len(warnings) == 1 and "dropped" in warnings[0]
        cache = tmp_path / "cache"
        assert [p for p in cache.rglob("*") if p.is_file()] == []
        assert temp_entries(cache) == []
    finally:
        server.close()


@pytest.mark.realdata
@pytest.mark.parametrize("fault", ["wrong-checksum", "truncated", "http-500"])
def test_a_good_official_release_survives_a_bad_update(tmp_path, fault):
    """The real ICS 18.1 release in the cache (verified against its published hash);
    an update that serves other bytes, a short body or a 500 keeps it."""
    server = Server(tmp_path / "www")
    try:
        sources = write_sources(tmp_path, server.base)
        ics = load_config(sources).attack_release("ics", "18.1")
        raw = gzip.decompress((mirror_data() / "attack" / "ics-attack-18.1.json.gz").read_bytes())
        url_path = ICS_URL.format(domain="ics", version="18.1")
        server.route(url_path, ok(raw))
        good = resolver(tmp_path, sources).fetch(ics)
        assert good.official == "verified"
        before = snapshot(tmp_path / "cache")
        if fault == "wrong-checksum":
            # Same length, one object edited: only the hash can tell.
            server.route(url_path, ok(raw.replace(b'"name": "', b'"name": "X', 1)[:-1]))
        else:
            _fault(server, url_path, fault, raw)
        with pytest.raises(PipelineError) as info:
            resolver(tmp_path, sources, update=True, downloader=FAULTY).fetch(ics)
        line = info.value.one_line()
        if fault == "wrong-checksum":
            assert "official ATT&CK release hash" in line
        assert snapshot(tmp_path / "cache") == before
        assert temp_entries(tmp_path / "cache") == []
    finally:
        server.close()


@pytest.mark.parametrize("fault", ["truncated", "http-500", "http-404"])
def test_a_failed_update_from_a_served_mirror_leaves_the_good_entry_alone(tmp_path, fault):
    """With `base_url`, a file may be served as `name` or `name.gz`: a fault on both
    names leaves the cached copy of a served mirror as it was."""
    server = Server(tmp_path / "www")
    try:
        sources = write_sources(tmp_path, server.base, base_url=server.base)
        source = load_config(sources).source("demo/file")
        server.route("mappings/table.json", ok(PAYLOAD))
        good = resolver(tmp_path, sources).fetch(source)
        assert good.origin == "base-url" and good.path.read_bytes() == PAYLOAD
        before = snapshot(tmp_path / "cache")
        for name in ("mappings/table.json", "mappings/table.json.gz"):
            _fault(server, name, fault, PAYLOAD + b"new")
        with pytest.raises(PipelineError) as info:
            resolver(tmp_path, sources, update=True, downloader=FAULTY).fetch(source)
        assert "\n" not in info.value.one_line()
        assert snapshot(tmp_path / "cache") == before
        assert temp_entries(tmp_path / "cache") == []
    finally:
        server.close()


def test_a_fetch_killed_mid_download_leaves_the_good_entry_and_only_an_ignored_part(tmp_path):
    """`attack-pipeline fetch --update` as a real process, SIGKILLed while the body
    trickles in. What it leaves: the good entry and the lock byte for byte, and exactly
    one temporary file (`.<name>.*.part`, the partial body) beside the entry — a killed
    process runs no cleanup. That file is never read: the next fetch verifies the good
    copy against the lock without the network. It is swept by the next download of that
    name once it is an hour old (a younger one may belong to a fetch still running)."""
    import signal
    import subprocess
    import sys
    import time

    server = Server(tmp_path / "www")
    try:
        sources, source, _good = pinned_good_copy(tmp_path, server)
        cache = tmp_path / "cache"
        before = snapshot(cache)
        lock_before = sources.with_name("sources.lock").read_bytes()

        server.route("files/table.json", cut_short(PAYLOAD + b"new", 100, pause=30))
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATTACK_PIPELINE_") and "proxy" not in k.lower()}
        env["ATTACK_PIPELINE_CACHE"] = str(cache)
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "fetch", "demo/file", "--update", "--sources", str(sources), "--timeout", "60"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not (len(server.requests) >= 2 and list(cache.rglob("*.part"))):
            assert proc.poll() is None and time.monotonic() < deadline, "the download never started"
            time.sleep(0.01)
        time.sleep(0.2)  # the first bytes are in; the rest never come
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

        parts = [p.relative_to(cache).as_posix() for p in cache.rglob("*.part")]
        assert len(parts) == 1  # what a kill leaves; swept by a later fill of that name once stale
        assert {k: v for k, v in snapshot(cache).items() if k not in parts} == before
        assert sources.with_name("sources.lock").read_bytes() == lock_before
        again = resolver(tmp_path, sources, allow_network=False).fetch(source)
        assert (again.origin, again.lock) == ("cache", "verified") and again.path.read_bytes() == PAYLOAD

        # The next download of that name, an hour later, sweeps the partial body.
        from pipeline.fetch.cache import STALE_PART_SECONDS

        old = time.time() - STALE_PART_SECONDS - 60
        os.utime(cache / parts[0], (old, old))
        server.route("files/table.json", ok(PAYLOAD))
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", "fetch", "demo/file", "--update", "--sources", str(sources), "--timeout", "60"],
            env=env, capture_output=True, text=True,
        )
        assert done.returncode == 0, done.stderr
        assert list(cache.rglob("*.part")) == []
    finally:
        server.close()
