"""HTTP downloads that survive bad networks: timeouts, retries, truncation checks.

The standard library's urllib is enough here and adds no dependency. What it does
not do, this module does: it counts the body against Content-Length (http.client
returns a short body without complaint when a connection drops), retries
transient failures with exponential backoff, gives up at once on answers that
will not change (404, a redirect loop), and turns every failure into one line.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.client import HTTPException
from typing import BinaryIO, Callable
from urllib.parse import urlsplit

from pipeline import __version__
from pipeline.core.errors import PipelineError
from pipeline.core.limits import current

CHUNK = 1 << 16
# Answers that may change on a retry; every other HTTP error is final.
TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class DownloadError(PipelineError):
    """A download failed for good (after its retries, or at once for a final answer)."""

    def __init__(self, problem: str, *, url: str, status: int | None = None, record: str | None = None) -> None:
        self.url = url
        self.status = status
        super().__init__(problem, record=record)


class _Transient(Exception):
    """A failure worth another attempt."""


class _LimitedRedirects(urllib.request.HTTPRedirectHandler):
    """Follow at most `max_redirections` redirects, and only to http(s)."""

    def __init__(self, limit: int) -> None:
        self.max_redirections = limit

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102 - urllib API
        if urlsplit(newurl).scheme not in ("http", "https"):
            raise DownloadError(f"redirected to a non-HTTP location {newurl!r}", url=req.full_url, status=code)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _default_timeout() -> float:
    return current().http_timeout


@dataclass(frozen=True, slots=True, kw_only=True)
class Downloader:
    """`timeout` bounds each connect and each read (default: the `http_timeout` limit,
    from [settings] or ATTACK_PIPELINE_HTTP_TIMEOUT); attempts = 1 + `retries`,
    waiting `backoff`, 2×`backoff`, 4×`backoff`… between them."""

    timeout: float = field(default_factory=_default_timeout)
    retries: int = 3
    backoff: float = 1.0
    max_redirects: int = 10
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def download(self, url: str, out: BinaryIO) -> int:
        """Write the body of `url` into `out` (rewound on every attempt); return its size."""
        if urlsplit(url).scheme not in ("http", "https"):
            raise DownloadError(f"only http and https URLs can be downloaded, not {url!r}", url=url)
        opener = urllib.request.build_opener(_LimitedRedirects(self.max_redirects))
        attempts = 1 + max(0, self.retries)
        last = ""
        for attempt in range(attempts):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            out.seek(0)
            out.truncate()
            try:
                return self._once(opener, url, out)
            except _Transient as exc:
                last = str(exc)
        raise DownloadError(f"could not download {url}: {last} (gave up after {attempts} attempts)", url=url)

    def _once(self, opener, url: str, out: BinaryIO) -> int:
        request = urllib.request.Request(url, headers={"User-Agent": f"attack-pipeline/{__version__}"})
        try:
            with opener.open(request, timeout=self.timeout) as response:
                expected = _content_length(response.headers.get("Content-Length"))
                size = 0
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    size += len(chunk)
        except urllib.error.HTTPError as exc:
            exc.close()
            if 300 <= exc.code < 400:
                looped = str(exc.msg).startswith(urllib.request.HTTPRedirectHandler.inf_msg)
                problem = f"redirect loop or more than {self.max_redirects} redirects" if looped else "redirect without a usable Location"
                raise DownloadError(f"could not download {url}: {problem} (HTTP {exc.code})", url=url, status=exc.code) from None
            if exc.code in TRANSIENT_STATUS:
                raise _Transient(f"HTTP {exc.code} {exc.reason}") from None
            raise DownloadError(f"could not download {url}: HTTP {exc.code} {exc.reason}", url=url, status=exc.code) from None
        except urllib.error.URLError as exc:
            if _unknown_host(exc.reason):
                raise DownloadError(f"could not download {url}: {_reason(exc.reason)}", url=url) from None
            raise _Transient(_reason(exc.reason)) from None
        except (TimeoutError, socket.timeout):
            raise _Transient(f"timed out (no data for {self.timeout:g} s)") from None
        except (OSError, HTTPException) as exc:
            raise _Transient(_reason(exc)) from None
        if expected is not None and size != expected:
            raise _Transient(f"truncated body: received {size} of {expected} bytes")
        return size


def _content_length(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


def _unknown_host(reason: object) -> bool:
    """A name that does not exist will not exist a second later (unlike EAI_AGAIN)."""
    final = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}
    return isinstance(reason, socket.gaierror) and reason.errno in final


def _reason(reason: object) -> str:
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, ConnectionResetError):
        return "connection reset"
    if isinstance(reason, socket.gaierror):
        return f"host name lookup failed ({reason.strerror or reason})"
    text = str(reason).strip() or type(reason).__name__
    return " ".join(text.split())
