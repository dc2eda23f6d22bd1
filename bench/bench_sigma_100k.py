"""The default build with a Sigma corpus of 100,000 rule files, cold and warm caches.

    python bench/bench_sigma_100k.py [--mirror DIR] [--rules 100000] [--work DIR]

The corpus is made from the mirror's Sigma rules: the mirror is seen through links
(tests/mirror_overlay.py) with `detections/sigma` copied, and `rules-bench/copy-NN/…`
added beside the real folders: each real rule again with a new `id` (a UUID derived from
the old one and the copy number) and ` (copy NN)` after its title, until the corpus
holds `--rules` files. Every copy is a distinct detection of the build.

cold: a fresh cache directory and a fresh output directory (every rule file read and
      parsed; before rule files were read by their size, this run stopped with
      `ImportError … Cannot allocate memory` once each read had left a memory mapping
      behind and `vm.max_map_count` was reached);
warm: the same caches, `build --force`.
Peak RSS is that of the largest process of the build (the build or one of its parsing
workers), taken from the kernel's accounting of the waited-for children. Every second
the memory mappings of each process of the build are counted (/proc/PID/maps), and the
largest count is reported: it stays flat however many rule files are read, where a
mapping left behind per read would grow with the corpus up to `vm.max_map_count`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIGMA = "detections/sigma"
_ID = re.compile(rb"^id:[ \t]*['\"]?([^\s'\"]+)['\"]?[ \t]*$", re.M)
_TITLE = re.compile(rb"^title:[ \t]*(.*?)[ \t]*$", re.M)
# Runs a command; every second, the memory mappings of each process of the build (the
# build and its parsing workers) are counted from /proc, and the largest count is kept;
# at the end it reports (on its last stderr line) the largest RSS (kB) among the waited-for
# descendants and that largest mapping count.
_MEASURE = (
    "import os, resource, subprocess, sys, time\n"
    "def tree(root):\n"
    "    kids = {}\n"
    "    for d in os.listdir('/proc'):\n"
    "        if d.isdigit():\n"
    "            try:\n"
    "                ppid = int(open(f'/proc/{d}/stat').read().rsplit(')', 1)[1].split()[1])\n"
    "            except (OSError, IndexError, ValueError):\n"
    "                continue\n"
    "            kids.setdefault(ppid, []).append(int(d))\n"
    "    out, todo = [], [root]\n"
    "    while todo:\n"
    "        pid = todo.pop()\n"
    "        out.append(pid)\n"
    "        todo.extend(kids.get(pid, ()))\n"
    "    return out\n"
    "child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "maps = 0\n"
    "while child.poll() is None:\n"
    "    for pid in tree(child.pid):\n"
    "        try:\n"
    "            with open(f'/proc/{pid}/maps', 'rb') as f:\n"
    "                maps = max(maps, sum(1 for _ in f))\n"
    "        except OSError:\n"
    "            pass\n"
    "    time.sleep(1)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, maps, file=sys.stderr)\n"
    "sys.exit(child.returncode)\n"
)


def make_corpus(mirror: Path, work: Path, rules: int) -> tuple[Path, int]:
    """The overlay mirror under `work/mirror` with `rules` Sigma rule files in all."""
    sys.path.insert(0, str(ROOT / "tests"))
    from mirror_overlay import overlay

    dst = work / "mirror"
    overlay(mirror, dst, f"{SIGMA}/LICENSE", whole=SIGMA)
    sigma = dst / SIGMA
    real = sorted(p for p in sigma.rglob("*.yml") if p.is_file())
    have, copy = len(real), 0
    while have < rules:
        copy += 1
        for src in real:
            if have >= rules:
                break
            data = src.read_bytes()
            data = _ID.sub(lambda m: b"id: " + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{m.group(1).decode(errors='replace')}/{copy}")).encode(), data, count=1)
            data = _TITLE.sub(lambda m: b"title: " + m.group(1) + f" (copy {copy:02d})".encode(), data, count=1)
            target = sigma / "rules-bench" / f"copy-{copy:02d}" / src.relative_to(sigma)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            have += 1
    return dst, have


def measured(cmd: list[str], env: dict) -> tuple[float, float, int]:
    """Wall time (s), peak RSS (MB) and the most memory mappings one process of it held."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    rss_kb, maps = proc.stderr.strip().splitlines()[-1].split()
    return wall, int(rss_kb) / 1024, int(maps)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", default=os.environ.get("ATTACK_PIPELINE_MIRROR", str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--rules", type=int, default=100_000)
    ap.add_argument("--work", help="a folder for the corpus, caches and outputs (default: a temporary one, removed)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "sigma_100k.json"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        mirror, rules = make_corpus(Path(args.mirror), work, args.rules)
        made = time.perf_counter() - started
        # This checkout's code, whatever an installed `attack-pipeline` points at.
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        env = os.environ | {"ATTACK_PIPELINE_CACHE": str(work / "cache"), "ATTACK_PIPELINE_OFFLINE": "1", "PYTHONPATH": path}
        out = work / "outputs"
        cmd = [sys.executable, "-m", "pipeline", "build", "--mirror", str(mirror), "--out", str(out)]
        print(f"corpus of {rules:,} rule files made in {made:.0f} s", flush=True)
        cold, cold_rss, cold_maps = measured(cmd, env)
        print(f"cold: {cold:.1f} s, peak RSS {cold_rss:.0f} MB, at most {cold_maps} memory mappings in one process", flush=True)
        warm, warm_rss, warm_maps = measured(cmd + ["--force"], env)
        print(f"warm: {warm:.1f} s, peak RSS {warm_rss:.0f} MB, at most {warm_maps} memory mappings in one process", flush=True)
        summary = json.loads((out / "reports" / "summary.json").read_text())
        files = sum(1 for p in out.resolve().rglob("*") if p.is_file())
    result = {
        "rule_files": rules,
        "corpus_made_s": round(made, 1),
        "cold_s": round(cold, 1),
        "cold_peak_rss_mb": round(cold_rss),
        "warm_s": round(warm, 1),
        "warm_peak_rss_mb": round(warm_rss),
        "cold_max_mappings": cold_maps,
        "warm_max_mappings": warm_maps,
        "files": files,
        "detection_nodes": summary.get("nodes", {}).get("detection"),
        "max_map_count": Path("/proc/sys/vm/max_map_count").read_text().strip() if Path("/proc/sys/vm/max_map_count").exists() else "",
        "load_average": os.getloadavg(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"default build with {rules:,} Sigma rule files ({files:,} files written): cold {cold:.1f} s (peak RSS {cold_rss:.0f} MB), "
        f"warm {warm:.1f} s (peak RSS {warm_rss:.0f} MB); load average {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
