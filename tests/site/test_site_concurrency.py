"""`site` and `serve` beside other runs: two `site` runs of one site path (one publishes
a whole site, the other stops with one line, or they run one after the other), builds
that finish and prune while a site reads the build, and a server that keeps serving the
site through re-publishes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

from click.testing import CliRunner

from pipeline.build import pin, sweep, tree
from pipeline.cli import cli
from pipeline.site import make
from pipeline.site.serve import server

LOCKED = re.compile(r"error: (.+): another site build \(pid \d+ on .+\) is writing this site; wait for it to finish")


def _tree(folder: Path) -> dict[str, str]:
    folder = Path(os.path.realpath(folder))
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(make.__file__).resolve().parents[2]), env.get("PYTHONPATH", "")])
    return env


def test_two_site_runs_on_one_site_path(hostile_build, hostile_site, tmp_path):
    """Started together: each ends in 0 or in the one lock line, at least one publishes,
    and what is published is the whole site (byte for byte the site of the build)."""
    expected = _tree(hostile_site)
    for round_ in range(2):
        site = tmp_path / "site"
        cmd = [sys.executable, "-m", "pipeline", "site", "--out", str(hostile_build), "--site-dir", str(site)]
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env()) for _ in range(2)]
        results = [(p.wait(timeout=600), p.stdout.read()) for p in procs]
        for code, output in results:
            if code == 1:
                lines = output.strip().splitlines()
                assert len(lines) == 1 and LOCKED.fullmatch(lines[0]) and LOCKED.fullmatch(lines[0]).group(1) == str(site), output
            else:
                assert code == 0 and output.startswith("built the site of "), output
        assert 0 in [code for code, _ in results], results
        assert _tree(site) == expected, f"round {round_}: the published site is not whole"
        sweep.wait(tmp_path / ".site.builds")  # older sites are deleted in the background
        left = sorted(p.name for p in (tmp_path / ".site.builds").iterdir() if p.is_dir())
        assert not [n for n in left if n.startswith((".new-", pin.GONE))] and 1 <= len(left) <= 2, left
        assert not (tmp_path / ".site.lock").exists()


def test_a_second_site_run_stops_with_one_line_while_one_holds_the_site(hostile_build, hostile_site, tmp_path):
    site = tmp_path / "site"
    make.make_site(hostile_build, site)
    before = _tree(site)
    with make.site_lock(site):
        result = CliRunner().invoke(cli, ["site", "--out", str(hostile_build), "--site-dir", str(site)])
    assert result.exit_code == 1
    assert result.output == f"error: {site}: another site build (pid {os.getpid()} on {socket.gethostname()}) is writing this site; wait for it to finish\n"
    assert _tree(site) == before
    assert not [p for p in (tmp_path / ".site.builds").iterdir() if p.name.startswith(".new-")]


def _workspace(root: Path):
    from pipeline.core.config import load_config
    from pipeline.workspace import Workspace

    return Workspace.open(load_config(root / "sources.toml"), root / "mirror")


def _builds(out: Path) -> list[str]:
    """The build folders beside `out`, once the background deletion of pruned ones is over."""
    sweep.wait(tree.builds_dir(out))
    return sorted(p.name for p in tree.builds_dir(out).iterdir() if p.is_dir())


def test_builds_that_finish_while_the_site_reads_do_not_remove_its_build(tmp_path, monkeypatch):
    """Two builds (of other options, so of other build ids) finish while mkdocs is about
    to read the build folder: without the pin the second prunes it (the live build and
    one before it are kept) and the site fails; with it, the site is made from the
    folder it started on, and the next build's prune removes that folder."""
    import site_hostile

    from pipeline.build import build

    out = site_hostile.build(tmp_path)
    ws = _workspace(tmp_path)
    first = out.resolve()
    expected = _tree(make.make_site(out, tmp_path / "before").site)
    real_run = make.run_mkdocs
    seen = []

    def run_after_two_builds(config_file, *progress):
        build(ws, out, options={"stix_include_attack": True})
        build(ws, out, options={"stix_include_attack": False})
        seen.append((out.resolve(), first.is_dir(), _builds(out)))
        return real_run(config_file, *progress)

    monkeypatch.setattr(make, "run_mkdocs", run_after_two_builds)
    result = make.make_site(out, tmp_path / "site")
    monkeypatch.setattr(make, "run_mkdocs", real_run)
    (live, kept, folders), = seen
    assert live != first and kept and len(folders) == 3, folders  # pinned: kept beside the two newer builds
    assert (result.folder / "techniques" / "T1046" / "index.html").is_file()
    assert _tree(result.site) == expected
    assert build(ws, out, options={"stix_include_attack": False}).up_to_date  # a no-op build, which prunes
    assert not first.exists() and len(_builds(out)) == 2


def test_a_pinned_folder_is_left_by_prune_and_by_publish(tmp_path):
    out = tmp_path / "out"
    folders = []
    with contextlib.ExitStack() as stack:
        for n in range(4):
            tmp = tree.new_build_dir(out)
            (tmp / "page.txt").write_text(str(n))
            folders.append(tree.publish(tmp, out, ["same-id", "other", "same-id", "third"][n]))
            if n == 0:
                assert stack.enter_context(pin.reading(out)) == folders[0]
        # The third publish took a fresh name rather than deleting the pinned `same-id`,
        # and the fourth's prune left it.
        assert folders[0].is_dir() and (folders[0] / "page.txt").read_text() == "0"
        assert folders[2].name == "same-id-2"
        assert _builds(out) == ["same-id", "same-id-2", "third"]
        assert pin.remove(folders[0]) is False
    tree.prune(out)
    assert _builds(out) == ["same-id-2", "third"]


def test_reading_a_link_to_nothing_pins_nothing(tmp_path):
    with pin.reading(tmp_path / "missing") as folder:
        assert folder is None
    (tmp_path / "link").symlink_to(tmp_path / "gone")
    with pin.reading(tmp_path / "link") as folder:
        assert folder is None


def _get(port: int, path: str) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_serve_follows_each_republish(tmp_path):
    site = tmp_path / "site"

    def publish(n: int) -> Path:
        tmp = tree.new_build_dir(site)
        (tmp / "index.html").write_text(f"site {n}")
        (tmp / "404.html").write_text(f"not found {n}")
        (tmp / f"only-{n}.json").write_text("{}")
        return tree.publish(tmp, site, f"site{n}")

    first = publish(1)
    httpd = server(site, 0)
    port = httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        assert _get(port, "/") == (200, b"site 1")
        publish(2)
        assert _get(port, "/") == (200, b"site 2")
        assert _get(port, "/only-1.json") == (404, b"not found 2")
        publish(3)  # prunes the first folder, the one the server started on
        assert not first.exists()
        assert _get(port, "/") == (200, b"site 3") and _get(port, "/only-3.json") == (200, b"{}")
        assert _get(port, "/missing") == (404, b"not found 3")
    finally:
        httpd.shutdown()
        httpd.server_close()
