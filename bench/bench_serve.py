"""`attack-pipeline serve` against Python's own `python -m http.server`, on one site.

    python bench/bench_serve.py [--site DIR] [--requests N] [--rounds R]

What the checks of `serve` cost (the Host check, decoding and checking the path, the
site link resolved on every request, the 404 page): both servers run as processes of
their own on 127.0.0.1 and serve the same folder; this process sends the same requests
to each, one connection a request (both answer HTTP/1.0), alternating rounds so that
background load hits both alike. Requests: a directory's index page, a page, a 1 MB
JSON download and a missing file (the site's 404 page from `serve`, a short error page
from http.server). Without `--site`, a small site is written to a temporary folder
(pages of the size of the real T1046 page, 160 kB). Prints requests per second of each
(median of the rounds) and their ratio.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATHS = ["/", "/techniques/T1046/", "/layers/coverage.json", "/missing/page/"]


def _small_site(folder: Path) -> Path:
    page = "<!doctype html><title>T1046</title>" + "<p>" + "x" * 160_000 + "</p>"
    for rel in ("index.html", "techniques/T1046/index.html", "404.html"):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(page, encoding="utf-8")
    (folder / "layers").mkdir()
    (folder / "layers" / "coverage.json").write_bytes(b"[" + b"0," * 500_000 + b"0]")
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_ours(site: Path) -> tuple[subprocess.Popen, int]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "serve", "--site-dir", str(site), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    m = re.match(r"serving .* at http://127\.0\.0\.1:(\d+)/", proc.stdout.readline())
    if not m:
        proc.kill()
        raise SystemExit(f"serve did not start: {proc.stderr.read()}")
    return proc, int(m.group(1))


def _start_reference(site: Path) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(site), str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("http.server did not start")


def _round(port: int, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", PATHS[i % len(PATHS)])
        r = conn.getresponse()
        r.read()
        conn.close()
        if r.status not in (200, 404):
            raise SystemExit(f"unexpected status {r.status} for {PATHS[i % len(PATHS)]}")
    return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--site", type=Path, help="a built site (default: a small one written here)")
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        site = args.site or _small_site(Path(tmp))
        ours, ours_port = _start_ours(site)
        ref, ref_port = _start_reference(site)
        try:
            _round(ours_port, 20), _round(ref_port, 20)  # warm both
            rates: dict[str, list[float]] = {"serve": [], "http.server": []}
            for _ in range(args.rounds):
                rates["serve"].append(_round(ours_port, args.requests))
                rates["http.server"].append(_round(ref_port, args.requests))
        finally:
            for p in (ours, ref):
                p.terminate()
                p.wait(timeout=10)
    med = {k: statistics.median(v) for k, v in rates.items()}
    print(f"requests: {args.requests} a round, {args.rounds} rounds, paths {PATHS}; load average {os.getloadavg()[0]:.1f}")
    for name, rate in med.items():
        print(f"  {name:12s} {rate:8.0f} requests/s (median; rounds {', '.join(f'{r:.0f}' for r in rates[name])})")
    print(f"  serve / http.server: {med['serve'] / med['http.server']:.2f}")


if __name__ == "__main__":
    main()
