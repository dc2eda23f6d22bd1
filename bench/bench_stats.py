"""Whole-process time and peak memory of `attack-pipeline stats` on one ATT&CK release,
against mitreattack-python's `MitreAttackData` loading the same release, in one run.

    python bench/bench_stats.py [--mirror DIR] [--version 18.1] [--runs 5] [--ref-runs 2]

Both sides run as fresh processes (start-up and imports count), measured alternately so
that background load hits both alike. MitreAttackData needs a plain JSON file, so the
mirror's `.json.gz` is decompressed once into a temporary file beforehand (not timed).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

REFERENCE = """
import sys
from mitreattack.stix20 import MitreAttackData
data = MitreAttackData(sys.argv[1])
print(len(data.get_techniques(remove_revoked_deprecated=True)))
"""


COLD = os.environ | {"ATTACK_PIPELINE_NO_PARSE_CACHE": "1"}


def run(cmd: list[str], env: dict | None = None) -> float:
    """Wall seconds of one child process (start-up and imports included)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode(errors='replace')}")
    return wall


def alternately(ours: list[str], ref: list[str], runs: int, ref_runs: int) -> tuple[list[float], list[float]]:
    """Wall seconds of `runs` runs of ours and `ref_runs` of the reference, interleaved so
    that background load hits both alike."""
    ours_t: list[float] = []
    ref_t: list[float] = []
    for i in range(max(runs, ref_runs)):
        if i < runs:
            ours_t.append(run(ours))
        if i < ref_runs:
            ref_t.append(run(ref))
    return ours_t, ref_t


def peak_rss(cmd: list[str]) -> float:
    """Peak RSS in MB measured by GNU time when present, else by a fresh python wrapper."""
    wrapper = (
        "import resource,subprocess,sys;"
        "subprocess.run(sys.argv[1:],check=True,stdout=subprocess.DEVNULL);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], check=True, capture_output=True, text=True)
    return int(out.stdout.strip()) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", default=os.environ.get("ATTACK_PIPELINE_MIRROR", str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--version", default="18.1")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--ref-runs", type=int, default=2)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "stats.json"))
    args = ap.parse_args()

    gz = Path(args.mirror) / "attack" / f"enterprise-attack-{args.version}.json.gz"
    tool = shutil.which("attack-pipeline", path=str(Path(sys.executable).parent)) or "attack-pipeline"
    ours = [tool, "stats", "--attack-only", "--mirror", args.mirror, "--attack-version", args.version, "--domain", "enterprise"]
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / f"enterprise-attack-{args.version}.json"
        plain.write_bytes(gzip.decompress(gz.read_bytes()))
        ref = [sys.executable, "-c", REFERENCE, str(plain)]
        subprocess.run(ours, check=True, stdout=subprocess.DEVNULL)  # warm the page cache
        ours_t, cold_t, ref_t = [], [], []
        for i in range(max(args.runs, args.ref_runs)):
            if i < args.runs:
                ours_t.append(run(ours))
                cold_t.append(run(ours, COLD))
            if i < args.ref_runs:
                ref_t.append(run(ref))
        ours_rss, ref_rss = peak_rss(ours), peak_rss(ref)
        # For the record: the whole default graph (ATT&CK, mapping tables, detection corpora),
        # parsed-file caches warm.
        full = [tool, "stats", "--mirror", args.mirror, "--attack-version", args.version]
        subprocess.run(full, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        full_t = [run(full) for _ in range(3)]
        full_rss = peak_rss(full)
    result = {
        "release": f"enterprise {args.version}",
        "attack_pipeline_stats_s": {"median": statistics.median(ours_t), "min": min(ours_t), "runs": ours_t},
        "mitreattack_python_load_s": {"median": statistics.median(ref_t), "min": min(ref_t), "runs": ref_t},
        "attack_pipeline_stats_cold_s": {"median": statistics.median(cold_t), "min": min(cold_t), "runs": cold_t},
        "speedup_median": statistics.median(ref_t) / statistics.median(ours_t),
        "speedup_cold_median": statistics.median(ref_t) / statistics.median(cold_t),
        "peak_rss_mb": {"attack_pipeline": round(ours_rss, 1), "mitreattack_python": round(ref_rss, 1)},
        "full_graph_stats_warm_s": {"median": statistics.median(full_t), "runs": full_t, "peak_rss_mb": round(full_rss, 1)},
        "load_average": os.getloadavg(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"attack-pipeline stats: {result['attack_pipeline_stats_s']['median']:.2f} s median "
        f"({args.runs} runs, parsed-release cache warm), peak RSS {ours_rss:.0f} MB\n"
        f"attack-pipeline stats, no parse cache: {result['attack_pipeline_stats_cold_s']['median']:.2f} s median\n"
        f"MitreAttackData load:  {result['mitreattack_python_load_s']['median']:.2f} s median "
        f"({args.ref_runs} runs), peak RSS {ref_rss:.0f} MB\n"
        f"speed-up: {result['speedup_median']:.1f}x warm, {result['speedup_cold_median']:.1f}x without the cache (load average {os.getloadavg()[0]:.2f})\n"
        f"whole default graph (stats without --attack-only, caches warm): {statistics.median(full_t):.2f} s, "
        f"peak RSS {full_rss:.0f} MB"
    )


if __name__ == "__main__":
    main()
