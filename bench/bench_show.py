"""Whole-process time of `attack-pipeline show T1046`, `stats` and `layer --framework
nist_800_53`: answered from the build (its answers, pipeline.build.answers, and for `layer` its
pickled graph) against reading the sources and building the graph (`--from-sources`, what
every such command did before), in one run, on the default inputs and optionally with the
Sigma corpus repeated SCALE times.

    python bench/bench_show.py [--mirror DIR] [--runs 5] [--ref-runs 2] [--scale 10] [--out DIR]

Each side runs as a fresh process (start-up and imports count), alternately so that
background load hits both alike. The build (not timed) goes into a temporary folder, with
its own cache, unless --out names an existing one. With --scale N, the mirror is a copy
of links in which detections/sigma holds N copies of every rule (each copy with its own
rule id), so the corpus, the graph and the build grow N times while the question stays
the same. Target: `show T1046` under 0.5 s whatever the corpus size.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAMESPACE = uuid.UUID("6f1c1a52-0b1e-4d39-9a43-1d4f3a5c2e77")
_ID = re.compile(r"^id:\s*([0-9a-fA-F-]{36})\s*$", re.MULTILINE)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline", *args]


def run(cmd: list[str], env: dict) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one child process. On a shared machine the
    CPU time is what the wall time would be without the other work."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode(errors='replace')}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def scaled_mirror(src: Path, dst: Path, copies: int) -> Path:
    """Links to the top-level entries of `src` and to each corpus folder (folder sources
    refuse links inside them, not a linked root), except detections/sigma: `copies`
    copies of each rule, the first as published, the others under <folder>/copy-<k>/
    with a derived rule id."""
    dst.mkdir(parents=True)
    for child in src.iterdir():
        if child.name != "detections":
            os.symlink(child, dst / child.name)
    (dst / "detections").mkdir()
    for child in (src / "detections").iterdir():
        if child.name != "sigma":
            os.symlink(child, dst / "detections" / child.name)
    sigma = src / "detections" / "sigma"
    for path in sorted(sigma.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(sigma)
        data = path.read_bytes()
        for k in range(copies if len(rel.parts) > 1 else 1):  # top-level files (LICENSE) once
            target = dst / "detections" / "sigma" / (rel if k == 0 else Path(rel.parts[0], f"copy-{k}", *rel.parts[1:]))
            target.parent.mkdir(parents=True, exist_ok=True)
            if k and path.suffix == ".yml":
                text = data.decode("utf-8", errors="surrogateescape")
                text = _ID.sub(lambda m: f"id: {uuid.uuid5(NAMESPACE, f'{k}:{m.group(1)}')}", text, count=1)
                target.write_bytes(text.encode("utf-8", errors="surrogateescape"))
            else:
                target.write_bytes(data)
    return dst


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mirror", default=os.environ.get("ATTACK_PIPELINE_MIRROR", str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--ref-runs", type=int, default=2)
    ap.add_argument("--scale", type=int, default=1, help="copies of the Sigma corpus (1: as published)")
    ap.add_argument("--out", help="an existing build of these inputs to answer from (default: build one)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-show-") as tmp:
        tmp_path = Path(tmp)
        mirror = Path(args.mirror)
        if args.scale > 1:
            mirror = scaled_mirror(mirror, tmp_path / "mirror", args.scale)
        env = os.environ | {"ATTACK_PIPELINE_MIRROR": str(mirror), "PYTHONPATH": str(ROOT)}
        if not args.out:
            env["ATTACK_PIPELINE_CACHE"] = str(tmp_path / "cache")
        out = Path(args.out) if args.out else tmp_path / "outputs"
        started = time.perf_counter()
        subprocess.run(cli("build", "--out", str(out), "--quiet"), env=env, cwd=ROOT, check=True)
        print(f"build (not timed below): {time.perf_counter() - started:.1f} s, Sigma x{args.scale}")
        rows = []
        layer = ["layer", "--framework", "nist_800_53", "--out", str(tmp_path / "layer.json"), "--build"]
        for name, question in (("show T1046", ["show", "T1046", "--out"]), ("stats", ["stats", "--out"]), ("layer", layer)):
            fast_cmd = cli(*question, str(out), "--quiet")
            slow_cmd = cli(*question, str(out), "--from-sources", "--quiet")
            run(fast_cmd, env)  # warm the file system cache alike for both
            fast, slow = [], []
            for i in range(max(args.runs, args.ref_runs)):
                if i < args.runs:
                    fast.append(run(fast_cmd, env))
                if i < args.ref_runs:
                    slow.append(run(slow_cmd, env))
            fw, fc = median([w for w, _ in fast]), median([c for _, c in fast])
            sw, sc = median([w for w, _ in slow]), median([c for _, c in slow])
            rows.append((name, fw, fc, sw, sc))
        load = os.getloadavg()[0]
        print(f"load average {load:.1f}; medians of {args.runs} (answers) and {args.ref_runs} (sources) fresh processes")
        print(f"{'question':<12} {'from the build: wall':>21} {'cpu':>7} {'from sources: wall':>19} {'cpu':>7} {'ratio (wall, cpu)':>18}")
        for name, fw, fc, sw, sc in rows:
            print(f"{name:<12} {fw:>19.2f} s {fc:>5.2f} s {sw:>17.2f} s {sc:>5.2f} s {sw / fw:>8.1f}x {sc / fc:>6.1f}x")


if __name__ == "__main__":
    main()
