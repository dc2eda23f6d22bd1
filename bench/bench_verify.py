"""`attack-pipeline verify` on the default build, against `sha256sum -c` on the same files.

    python bench/bench_verify.py --out outputs        # an existing default build
    python bench/bench_verify.py                      # builds one first (minutes)

verify:    `attack-pipeline verify --out DIR` as a fresh process: every artifact hashed
           against the manifest, plus the walk for files the manifest does not list;
sha256sum: coreutils `sha256sum -c --quiet` over a checksum list made from the same
           manifest (the reference: the same bytes hashed, no walk), as a fresh process;
quick:     the check a no-op `build` makes (pipeline.build.integrity.damaged): a stat of
           every artifact against the signatures recorded when it was hashed; files
           whose stat changed are hashed. Measured in this process, interleaved with
size-only: the check no-op builds made before (every artifact's size, by stat), and
foreign:   the walk of the build folders for files the manifest does not list, which
           every build makes before it starts.
Both processes are run interleaved, `--repeat` times each (median reported), so that
background load hits both alike. The page cache is warm for all of them (the files were
just written or read): cold-cache hashing is bounded by the disk, not by the tool.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(cmd: list[str], **kw) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-1000:]}{proc.stderr[-1000:]}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="output directory of a default build (default: build one in a temporary folder)")
    ap.add_argument("--mirror", default=os.environ.get("ATTACK_PIPELINE_MIRROR", str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--results", default=str(ROOT / "bench" / "results" / "verify.json"))
    args = ap.parse_args()
    # This checkout's code, whatever an installed `attack-pipeline` points at.
    tool = [sys.executable, "-m", "pipeline"]
    env = os.environ | {"PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out) if args.out else Path(tmp) / "outputs"
        if not args.out:
            print("building the default build …", flush=True)
            timed([*tool, "build", "--mirror", args.mirror, "--out", str(out)], env=env | {"ATTACK_PIPELINE_OFFLINE": "1"})
        root = out.resolve()
        doc = json.loads((root / "manifest.json").read_text())
        artifacts = doc["artifacts"]
        sums = Path(tmp) / "SHA256SUMS"
        sums.write_text("".join(f"{a['sha256']}  {a['path']}\n" for a in artifacts))
        mb = sum(a["size"] for a in artifacts) / 1e6

        verify, reference = [], []
        for _ in range(args.repeat):
            verify.append(timed([*tool, "verify", "--out", str(out)], env=env))
            reference.append(timed(["sha256sum", "-c", "--quiet", str(sums)], cwd=root))

        from pipeline.build import foreign_files, integrity

        known = len(integrity.read_signatures(root))
        quick, size_only, foreign = [], [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            damaged = integrity.damaged(root, doc)
            quick.append(time.perf_counter() - start)
            start = time.perf_counter()
            sizes_ok = all((root / a["path"]).stat().st_size == a["size"] for a in artifacts)
            size_only.append(time.perf_counter() - start)
            start = time.perf_counter()
            found = foreign_files(out)
            foreign.append(time.perf_counter() - start)
        assert damaged == [] and sizes_ok and found == [], (damaged[:3], found[:3])

    result = {
        "files": len(artifacts),
        "megabytes": round(mb, 1),
        "verify_s": round(statistics.median(verify), 3),
        "sha256sum_s": round(statistics.median(reference), 3),
        "ratio_sha256sum_over_verify": round(statistics.median(reference) / statistics.median(verify), 2),
        "quick_check_s": round(statistics.median(quick), 3),
        "size_only_check_s": round(statistics.median(size_only), 3),
        "foreign_walk_s": round(statistics.median(foreign), 3),
        "signatures_known": known,
        "load_average": round(os.getloadavg()[0], 2),
        "runs": {"verify": [round(x, 3) for x in verify], "sha256sum": [round(x, 3) for x in reference], "quick": [round(x, 3) for x in quick],
                 "size_only": [round(x, 3) for x in size_only], "foreign": [round(x, 3) for x in foreign]},
    }
    print(json.dumps(result, indent=2))
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    Path(args.results).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
