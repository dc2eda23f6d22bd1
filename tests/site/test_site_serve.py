"""`serve` over real HTTP: the site's own 404 page for anything that is not a file of
the site (NUL, `..` in any spelling, `//`, backslashes, names too long, directories
without an index — no listings), no content for a `Host` other than this server (DNS
rebinding), no traceback and no dropped connection, and the site link followed on each
request."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pipeline.site.serve import server
try:
    from pipeline.site.serve import segments
except ImportError:
    segments = None


def raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (http.client would refuse or re-encode some of these
    paths); (status, headers, body). A dropped connection is status 0."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    if not data:
        return 0, {}, b""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def get(port: int, path: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    host = f"127.0.0.1:{port}" if host is None else host
    return raw(port, f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode("latin-1"))


class Running:
    def __init__(self, site: Path) -> None:
        self.httpd = server(site, 0)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def port(hostile_site):
    running = Running(hostile_site)
    yield running.port
    running.close()


@pytest.fixture(scope="module")
def not_found(hostile_site) -> bytes:
    return (Path(os.path.realpath(hostile_site)) / "404.html").read_bytes()


BAD_PATHS = [
    "/%00", "/index.html%00", "/%00/../etc/passwd", "/..%2f", "/..%2f..%2f..%2fetc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
    "/../../../../etc/passwd", "/./index.html", "//etc/passwd", "///etc/passwd", "/techniques//T1046/", "/..\\..\\etc\\passwd",
    "/%5c..%5cetc%5cpasswd", "/%ff%fe", "/" + "a" * 300, "/" + "a/" * 2000, "/no-such-page/", "/layers/enterprise/coverage.json/",
    "/layers/", "/layers", "/reports/", "/stix/", "/tables/", "/search/", "/assets/", "http://evil.example/",
]


@pytest.mark.parametrize("path", BAD_PATHS)
def test_bad_paths_and_directories_are_the_404_page(port, not_found, path):
    status, headers, body = get(port, path)
    assert (status, body) == (404, not_found), (path, status, body[:200])
    assert headers["content-type"].startswith("text/html")
    assert b"Index of" not in body and b"Directory listing" not in body


def test_a_request_line_too_long_is_refused_not_dropped(port):
    status, _, _ = get(port, "/" + "a" * 70_000)
    assert status == 414


def test_pages_files_and_redirects(port, hostile_site):
    site = Path(os.path.realpath(hostile_site))
    status, headers, body = get(port, "/techniques/T1046/?q=1")
    assert (status, body) == (200, (site / "techniques" / "T1046" / "index.html").read_bytes())
    assert headers["content-type"] == "text/html; charset=utf-8" and headers["x-content-type-options"] == "nosniff"
    status, headers, body = get(port, "/layers/enterprise/coverage.json")
    assert (status, headers["content-type"]) == (200, "application/json")
    assert body == (site / "layers" / "enterprise" / "coverage.json").read_bytes()
    assert get(port, "/")[2] == (site / "index.html").read_bytes()
    status, headers, _ = get(port, "/techniques/T1046?x=1")
    assert (status, headers["location"]) == (301, "/techniques/T1046/?x=1")
    assert get(port, "/%74echniques/T1046/")[0] == 200  # percent-encoding of a plain letter
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("HEAD", "/techniques/T1046/")
    r = conn.getresponse()
    assert r.status == 200 and int(r.getheader("Content-Length")) > 0 and r.read() == b""
    conn.close()


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:{port}", "127.0.0.1", "127.0.0.1:1", "localhost", "localhost.:{port}", "127.0.0.2:{port}",
     "[::1]:{port}", "{port}", "127.0.0.1:{port}.evil.example", "attacker.example:{port}"],
)
def test_foreign_host_gets_no_content(port, host):
    status, headers, body = get(port, "/techniques/T1046/", host.format(port=port))
    assert (status, body, headers.get("content-length")) == (421, b"", "0"), host


def test_own_host_names_are_served(port):
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):
        assert get(port, "/techniques/T1046/", host)[0] == 200, host


def test_missing_or_repeated_host_is_a_bad_request(port):
    assert raw(port, b"GET / HTTP/1.0\r\n\r\n")[:3:2] == (400, b"")
    two = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: evil.example\r\nConnection: close\r\n\r\n".encode()
    assert raw(port, two)[:3:2] == (400, b"")


def test_segments():
    assert segments("/") == [] and segments("/a/b/") == ["a", "b", ""] and segments("/a%20b?x#y") == ["a b"]
    for bad in ("", "a", "/%00", "/a/../b", "/a/./b", "//a", "/a//b", "/a%2f..%2fb", "/a\\b", "/%c3", "/" + "x" * 5000):
        assert segments(bad) is None, bad


def test_the_serve_command_answers_every_bad_request_without_a_traceback(hostile_site):
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "serve", "--site-dir", str(hostile_site), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline()
        m = re.match(r"serving .* at http://127\.0\.0\.1:(\d+)/ ", line)
        assert m, (line, proc.stderr.read() if proc.poll() is not None else "")
        bound = int(m.group(1))
        for path in BAD_PATHS:
            assert get(bound, path)[0] == 404, path
        assert get(bound, "/", "rebind.example")[0] == 421
        assert get(bound, "/techniques/T1046/")[0] == 200
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "Traceback" not in err and err == "", err
