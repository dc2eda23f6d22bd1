"""The whole default build (`make all`): cold caches, warm caches, and a no-op rebuild,
with the renderers on every core and in one process, in one run.

    python bench/bench_build.py [--mirror DIR] [--modes default,serial] [--root CHECKOUT]

cold:  a fresh cache directory (no parsed releases, detections or input hashes) and a
       fresh output directory, with Python's modules compiled beforehand, as an
       installation has them (`--cold-compiles`: compiled by the cold build itself, as
       this script measured before; 2-3 s more);
warm:  the same caches, `build --force`;
no-op: `build` again with nothing changed, once the build's folders have settled
       (`noop`: lists them and records their directories; `noop again`: stats those only);
incremental: `build` after one comment of one mapping table (AWS) was edited: the units
       that read the table are rendered, the rest is taken from the previous build.
The mirror is seen through links (tests/mirror_overlay.py) so that the one table can be edited.

Modes: `default` leaves ATTACK_PIPELINE_JOBS unset (every core: renderers side by side in
forked workers), `serial` sets it to 1 (one process, as the builds before the workers);
each mode runs the four builds above in a folder and a cache of its own. `--root` times
the code of another checkout (the code before a change) with this script.

Each build is a fresh process of the code beside this script (its compiled modules kept
in the temporary folder from the cold build on, as an installation keeps them). For each: wall seconds, CPU
seconds (user + system, of the process and its workers: on a shared machine the
wall time varies with the load, the CPU time much less), peak RSS (of the largest process:
a worker's counts the pages it shares with the build), the load average when it started, and
the seconds of each stage as `build --verbose` reports them, wall and CPU (`cpu:`, the
build's own and its workers').
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


def _split(line: str) -> dict[str, object]:
    """`name 1.23, other 4.56+7.89` → {name: 1.23, other: [4.56, 7.89]}."""
    out: dict[str, object] = {}
    for part in line.split(":", 1)[1].split(","):
        name, _, value = part.strip().rpartition(" ")
        if not name:
            continue
        if "+" in value:
            out[name] = [float(v) for v in value.split("+")]
        else:
            out[name] = float(value)
    return out


def timed(cmd: list[str], env: dict, cwd: Path | None = None) -> dict:
    """Run `cmd`; its wall and CPU seconds, peak RSS (MB), stage seconds and output.

    `os.wait4` gives the resources of this one child and the children it waited for,
    where `RUSAGE_CHILDREN` would give the peak over every build run so far."""
    load = os.getloadavg()[0]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, cwd=cwd)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{stderr[-2000:]}")
    stages: dict = {}
    cpu: dict = {}
    for line in stdout.splitlines():
        if line.strip().startswith("seconds:"):
            stages = _split(line)
        elif line.strip().startswith("cpu:"):
            cpu = _split(line)
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "load_average": round(load, 2),
        "stages_s": stages,
        "stages_cpu_s": cpu,
        "stdout": stdout,
    }


def precompile(root: Path, env: dict) -> None:
    """Compile the timed checkout's pipeline, the standard library and the installed
    packages into the run's cache prefix, as an installation has them (pip compiles
    what it installs, `make install` the pipeline): the cold build then times the
    pipeline's own caches, not Python compiling the ~700 modules a build imports."""
    where = subprocess.run(
        [sys.executable, "-c", "import sysconfig; print('\\n'.join(sorted({sysconfig.get_path(k) for k in ('stdlib', 'platstdlib', 'purelib', 'platlib')})))"],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    # compileall exits 1 for the standard library's deliberately broken test files: ignored.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", str(root / "pipeline"), *where],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def series(
    root: Path, mirror: Path, tmp: Path, jobs: str | None, manifest: str | None = None, *, cold_compiles: bool = False
) -> tuple[dict, str, int]:
    """Cold, warm, no-op and one-table builds in `tmp` (a cache and outputs of their own)."""
    env = os.environ | {
        "ATTACK_PIPELINE_CACHE": str(tmp / "cache"),
        "ATTACK_PIPELINE_OFFLINE": "1",
        "PYTHONPATH": os.pathsep.join([str(root), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }
    env.pop("ATTACK_PIPELINE_MIRROR", None)
    env.pop("ATTACK_PIPELINE_JOBS", None)
    if jobs is not None:
        env["ATTACK_PIPELINE_JOBS"] = jobs
    # Compiled modules kept, as in any installation (outside the repository): without
    # them every run compiles the pipeline again (0.1-0.2 s, most of a no-op build).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    if str(ROOT / "tests") not in sys.path:
        sys.path.insert(0, str(ROOT / "tests"))
    from mirror_overlay import overlay

    table = overlay(mirror, tmp / "mirror", AWS)
    out = str(tmp / "outputs")
    cmd = [sys.executable, "-m", "pipeline", "build", "--verbose", "--mirror", str(tmp / "mirror"), "--out", out]
    if not cold_compiles:
        precompile(root, env)
    # In the checkout timed: `python -m` puts the working directory first on the path.
    runs = {"cold": timed(cmd, env, root)}
    runs["warm"] = timed(cmd + ["--force"], env, root)
    if manifest:
        shutil.copyfile(Path(out) / "manifest.json", manifest)
    # A no-op comes some time after the build it checks: its folders' directories have
    # settled (pipeline/build/integrity.py trusts a directory's signature only after
    # SETTLED_NS). The first no-op lists the build folders and records them; the next
    # stats their directories only.
    time.sleep(2.5)
    runs["noop"] = timed(cmd, env, root)
    runs["noop again"] = timed(cmd, env, root)
    doc = json.loads(table.read_text())
    doc["mapping_objects"][0]["comments"] = "edited"
    table.write_text(json.dumps(doc))
    runs["incremental"] = timed(cmd, env, root)
    said = runs["incremental"]["stdout"]
    rendered = next((line.strip() for line in said.splitlines() if line.strip().startswith("rendered:")), "")
    files = sum(1 for p in Path(out).resolve().rglob("*") if p.is_file())
    return runs, rendered, files


MODES = {"default": None, "serial": "1"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", default=os.environ.get("ATTACK_PIPELINE_MIRROR", str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "build.json"))
    ap.add_argument("--manifest", help="copy the first mode's warm build's manifest here (to compare two versions' outputs byte for byte)")
    ap.add_argument("--modes", default="default,serial", help="comma-separated: default (every core), serial (ATTACK_PIPELINE_JOBS=1)")
    ap.add_argument("--root", default=str(ROOT), help="the checkout whose code is timed (default: this one)")
    ap.add_argument("--cold-compiles", action="store_true", help="no modules compiled before the cold build: it compiles them itself")
    args = ap.parse_args()
    # Absolute: the overlay's links would otherwise point relative to the overlay itself
    # (`make bench` passes `../shared/data`), the mirror would look empty and the default
    # release would fall back to the newest listed one, which is not at hand.
    mirror = Path(args.mirror).resolve()
    if not mirror.is_dir():
        raise SystemExit(f"mirror {args.mirror!r} is not a directory")
    modes = [m for m in args.modes.split(",") if m]
    if not modes or any(m not in MODES for m in modes):
        raise SystemExit(f"--modes: a comma-separated list of {', '.join(MODES)}")
    result: dict = {"root": str(Path(args.root).resolve()), "cores": os.cpu_count(), "cold_compiles": args.cold_compiles, "modes": {}}
    for mode in modes:
        with tempfile.TemporaryDirectory() as tmp:
            manifest = args.manifest if mode == modes[0] else None
            runs, rendered, files = series(Path(args.root).resolve(), mirror, Path(tmp), MODES[mode], manifest, cold_compiles=args.cold_compiles)
        for run in runs.values():
            del run["stdout"]
        result["modes"][mode] = {"runs": runs, "incremental": rendered, "files": files}
    result["load_average_end"] = os.getloadavg()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    for mode, found in result["modes"].items():
        print(f"{mode}: default build, {found['files']} files; one table edited: {found['incremental']}")
        print(f"  {'':12} {'wall s':>8} {'CPU s':>8} {'RSS MB':>7} {'load':>6}")
        for name, run in found["runs"].items():
            print(f"  {name:12} {run['wall_s']:8.2f} {run['cpu_s']:8.2f} {run['peak_rss_mb']:7d} {run['load_average']:6.2f}")
        warm = found["runs"]["warm"]
        print("  warm stages, wall s: " + ", ".join(f"{k} {v:.2f}" for k, v in warm["stages_s"].items()))
        if warm["stages_cpu_s"]:
            print("  warm stages, CPU s (+ workers): " + ", ".join(
                f"{k} {v[0]:.2f}+{v[1]:.2f}" if isinstance(v, list) else f"{k} {v:.2f}" for k, v in warm["stages_cpu_s"].items()
            ))


if __name__ == "__main__":
    main()
