"""The whole default build (`make all`): cold caches, warm caches, and a no-op rebuild.

    python bench/bench_build.py [--mirror DIR]

cold:  a fresh cache directory (no parsed releases, detections or input hashes) and a
       fresh output directory;
warm:  the same caches, `build --force`;
no-op: `build` again with nothing changed;
incremental: `build` after one comment of one mapping table (AWS) was edited: the units
       that read the table are rendered, the rest is taken from the previous build.
The mirror is seen through links (tests/mirror_overlay.py) so that the one table can be edited.

Each build is a fresh process of the code beside this script (its compiled modules kept
in the temporary folder from the cold build on, as an installation keeps them). For each: wall seconds, CPU
seconds (user + system, of the process and its parsing workers: on a shared machine the
wall time varies with the load, the CPU time much less), peak RSS, and the seconds of each
stage as `build --verbose` reports them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


AWS = "mappings/mappings-explorer/aws/attack-16.1/aws-12.12.2024/enterprise/aws-12.12.2024_attack-16.1-enterprise.json"


def timed(cmd: list[str], env: dict) -> dict:
    """Run `cmd`; its wall and CPU seconds, peak RSS (MB), stage seconds and output.

    `os.wait4` gives the resources of this one child and the children it waited for,
    where `RUSAGE_CHILDREN` would give the peak over every build run so far."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{stderr[-2000:]}")
    stages = {}
    for line in stdout.splitlines():
        if line.strip().startswith("seconds:"):
            for part in line.split(":", 1)[1].split(","):
                name, _, value = part.strip().rpartition(" ")
                if name:
                    stages[name] = float(value)
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "stages_s": stages,
        "stdout": stdout,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", default=os.environ.get("ATTACK_PIPELINE_MIRROR", str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "build.json"))
    ap.add_argument("--manifest", help="copy the warm build's manifest here (to compare two versions' outputs byte for byte)")
    args = ap.parse_args()
    # Absolute: the overlay's links would otherwise point relative to the overlay itself
    # (`make bench` passes `../shared/data`), the mirror would look empty and the default
    # release would fall back to the newest listed one, which is not at hand.
    mirror = Path(args.mirror).resolve()
    if not mirror.is_dir():
        raise SystemExit(f"mirror {args.mirror!r} is not a directory")
    with tempfile.TemporaryDirectory() as tmp:
        env = os.environ | {
            "ATTACK_PIPELINE_CACHE": str(Path(tmp) / "cache"),
            "ATTACK_PIPELINE_OFFLINE": "1",
            "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        }
        env.pop("ATTACK_PIPELINE_MIRROR", None)
        # Compiled modules kept, as in any installation (outside the repository): without
        # them every run compiles the pipeline again (0.1-0.2 s, most of a no-op build).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        sys.path.insert(0, str(ROOT / "tests"))
        from mirror_overlay import overlay

        table = overlay(mirror, Path(tmp) / "mirror", AWS)
        out = str(Path(tmp) / "outputs")
        cmd = [sys.executable, "-m", "pipeline", "build", "--verbose", "--mirror", str(Path(tmp) / "mirror"), "--out", out]
        runs = {"cold": timed(cmd, env)}
        runs["warm"] = timed(cmd + ["--force"], env)
        if args.manifest:
            shutil.copyfile(Path(out) / "manifest.json", args.manifest)
        runs["noop"] = timed(cmd, env)
        doc = json.loads(table.read_text())
        doc["mapping_objects"][0]["comments"] = "edited"
        table.write_text(json.dumps(doc))
        runs["incremental"] = timed(cmd, env)
        said = runs["incremental"]["stdout"]
        rendered = next((line.strip() for line in said.splitlines() if line.strip().startswith("rendered:")), "")
        files = sum(1 for p in Path(out).resolve().rglob("*") if p.is_file())
    for run in runs.values():
        del run["stdout"]
    result = {
        "runs": runs,
        "incremental": rendered,
        "files": files,
        "load_average": os.getloadavg(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"default build, {files} files (load average {os.getloadavg()[0]:.2f}); one table edited: {rendered}")
    print(f"{'':12} {'wall s':>8} {'CPU s':>8} {'RSS MB':>7}")
    for name, run in runs.items():
        print(f"{name:12} {run['wall_s']:8.2f} {run['cpu_s']:8.2f} {run['peak_rss_mb']:7d}")
    print("warm stages (s): " + ", ".join(f"{k} {v:.2f}" for k, v in runs["warm"]["stages_s"].items()))


if __name__ == "__main__":
    main()
