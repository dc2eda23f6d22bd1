"""Downloads against local HTTP servers on 127.0.0.1: faults, the cache, the lock, `fetch`.

Every server runs in this process on a random free port; nothing here reaches the
internet. Timeouts and backoff are shortened so the whole file stays fast.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import shutil
import socket
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import orjson
import pytest
from click.testing import CliRunner

from fetch_support import mirror_data
from pipeline.cli import cli
from pipeline.core.config import load_config
from pipeline.core.errors import PipelineError, SourceNotFound
from pipeline.fetch import Resolver
from pipeline.fetch.mirror import find_in_mirror
from pipeline.fetch.hashing import digest, file_digest, tree_digest
from pipeline.fetch.http import DownloadError, Downloader
from pipeline.fetch.digest_lock import Lock, LockMismatch

ROOT = Path(__file__).resolve().parents[2]
FAST = Downloader(timeout=0.3, retries=2, backoff=0.01)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("ATTACK_PIPELINE_OFFLINE", raising=False)
    monkeypatch.delenv("ATTACK_PIPELINE_CACHE", raising=False)


# -- a scriptable local server ---------------------------------------------------------


def ok(data: bytes):
    def run(h):
        h.send_response(200)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    return run


def status(code: int):
    def run(h):
        h.send_error(code)

    return run


def cut_short(data: bytes, cut: int, *, pause: float | None = None):
    """Promise the whole body, send `cut` bytes, then drop the connection (or stall `pause` s)."""

    def run(h):
        h.send_response(200)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data[:cut])
        h.wfile.flush()
        if pause is None:
            h.connection.shutdown(socket.SHUT_RDWR)
            return
        time.sleep(pause)
        try:
            h.wfile.write(data[cut:])
        except OSError:
            pass

    return run


def redirect(location: str):
    def run(h):
        h.send_response(302)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return run


class Server:
    """Serves files under `roots` (first match wins) unless a route scripts the answers.

    A route's behaviours are used one per request; the last one repeats. `requests`
    records every path asked for, so tests can prove the cache made none.
    """

    def __init__(self, *roots: Path) -> None:
        self.roots = list(roots)
        self.routes: dict[str, list] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                pass

            def do_GET(self):
                path = unquote(self.path.split("?", 1)[0]).lstrip("/")
                server.requests.append(path)
                script = server.routes.get(path)
                if script:
                    (script.pop(0) if len(script) > 1 else script[0])(self)
                    return
                for root in server.roots:
                    file = root / path
                    if ".." not in Path(path).parts and file.is_file():
                        ok(file.read_bytes())(self)
                        return
                status(404)(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return f"{self.base}/{path}"

    def route(self, path: str, *behaviours) -> None:
        self.routes[path] = list(behaviours)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path / "www")
    yield s
    s.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- a small sources file whose URLs point at the local server ------------------------

PAYLOAD = b'{"type": "bundle", "objects": []}\n' * 200
ICS_URL = "stix21/{domain}-attack-{version}.json"


def write_sources(tmp_path: Path, base: str, *, base_url: str = "", archive: str = "archive/abc123.tar.gz") -> Path:
    path = tmp_path / "data" / "sources.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"""
[settings]
base_url = "{base_url}"

[attack]
mirror = "attack/{{domain}}-attack-{{version}}.json"
url_stix20 = "{base}/cti/{{domain}}-attack-{{version}}.json"
url_stix21 = "{base}/{ICS_URL}"
releases = [{{ domain = "ics", version = "18.1", stix = "2.1" }}]

[repositories.demo]
github = "example/demo"
commit = "abc123"
root = "mappings"
mirror = "mappings/demo"

[[source]]
id = "demo/file"
kind = "mapping"
format = "mapex-json"
url = "{base}/files/table.json"
mirror = "mappings/table.json"

[[source]]
id = "demo/rules"
kind = "detection"
format = "sigma-yaml"
repository = "demo"
path = "rules"
folder = true
url = "{base}/{archive}"

[[source]]
id = "demo/other"
kind = "detection"
format = "sigma-yaml"
repository = "demo"
path = "other"
folder = true
url = "{base}/{archive}"
""",
        encoding="utf-8",
    )
    return path


def github_archive(path: Path, files: dict[str, bytes], *, extra: list[tarfile.TarInfo] = ()) -> Path:
    """A tar.gz shaped like GitHub's: a pax global header with the commit, everything under `demo-<commit>/`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT, pax_headers={"comment": "abc123"}) as tar:
        for rel, data in files.items():
            info = tarfile.TarInfo(f"demo-abc123/{rel}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info)
    return path


RULES = {"mappings/rules/a.yml": b"title: a\n", "mappings/rules/sub/b.yml": b"title: b\n",
         "mappings/other/c.yml": b"title: c\n", "README.md": b"demo\n"}


def resolver(tmp_path: Path, sources: Path, **options) -> Resolver:
    config = load_config(sources)
    options.setdefault("downloader", FAST)
    options.setdefault("cache", tmp_path / "cache")
    options.setdefault("allow_network", True)
    return Resolver.for_config(config, options.pop("mirror", None), **options)


def leftovers(cache: Path) -> list[Path]:
    return [p for p in cache.rglob("*") if p.name.endswith(".part")] if cache.exists() else []


# -- faults ------------------------------------------------------------------------------


def test_a_truncated_body_is_retried_and_never_cached(tmp_path, server):
    sources = write_sources(tmp_path, server.base)
    server.route("files/table.json", cut_short(PAYLOAD, 100), ok(PAYLOAD))
    r = resolver(tmp_path, sources)
    found = r.fetch(load_config(sources).source("demo/file"))
    assert found.origin == "url" and found.path.read_bytes() == PAYLOAD
    assert server.requests == ["files/table.json", "files/table.json"]

    server.route("files/table.json", cut_short(PAYLOAD, 100))
    with pytest.raises(DownloadError) as info:
        resolver(tmp_path, sources, cache=tmp_path / "cache2").fetch(load_config(sources).source("demo/file"))
    line = info.value.one_line()
    assert f"received 100 of {len(PAYLOAD)} bytes" in line and "gave up after 3 attempts" in line
    assert line.startswith("source 'demo/file': ") and "\n" not in line
    assert not any(p.is_file() for p in (tmp_path / "cache2").rglob("*"))


def test_http_500_then_recovery(tmp_path, server):
    sources = write_sources(tmp_path, server.base)
    server.route("files/table.json", status(500), status(503), ok(PAYLOAD))
    found = resolver(tmp_path, sources).fetch(load_config(sources).source("demo/file"))
    assert found.path.read_bytes() == PAYLOAD and len(server.requests) == 3


def test_http_404_fails_at_once_with_one_line(tmp_path, server):
    sources = write_sources(tmp_path, server.base)
    with pytest.raises(DownloadError) as info:
        resolver(tmp_path, sources).fetch(load_config(sources).source("demo/file"))
    assert info.value.one_line() == (
        f"source 'demo/file': could not download {server.url('files/table.json')}: HTTP 404 Not Found"
    )
    assert server.requests == ["files/table.json"]
    assert leftovers(tmp_path / "cache") == []


def test_a_slow_body_past_the_timeout(tmp_path, server):
    sources = write_sources(tmp_path, server.base)
    server.route("files/table.json", cut_short(PAYLOAD, 10, pause=0.5), ok(PAYLOAD))
    found = resolver(tmp_path, sources, downloader=Downloader(timeout=0.15, retries=1, backoff=0.01)).fetch(
        load_config(sources).source("demo/file")
    )
    assert found.path.read_bytes() == PAYLOAD

    # The body stalls 0.5 s, past the 0.15 s timeout: "timed out" twice, then given up.
    server.route("files/table.json", cut_short(PAYLOAD, 10, pause=0.5))
    with pytest.raises(DownloadError, match=r"timed out .*gave up after 2 attempts"):
        resolver(tmp_path, sources, cache=tmp_path / "c2", downloader=Downloader(timeout=0.15, retries=1, backoff=0.01)).fetch(
            load_config(sources).source("demo/file")
        )
    assert not any(p.is_file() for p in (tmp_path / "c2").rglob("*"))


def test_connection_refused(tmp_path):
    sources = write_sources(tmp_path, f"http://127.0.0.1:{free_port()}")
    with pytest.raises(DownloadError, match=r"connection refused \(gave up after 3 attempts\)"):
        resolver(tmp_path, sources).fetch(load_config(sources).source("demo/file"))


def test_a_redirect_loop_is_not_retried(tmp_path, server):
    sources = write_sources(tmp_path, server.base)
    server.route("files/table.json", redirect(server.url("files/bounce")))
    server.route("files/bounce", redirect(server.url("files/table.json")))
    with pytest.raises(DownloadError, match=r"redirect loop .*\(HTTP 302\)$"):
        resolver(tmp_path, sources).fetch(load_config(sources).source("demo/file"))
    assert len(server.requests) <= 12


def test_a_redirect_is_followed(tmp_path, server):
    sources = write_sources(tmp_path, server.base)
    server.route("files/table.json", redirect(server.url("files/moved.json")))
    server.route("files/moved.json", ok(PAYLOAD))
    assert resolver(tmp_path, sources).fetch(load_config(sources).source("demo/file")).path.read_bytes() == PAYLOAD


def test_a_wrong_checksum_never_reaches_the_cache(tmp_path, server):
    sources = write_sources(tmp_path, server.base)
    source = load_config(sources).source("demo/file")
    lock = Lock(sources.with_name("sources.lock"))
    lock.check(source.id, "url", {"url": source.url}, file_digest(_write(tmp_path / "good", PAYLOAD)))
    lock.save()
    server.route("files/table.json", ok(PAYLOAD.replace(b"bundle", b"BUNDLE")))
    with pytest.raises(LockMismatch) as info:
        resolver(tmp_path, sources).fetch(source)
    line = info.value.one_line()
    assert "source 'demo/file'" in line
    assert f"expected {hashlib.sha256(PAYLOAD).hexdigest()}" in line
    assert f"actual {hashlib.sha256(PAYLOAD.replace(b'bundle', b'BUNDLE')).hexdigest()}" in line
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))
    # The fast path of other commands checks a download against the lock too.
    with pytest.raises(LockMismatch):
        resolver(tmp_path, sources).resolve(source)
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))


def test_an_official_attack_release_is_checked_against_its_published_hash(tmp_path, server):
    sources = write_sources(tmp_path, server.base)
    ics = load_config(sources).attack_release("ics", "18.1")
    server.route(ICS_URL.format(domain="ics", version="18.1"), ok(PAYLOAD))
    with pytest.raises(LockMismatch, match="official ATT&CK release hash .*expected a7c0106492843485"):
        resolver(tmp_path, sources).fetch(ics)
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))


@pytest.mark.realdata
def test_the_official_ics_release_downloads_and_verifies(tmp_path, server):
    sources = write_sources(tmp_path, server.base)
    ics = load_config(sources).attack_release("ics", "18.1")
    raw = gzip.decompress((mirror_data() / "attack" / "ics-attack-18.1.json.gz").read_bytes())
    server.route(ICS_URL.format(domain="ics", version="18.1"), ok(raw))
    found = resolver(tmp_path, sources).fetch(ics)
    assert (found.origin, found.official, found.lock) == ("url", "verified", "pinned")


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# -- the cache -----------------------------------------------------------------------------


def test_the_second_fetch_uses_the_cache_and_an_edited_byte_is_caught(tmp_path, server):
    sources = write_sources(tmp_path, server.base)
    source = load_config(sources).source("demo/file")
    server.route("files/table.json", ok(PAYLOAD))
    first = resolver(tmp_path, sources)
    fetched = first.fetch(source)
    first.save_lock()
    assert (fetched.origin, fetched.lock) == ("url", "pinned")
    assert len(server.requests) == 1

    again = resolver(tmp_path, sources).fetch(source)
    assert (again.origin, again.lock, again.path) == ("cache", "verified", fetched.path)
    assert resolver(tmp_path, sources).resolve(source).origin == "cache"
    assert len(server.requests) == 1

    data = bytearray(fetched.path.read_bytes())
    data[50] ^= 1
    fetched.path.write_bytes(bytes(data))
    with pytest.raises(LockMismatch) as info:
        resolver(tmp_path, sources, allow_network=False).fetch(source)
    line = info.value.one_line()
    assert f"cached copy {fetched.path}" in line and "expected " + hashlib.sha256(PAYLOAD).hexdigest() in line
    assert "actual " + hashlib.sha256(bytes(data)).hexdigest() in line
    assert fetched.path.read_bytes() == bytes(data)  # kept for inspection when it cannot be replaced

    warnings: list[str] = []
    repaired = resolver(tmp_path, sources, warn=warnings.append).fetch(source)
    assert repaired.origin == "url" and repaired.path.read_bytes() == PAYLOAD
    assert len(warnings) == 1 and "dropped" in warnings[0] and "actual " + hashlib.sha256(bytes(data)).hexdigest() in warnings[0]
    assert len(server.requests) == 2


def test_a_leftover_partial_download_is_never_taken_for_the_file(tmp_path, server):
    sources = write_sources(tmp_path, server.base)
    source = load_config(sources).source("demo/file")
    r = resolver(tmp_path, sources)
    key_dir = tmp_path / "cache" / "url"
    server.route("files/table.json", ok(PAYLOAD))
    fetched = r.fetch(source)
    fetched.path.unlink()
    partial = fetched.path.with_name(f".{fetched.path.name}.x1.part")
    partial.write_bytes(PAYLOAD[:100])  # what a killed run leaves behind
    assert resolver(tmp_path, sources).resolve(source).path.read_bytes() == PAYLOAD
    assert len(server.requests) == 2 and key_dir.is_dir()


def test_a_new_url_never_reuses_the_old_copy(tmp_path, server):
    sources = write_sources(tmp_path, server.base)
    server.route("files/table.json", ok(PAYLOAD))
    server.route("files/v2.json", ok(PAYLOAD + b"v2"))
    first = resolver(tmp_path, sources)
    first.fetch(load_config(sources).source("demo/file"))
    first.save_lock()
    sources.write_text(sources.read_text().replace("files/table.json", "files/v2.json"))
    source = load_config(sources).source("demo/file")
    with pytest.raises(LockMismatch, match="now url=.*files/v2.json; run `attack-pipeline fetch --update demo/file`"):
        resolver(tmp_path, sources).fetch(source)
    updated = resolver(tmp_path, sources, update=True).fetch(source)
    assert updated.lock == "updated" and updated.path.read_bytes() == PAYLOAD + b"v2"


# -- folders ---------------------------------------------------------------------------------


def test_folder_sources_come_from_one_repository_archive(tmp_path, server):
    github_archive(tmp_path / "www" / "archive" / "abc123.tar.gz", RULES)
    sources = write_sources(tmp_path, server.base)
    config = load_config(sources)
    with resolver(tmp_path, sources) as r:
        rules = r.fetch(config.source("demo/rules"))
        other = r.fetch(config.source("demo/other"))
    assert server.requests == ["archive/abc123.tar.gz"]  # one download for both folders
    assert sorted(p.relative_to(rules.path).as_posix() for p in rules.path.rglob("*") if p.is_file()) == ["a.yml", "sub/b.yml"]
    assert [p.name for p in other.path.iterdir()] == ["c.yml"]
    expected = tmp_path / "expected"
    (expected / "sub").mkdir(parents=True)
    (expected / "a.yml").write_bytes(b"title: a\n")
    (expected / "sub" / "b.yml").write_bytes(b"title: b\n")
    assert rules.digest == tree_digest(expected)
    assert leftovers(tmp_path / "cache") == []
    assert not sources.with_name("sources.lock").exists()  # nothing is written until save_lock


def test_an_archive_with_a_symlink_in_the_folder_is_refused(tmp_path, server):
    link = tarfile.TarInfo("demo-abc123/mappings/rules/evil")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    github_archive(tmp_path / "www" / "archive" / "abc123.tar.gz", RULES, extra=[link])
    sources = write_sources(tmp_path, server.base)
    with pytest.raises(PipelineError, match="'demo-abc123/mappings/rules/evil' is a symbolic link"):
        resolver(tmp_path, sources).fetch(load_config(sources).source("demo/rules"))
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))


def test_a_truncated_archive_is_retried(tmp_path, server):
    archive = github_archive(tmp_path / "build" / "a.tar.gz", RULES).read_bytes()
    sources = write_sources(tmp_path, server.base)
    server.route("archive/abc123.tar.gz", cut_short(archive, len(archive) // 2), ok(archive))
    fetched = resolver(tmp_path, sources).fetch(load_config(sources).source("demo/rules"))
    assert fetched.digest.files == 2 and len(server.requests) == 2


# -- the workspace path and the CLI ---------------------------------------------------------


@pytest.mark.realdata
def test_other_commands_fill_the_cache_once_then_stay_off_the_network(tmp_path, server):
    """`stats` without a mirror downloads what it lacks; the next run asks nothing."""
    www = tmp_path / "www"
    (www / "attack").mkdir(parents=True)
    ics = mirror_data() / "attack" / "ics-attack-18.1.json.gz"
    shutil.copy(ics, www / "attack" / ics.name)
    sources = write_sources(tmp_path, "http://127.0.0.1:9", base_url=server.base)
    env = {"ATTACK_PIPELINE_CACHE": str(tmp_path / "cache"), "ATTACK_PIPELINE_MIRROR": ""}
    args = ["stats", "--attack-only", "--sources", str(sources), "--domain", "ics", "--attack-version", "18.1", "--json"]
    first = CliRunner().invoke(cli, args, env=env)
    assert first.exit_code == 0, first.output
    assert server.requests == ["attack/ics-attack-18.1.json", "attack/ics-attack-18.1.json.gz"]
    assert (tmp_path / "cache" / "mirror" / "attack" / ics.name).read_bytes() == ics.read_bytes()
    second = CliRunner().invoke(cli, args, env=env)
    assert second.exit_code == 0 and second.stdout == first.stdout
    assert len(server.requests) == 2
    assert not sources.with_name("sources.lock").exists()  # only `fetch` pins


@pytest.mark.realdata
def test_a_mirror_run_touches_neither_cache_nor_lock_nor_network(tmp_path, server):
    sources = tmp_path / "data" / "sources.toml"
    sources.parent.mkdir()
    sources.write_text((ROOT / "data" / "sources.toml").read_text().replace('base_url = ""', f'base_url = "{server.base}"'))
    env = {"ATTACK_PIPELINE_CACHE": str(tmp_path / "cache"), "ATTACK_PIPELINE_MIRROR": str(mirror_data())}
    result = CliRunner().invoke(cli, ["stats", "--sources", str(sources), "--domain", "ics", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert server.requests == []
    # Parsed-file caches may appear under cache/parsed/; no source copy may.
    assert not (tmp_path / "cache" / "mirror").exists() and not (tmp_path / "cache" / "url").exists()
    assert not sources.with_name("sources.lock").exists()


def test_fetch_cli_reports_origins_and_errors_in_one_line_each(tmp_path, server):
    github_archive(tmp_path / "www" / "archive" / "abc123.tar.gz", RULES)
    sources = write_sources(tmp_path, server.base)
    server.route("files/table.json", ok(PAYLOAD))
    cache = tmp_path / "cache"
    args = ["fetch", "--sources", str(sources), "--cache", str(cache), "--timeout", "0.3", "--retries", "0"]
    env = {"ATTACK_PIPELINE_MIRROR": ""}
    result = CliRunner().invoke(cli, [*args, "--json"], env=env)
    assert result.exit_code == 1
    data = orjson.loads(result.stdout)
    by_id = {s["id"]: s for s in data["sources"]}
    assert by_id["demo/file"]["origin"] == "url" and by_id["demo/file"]["lock"] == "pinned"
    assert by_id["demo/rules"]["files"] == 2 and by_id["demo/rules"]["kind"] == "folder"
    assert [e["id"] for e in data["errors"]] == ["attack/ics-18.1"]
    assert data["lock"]["written"] is True
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        f"error: source 'attack/ics-18.1': could not download {server.url(ICS_URL.format(domain='ics', version='18.1'))}: HTTP 404 Not Found",
        "error: 1 of 4 sources could not be fetched",
    ]
    lock = orjson.loads(sources.with_name("sources.lock").read_bytes())
    assert lock["sources"]["demo/rules"]["url"]["subdir"] == "mappings/rules"

    before = len(server.requests)
    table = CliRunner().invoke(cli, [*args, "demo/file", "demo/rules", "demo/other"], env=env)
    assert table.exit_code == 0, table.output
    assert len(server.requests) == before
    rows = {line.split()[0]: line.split() for line in table.stdout.splitlines()[1:4]}
    assert rows["demo/file"][1:3] == ["cache", "verified"]
    assert "3 sources (3 cache); lock: 3 verified" in table.stdout


def test_fetch_cli_usage_errors(tmp_path):
    runner = CliRunner()
    assert runner.invoke(cli, ["fetch", "--update", "--locked"]).exit_code == 2
    bad = runner.invoke(cli, ["fetch", "--base-url", "ftp://x"])
    assert bad.exit_code == 2 and "http://" in bad.output


# -- the real mirror: the committed lock, and a served copy of it ----------------------------


@pytest.mark.realdata
def test_the_committed_lock_is_true_for_themirror_data():
    result = CliRunner().invoke(
        cli, ["fetch", "--all", "--locked", "--offline", "--json", "--sources", str(ROOT / "data" / "sources.toml")],
        env={"ATTACK_PIPELINE_MIRROR": str(mirror_data())},
    )
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.stdout)
    config = load_config(ROOT / "data" / "sources.toml")
    # The v19 releases are listed but not in the mirror: offline, one note each, not an error.
    waiting = [s.id for s in config.attack_releases() if s.attack_version in ("19.0", "19.1")]
    assert len(waiting) == 6
    assert sorted(s["id"] for s in data["sources"]) == sorted(s.id for s in config.sources if s.id not in waiting)
    assert result.stderr == "".join(
        f"note: ATT&CK {v} (enterprise, mobile, ics) is listed but not available offline; skipped "
        f"(run `attack-pipeline fetch --attack-version {v}` with the network to get it)\n"
        for v in ("19.0", "19.1")
    )
    assert {(s["origin"], s["lock"]) for s in data["sources"]} == {("mirror", "verified")}
    assert data["lock"]["written"] is False


@pytest.mark.realdata
def test_a_fresh_cache_from_a_served_mirror_equals_the_mirror(tmp_path):
    """Single files are served from the mirror itself; two folders as `<path>.tar.gz` built here."""
    mirror = mirror_data()
    overlay = tmp_path / "overlay"
    folders = ["mappings/security-stack/Azure", "detections/cards"]
    for rel in folders:
        target = overlay / f"{rel}.tar.gz"
        target.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(target, "w:gz") as tar:
            tar.add(mirror / rel, arcname=".")
    srv = Server(mirror, overlay)
    try:
        data = tmp_path / "data"
        data.mkdir()
        shutil.copy(ROOT / "data" / "sources.toml", data / "sources.toml")
        shutil.copy(ROOT / "data" / "sources.lock", data / "sources.lock")
        config = load_config(data / "sources.toml")
        ids = [s.id for s in config.attack_releases() if find_in_mirror(s, mirror)] + [
            "mapex/nist_800_53-rev5/attack-16.1/enterprise", "mapex/schema", "nist-800-53/rev5/attack-12.1/xlsx",
            "security-stack/azure", "detections/cards",
        ]
        args = ["fetch", *ids, "--sources", str(data / "sources.toml"), "--cache", str(tmp_path / "cache"),
                "--base-url", srv.base, "--locked", "--json", "--timeout", "5"]
        env = {"ATTACK_PIPELINE_MIRROR": ""}
        first = CliRunner().invoke(cli, args, env=env)
        assert first.exit_code == 0, first.output
        fetched = orjson.loads(first.stdout)["sources"]
        assert {s["origin"] for s in fetched} == {"base-url"}
        for s in fetched:
            source = config.source(s["id"])
            in_mirror = next(p for p in (mirror / source.mirror_path, mirror / (source.mirror_path + ".gz")) if p.exists())
            assert digest(Path(s["path"])) == digest(in_mirror), s["id"]
        asked = len(srv.requests)
        second = CliRunner().invoke(cli, args, env=env)
        assert second.exit_code == 0, second.output
        assert {s["origin"] for s in orjson.loads(second.stdout)["sources"]} == {"cache"}
        assert len(srv.requests) == asked
        assert (data / "sources.lock").read_bytes() == (ROOT / "data" / "sources.lock").read_bytes()
    finally:
        srv.close()


def test_a_served_folder_without_an_archive_is_a_clear_error(tmp_path, server):
    sources = write_sources(tmp_path, "http://127.0.0.1:9", base_url=server.base)
    with pytest.raises(SourceNotFound, match=r"mappings/demo/rules\.tar\.gz: HTTP 404"):
        resolver(tmp_path, sources).resolve(load_config(sources).source("demo/rules"))


@pytest.mark.parametrize(("errno", "attempts"), [(socket.EAI_NONAME, 1), (socket.EAI_AGAIN, 3)])
def test_an_unknown_host_fails_at_once_a_lookup_hiccup_is_retried(monkeypatch, errno, attempts):
    lookups = []

    def lookup(host, *_args, **_kwargs):
        lookups.append(host)
        raise socket.gaierror(errno, "lookup failed")

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    with pytest.raises(DownloadError, match="host name lookup failed"):
        FAST.download("http://no-such-host.test/x.json", io.BytesIO())
    assert lookups == ["no-such-host.test"] * attempts


def test_the_fast_path_hashes_nothing_it_already_has(tmp_path, server, monkeypatch):
    """`stats`/`show`/`build` resolve from the mirror or the cache without reading the bytes."""
    sources = write_sources(tmp_path, server.base)
    source = load_config(sources).source("demo/file")
    server.route("files/table.json", ok(PAYLOAD))
    cached = resolver(tmp_path, sources).resolve(source)
    assert cached.origin == "url" and len(server.requests) == 1
    mirror = tmp_path / "mirror"
    (mirror / "mappings").mkdir(parents=True)
    (mirror / "mappings" / "table.json.gz").write_bytes(gzip.compress(PAYLOAD))

    def no_hashing(_path):
        raise AssertionError("hashed on the fast path")

    monkeypatch.setattr("pipeline.fetch.resolver.digest", no_hashing)
    assert resolver(tmp_path, sources, mirror=mirror).resolve(source).path == mirror / "mappings" / "table.json.gz"
    assert resolver(tmp_path, sources).resolve(source) == cached.__class__(source=source, path=cached.path, origin="cache")
    assert len(server.requests) == 1


def test_a_damaged_lock_stops_fetch_with_one_line(tmp_path):
    sources = write_sources(tmp_path, "http://127.0.0.1:9")
    sources.with_name("sources.lock").write_text('{"lock_version": 1, "sources": []}')
    result = CliRunner().invoke(cli, ["fetch", "--sources", str(sources), "--offline"], env={"ATTACK_PIPELINE_MIRROR": ""})
    assert result.exit_code == 1
    assert result.stderr == f"error: {sources.with_name('sources.lock')}: 'sources' must be an object\n"
