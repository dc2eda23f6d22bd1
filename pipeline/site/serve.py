"""Preview a built site on 127.0.0.1: a static file server of the site, and nothing more.

Not `mkdocs serve` (which rebuilds ten thousand pages on every change and watches
files): the site is a finished artifact, and this serves exactly what would be
published. Not `http.server`'s file handler either, which lists directories (the
site's `layers/`, `reports/`), answers any `Host` and drops the connection with a
traceback on `/%00`. Here:

- Bound to the loopback address only, and a request must name this server in `Host`
  (`127.0.0.1:PORT` or `localhost:PORT`): a page of another site whose name an attacker
  has pointed at 127.0.0.1 (DNS rebinding) gets 421 and no content.
- A request path is decoded once and then taken as it is: a NUL, a `..` or `.` segment
  (`/..%2f`), an empty segment (`//etc/passwd`), a backslash, a path outside the site
  after resolving links, or anything the file system refuses (a name too long) is the
  site's own 404 page with status 404, the same as a missing file. A directory is
  served only as its `index.html`; there are no listings.
- The site path is resolved on each request: `attack-pipeline site` publishes by
  flipping the `site` link to a new folder (and prunes old ones), and the server
  follows it without a restart.
"""

from __future__ import annotations

import mimetypes
import os
import shutil
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote
import sys

HOST = "127.0.0.1"
MAX_PATH = 4096  # longer request paths are not a page of the site
NOT_FOUND_PAGE = "404.html"
TYPES = {".json": "application/json", ".md": "text/markdown; charset=utf-8", ".yaml": "application/yaml", ".gz": "application/gzip"}


def _content_type(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    if ext in TYPES:
        return TYPES[ext]
    guessed = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") or guessed.endswith(("javascript", "xml")) else guessed


def segments(target: str) -> list[str] | None:
    """The path segments a request target names, or None when it names no file of a
    site (see the module docstring). `/` is `[]`; a trailing slash adds `""`."""
    path = target.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/") or len(path) > MAX_PATH:
        return None
    try:
        decoded = unquote(path, errors="strict")
    except UnicodeDecodeError:
        return None
    parts = decoded[1:].split("/")
    if "\x00" in decoded or "\\" in decoded or any(p in (".", "..") for p in parts):
        return None
    if any(p == "" for p in parts[:-1]):
        return None
    return [] if parts == [""] else parts


def locate(root: str, parts: list[str]) -> tuple[str, str] | None:
    """("file", path) to serve, ("redirect", url) for a directory named without its
    trailing slash, or None (not found)."""
    try:
        path = os.path.realpath(os.path.join(root, *parts))
        if os.path.commonpath([root, path]) != root:
            return None  # a link inside the site that leads out of it
        if os.path.isdir(path):
            path = os.path.join(path, "index.html")
            if os.path.isfile(path) and parts and parts[-1] != "":
                return "redirect", quote("/" + "/".join(parts) + "/")
        elif parts and parts[-1] == "":
            return None  # `file.json/` names no directory
        return ("file", path) if os.path.isfile(path) else None
    except (OSError, ValueError):
        return None


class SiteHandler(BaseHTTPRequestHandler):
    server: SiteServer
    server_version = "attack-pipeline"
    sys_version = ""

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server API
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self._respond(body=True)

    def do_HEAD(self) -> None:  # noqa: N802 - http.server API
        self._respond(body=False)

    def _respond(self, body: bool) -> None:
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1:
            return self._empty(HTTPStatus.BAD_REQUEST)
        if hosts[0].strip().lower() not in self.server.hosts():
            return self._empty(HTTPStatus.MISDIRECTED_REQUEST)
        root = self.server.root()
        parts = segments(self.path)
        found = locate(root, parts) if root is not None and parts is not None else None
        if found is not None and found[0] == "redirect":
            query = self.path.partition("?")[2]
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", found[1] + (f"?{quote(query, safe='=&;%+')}" if query else ""))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if found is not None and self._file(HTTPStatus.OK, found[1], body):
            return None
        page = os.path.join(root, NOT_FOUND_PAGE) if root is not None else None
        if page is None or not self._file(HTTPStatus.NOT_FOUND, page, body):
            self._empty(HTTPStatus.NOT_FOUND)
        return None

    def _file(self, status: HTTPStatus, path: str, body: bool) -> bool:
        """Send a file; False if it cannot be opened (gone since it was found)."""
        try:
            f = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError:
            return False
        with f:
            size = os.fstat(f.fileno()).st_size
            self.send_response(status)
            self.send_header("Content-Type", _content_type(path))
            self.send_header("Content-Length", str(size))
            self.send_header("Cache-Control", "no-cache")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if body:
                shutil.copyfileobj(f, self.wfile)
        return True

    def _empty(self, status: HTTPStatus) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: Path, port: int) -> None:
        self.site = os.path.abspath(site)
        super().__init__((HOST, port), SiteHandler)

    def root(self) -> str | None:
        """The folder the site shows now (the `site` link resolved for this request)."""
        real = os.path.realpath(self.site)
        return real if os.path.isdir(real) else None

    def hosts(self) -> set[str]:
        """The `Host` values that name this server."""
        port = self.server_address[1]
        names = {f"{HOST}:{port}", f"localhost:{port}"}
        return names | {HOST, "localhost"} if port == 80 else names

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up mid-answer is not an error of the server."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def server(site: Path, port: int = 8000) -> SiteServer:
    """A server of the site at `site`, usually the link `site` publishes (port 0: any
    free port; `server_address` tells which)."""
    return SiteServer(site, port)
