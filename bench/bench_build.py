"""The whole default build (`make all`): cold caches, warm caches, and a no-op rebuild.

    python bench/bench_build.py [--mirror DIR]

cold:  a fresh cache directory (no parsed releases, detections or input hashes) and a
       fresh output directory;
warm:  the same caches, `build --force`;
no-op: `build` again with nothing changed;
incremental: `build` after one comment of one mapping table (AWS) was edited: the units
       that read the table are rendered, the rest is taken from the previous build.
The mirror is seen through links (tests/mirror_overlay.py) so that the one table can be edited.
Peak RSS is that of the build process and its parsing workers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


AWS = "mappings/mappings-explorer/aws/attack-16.1/aws-12.12.2024/enterprise/aws-12.12.2024_attack-16.1-enterprise.json"


def timed(cmd: list[str], env: dict, output: list | None = None) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if output is not None:
        output.append(proc.stdout)
    return wall, max(peak, before) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", default=os.environ.get("ATTACK_PIPELINE_MIRROR", str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "build.json"))
    args = ap.parse_args()
    tool = shutil.which("attack-pipeline", path=str(Path(sys.executable).parent)) or "attack-pipeline"
    with tempfile.TemporaryDirectory() as tmp:
        env = os.environ | {"ATTACK_PIPELINE_CACHE": str(Path(tmp) / "cache"), "ATTACK_PIPELINE_OFFLINE": "1"}
        sys.path.insert(0, str(ROOT / "tests"))
        from mirror_overlay import overlay

        table = overlay(Path(args.mirror), Path(tmp) / "mirror", AWS)
        out = str(Path(tmp) / "outputs")
        cmd = [tool, "build", "--mirror", str(Path(tmp) / "mirror"), "--out", out]
        cold, cold_rss = timed(cmd, env)
        warm, _ = timed(cmd + ["--force"], env)
        noop, _ = timed(cmd, env)
        doc = json.loads(table.read_text())
        doc["mapping_objects"][0]["comments"] = "edited"
        table.write_text(json.dumps(doc))
        said: list[str] = []
        incremental, _ = timed(cmd, env, said)
        rendered = next((line.strip() for line in said[0].splitlines() if line.strip().startswith("rendered:")), "")
        files = sum(1 for p in Path(out).resolve().rglob("*") if p.is_file())
    result = {
        "cold_s": cold,
        "warm_s": warm,
        "noop_s": noop,
        "incremental_s": incremental,
        "incremental": rendered,
        "peak_rss_mb": cold_rss,
        "files": files,
        "load_average": os.getloadavg(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"default build, {files} files: cold {cold:.1f} s, warm {warm:.1f} s, no-op {noop:.2f} s, "
        f"one table edited {incremental:.1f} s ({rendered}); "
        f"peak RSS {cold_rss:.0f} MB (load average {os.getloadavg()[0]:.2f})"
    )


if __name__ == "__main__":
    main()
