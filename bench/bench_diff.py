"""Whole-process time and peak memory of `attack-pipeline diff OLD NEW` against
mitreattack-python's changelog generator on the same Enterprise pair, in one run.

    python bench/bench_diff.py [--mirror DIR] [--old 16.1] [--new 18.1] [--runs 5] [--ref-runs 2]

Both sides write the same three artifacts (a Markdown changelog, its JSON and a
Navigator layer) as fresh processes, so start-up and imports count. They are run
alternately, so background load hits both alike. mitreattack-python reads plain
`enterprise-attack.json` files from an old/ and a new/ folder; the mirror's `.json.gz`
files are decompressed into a temporary directory once beforehand (not timed). Each
child's peak RSS comes from its own rusage (os.wait4), not from a second run.
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
from mitreattack.diffStix.changelog_helper import get_new_changelog_md
old, new, out = sys.argv[1:4]
get_new_changelog_md(
    domains=["enterprise-attack"], old=old, new=new,
    markdown_file=f"{out}/changelog.md", json_file=f"{out}/changelog.json",
    layers=[f"{out}/layer-enterprise.json"],
)
"""


def measure(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode(errors='replace')[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", default=os.environ.get("ATTACK_PIPELINE_MIRROR", str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--old", default="16.1")
    ap.add_argument("--new", default="18.1")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--ref-runs", type=int, default=2)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "diff.json"))
    args = ap.parse_args()

    tool = shutil.which("attack-pipeline", path=str(Path(sys.executable).parent)) or "attack-pipeline"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for tag, version in (("old", args.old), ("new", args.new)):
            gz = Path(args.mirror) / "attack" / f"enterprise-attack-{version}.json.gz"
            (work / tag).mkdir()
            (work / tag / "enterprise-attack.json").write_bytes(gzip.decompress(gz.read_bytes()))
        ours = [tool, "diff", args.old, args.new, "--mirror", args.mirror, "--out", str(work / "ours")]
        ref = [sys.executable, "-c", REFERENCE, str(work / "old"), str(work / "new"), str(work / "ref")]
        subprocess.run(ours, check=True, stdout=subprocess.DEVNULL)  # warm the page cache
        ours_runs, ref_runs = [], []
        for i in range(max(args.runs, args.ref_runs)):
            if i < args.runs:
                ours_runs.append(measure(ours))
            if i < args.ref_runs:
                ref_runs.append(measure(ref))
    sides = {
        f"attack-pipeline diff {args.old} {args.new}": summary(ours_runs),
        "mitreattack-python changelog": summary(ref_runs),
    }
    ours_s, ref_s = sides.values()
    result = {
        "pair": f"enterprise {args.old} -> {args.new}",
        "sides": sides,
        "speedup_median": ref_s["median_s"] / ours_s["median_s"],
        "load_average": os.getloadavg(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    for label, side in sides.items():
        print(f"{label:<32} {side['median_s']:6.2f} s median ({len(side['runs_s'])} runs), peak RSS {side['peak_rss_mb']:.0f} MB")
    print(f"speed-up: {result['speedup_median']:.1f}x (load average {os.getloadavg()[0]:.2f})")


def summary(runs: list[tuple[float, float]]) -> dict:
    walls = [w for w, _ in runs]
    return {"median_s": statistics.median(walls), "min_s": min(walls), "runs_s": walls, "peak_rss_mb": round(max(r for _, r in runs), 1)}

if __name__ == "__main__":
    main()
