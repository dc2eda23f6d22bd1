"""Preview a built site on 127.0.0.1: a plain static file server of the site folder.

Not `mkdocs serve` (which rebuilds ten thousand pages on every change and watches
files): the site is a finished artifact, and this serves exactly what would be
published. Bound to the loopback address only.
"""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOST = "127.0.0.1"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server API
        pass


def server(site: Path, port: int = 8000) -> ThreadingHTTPServer:
    """A server of `site` (port 0: any free port; `server_address` tells which)."""
    handler = functools.partial(_Quiet, directory=str(Path(site).resolve()))
    return ThreadingHTTPServer((HOST, port), handler)
