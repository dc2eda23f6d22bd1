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
import resource
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


def run(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    with subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as proc:
        _, err = proc.communicate()

    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed: {err.decode(errors='replace')}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024


def alternately(ours: list[str], ref: list[str], runs: int, ref_runs: int) -> tuple[list[float], list[float]]:
    """Wall seconds of `runs` runs of ours and `ref_runs` of the reference, interleaved so
    that background load hits both alike."""
    ours_t: list[float] = []
    ref_t: list[float] = []
    for i in range(max(runs, ref_runs)):
        if i < runs:
            ours_t.append(run(ours)[0])
        if i < ref_runs:
            ref_t.append(run(ref)[0])
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
    ours = [tool, "stats", "--mirror", args.mirror, "--attack-version", args.version, "--domain", "enterprise"]
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / f"enterprise-attack-{args.version}.json"
        plain.write_bytes(gzip.decompress(gz.read_bytes()))
        ref = [sys.executable, "-c", REFERENCE, str(plain)]
        subprocess.run(ours, check=True, stdout=subprocess.DEVNULL)  # warm the page cache
        ours_t, ref_t = alternately(ours, ref, args.runs, args.ref_runs)
        ours_rss, ref_rss = peak_rss(ours), peak_rss(ref)
    result = {
        "release": f"enterprise {args.version}",
        "attack_pipeline_stats_s": {"median": statistics.median(ours_t), "min": min(ours_t), "runs": ours_t},
        "mitreattack_python_load_s": {"median": statistics.median(ref_t), "min": min(ref_t), "runs": ref_t},
        "speedup_median": statistics.median(ref_t) / statistics.median(ours_t),
        "peak_rss_mb": {"attack_pipeline": round(ours_rss, 1), "mitreattack_python": round(ref_rss, 1)},
        "load_average": os.getloadavg(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"attack-pipeline stats: {result['attack_pipeline_stats_s']['median']:.2f} s median "
        f"({args.runs} runs), peak RSS {ours_rss:.0f} MB\n"
        f"MitreAttackData load:  {result['mitreattack_python_load_s']['median']:.2f} s median "
        f"({args.ref_runs} runs), peak RSS {ref_rss:.0f} MB\n"
        f"speed-up: {result['speedup_median']:.1f}x (load average {os.getloadavg()[0]:.2f})"
    )


if __name__ == "__main__":
    main()
