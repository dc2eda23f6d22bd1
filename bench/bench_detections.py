"""Benchmark: parsing the detection corpora, cold (empty cache) and warm (cache filled).

    ATTACK_PIPELINE_MIRROR=../shared/data .venv/bin/python bench/bench_detections.py [--repeat 3] [--jobs 2]

Target: all enabled detection sources (about 8,000 rule files) in under 5 s on a
2-core machine. Prints a table and writes bench/results/detections.json. Each run
uses its own temporary cache directory, so the numbers never depend on an earlier run.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.core.config import load_config  # noqa: E402
from pipeline.fetch import resolve  # noqa: E402
from pipeline.ingest.detections.corpus import default_jobs, load_sources  # noqa: E402


def run(sources, cache: Path | None, jobs: int) -> tuple[float, list]:
    started = time.perf_counter()
    loads = load_sources(sources, cache_dir=cache, jobs=jobs)
    return time.perf_counter() - started, loads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=default_jobs(), help="processes parsing: this one and jobs-1 workers")
    parser.add_argument("--mirror", default=os.environ.get("ATTACK_PIPELINE_MIRROR") or str(REPO.parent / "shared" / "data"))
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "detections.json")
    args = parser.parse_args()

    config = load_config(REPO / "data" / "sources.toml")
    mirror = Path(args.mirror)
    sources = [(s, resolve(s, mirror).path) for s in config.enabled("detection")]
    rows: dict[str, list[float]] = {"cold, 1 core": [], f"cold, {args.jobs} jobs": [], f"warm, {args.jobs} jobs": []}
    files = records = 0
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            seconds, _loads = run(sources, None, 1)
            rows["cold, 1 core"].append(seconds)
            seconds, loads = run(sources, Path(tmp), args.jobs)
            rows[f"cold, {args.jobs} jobs"].append(seconds)
            seconds, warm = run(sources, Path(tmp), args.jobs)
            rows[f"warm, {args.jobs} jobs"].append(seconds)
            assert all(w.parsed == 0 for w in warm), "warm run parsed files: the cache did not work"
            assert [w.detections for w in warm] == [c.detections for c in loads], "warm records differ from cold ones"
            files = sum(load.files for load in loads)
            records = sum(len(load.detections) for load in loads)

    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "files": files,
        "detections": records,
        "jobs": args.jobs,
        "repeat": args.repeat,
        "seconds": {k: {"min": min(v), "median": statistics.median(v)} for k, v in rows.items()},
        "files_per_second": {k: files / statistics.median(v) for k, v in rows.items()},
        "target_seconds": 5.0,
    }
    print(f"{files} files, {records} detections, {args.repeat} runs (median; min)")
    for name, values in rows.items():
        med = statistics.median(values)
        print(f"  {name:<20} {med:6.2f} s  ({min(values):.2f})  {files / med:8.0f} files/s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
