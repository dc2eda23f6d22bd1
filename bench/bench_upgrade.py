"""`attack-pipeline upgrade`: every layer of a 12.1 build carried to 18.1.

The Enterprise layer set of a build at ATT&CK 12.1 is rendered first (untimed, into a
temporary folder, exactly as `build` renders it); then `attack-pipeline upgrade LAYERS
--to 18.1` runs as a fresh process, interleaved with the reference, and the wall time
(median of the runs) gives layers per second.

Reference: mitreattack-python's navlayers (`Layer.from_file` then `to_file`) is the only
layer "upgrade" it offers, and it upgrades the *layer format* alone (v3 fields to v4, the
`versions` object): it neither follows revoked ids nor renames, re-tags or merges
entries, so the ratio compares reading, checking and writing a layer set, with our
content upgrade on top. The script says so in its output.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

REFERENCE = r"""
import contextlib, io, sys
from pathlib import Path
from mitreattack.navlayers import Layer
src, dst = Path(sys.argv[1]), Path(sys.argv[2])
for path in sorted(src.rglob("*.json")):
    out = dst / path.relative_to(src)
    out.parent.mkdir(parents=True, exist_ok=True)
    layer = Layer()
    with contextlib.redirect_stdout(io.StringIO()):  # it prints a line per metadata divider
        layer.from_file(str(path))
        layer.to_file(str(out))
"""


def _run(cmd: list[str], env: dict) -> tuple[float, float]:
    """(wall, CPU) seconds of one fresh process; CPU (user + system) stays meaningful on a
    shared machine where the wall time mostly measures the other work."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # 1: entries that need a decision (none in a build's layers)
        sys.exit(f"{cmd[0]} failed: {done.stderr.strip()}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", default=os.environ.get("ATTACK_PIPELINE_MIRROR", str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-reference", action="store_true", help="skip mitreattack-python")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "upgrade.json"))
    args = ap.parse_args()

    from pipeline.core.config import load_config
    from pipeline.gather import gather
    from pipeline.render.navigator import render
    from pipeline.workspace import Workspace

    env = dict(os.environ, ATTACK_PIPELINE_MIRROR=args.mirror, ATTACK_PIPELINE_OFFLINE="1", PYTHONPATH=str(ROOT))
    exe = str(Path(sys.executable).with_name("attack-pipeline"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ws = Workspace.open(load_config(ROOT / "data" / "sources.toml"), Path(args.mirror), "12.1", ("enterprise",))
        render(gather(ws, renderers=("layers",)), tmp / "b12")  # untimed
        layers = sorted((tmp / "b12" / "layers").rglob("*.json"))
        entries = sum(len(json.loads(p.read_text())["techniques"]) for p in layers)
        ours, theirs = [], []
        for i in range(args.repeat):
            ours.append(_run([exe, "upgrade", str(tmp / "b12" / "layers"), "--to", "18.1", "--out", str(tmp / f"up{i}")], env))
            if not args.no_reference:
                theirs.append(_run([sys.executable, "-c", REFERENCE, str(tmp / "b12" / "layers"), str(tmp / f"ref{i}")], env))
    ours_s = statistics.median(w for w, _ in ours)
    ours_cpu = statistics.median(c for _, c in ours)
    result = {
        "layers": len(layers),
        "entries": entries,
        "upgrade_s": {"runs": [round(w, 2) for w, _ in ours], "median": round(ours_s, 2), "cpu_median": round(ours_cpu, 2)},
        "layers_per_s": round(len(layers) / ours_s, 1),
        "layers_per_cpu_s": round(len(layers) / ours_cpu, 1),
        "load_average": os.getloadavg(),
    }
    print(f"{len(layers)} layers of a 12.1 build ({entries} entries) upgraded to 18.1:")
    print(f"  attack-pipeline upgrade         median {ours_s:.2f} s wall, {ours_cpu:.2f} s CPU "
          f"({len(layers) / ours_s:.0f} layers/s wall, {len(layers) / ours_cpu:.0f} per CPU second; whole process)")
    print("  mitreattack-python offers no ATT&CK-content upgrade of a layer (no revoked-id, rename, tactic or")
    print("  merge handling); its navlayers Layer only upgrades the layer format on load and save:")
    if theirs:
        theirs_s = statistics.median(w for w, _ in theirs)
        theirs_cpu = statistics.median(c for _, c in theirs)
        result["reference"] = {"what": "mitreattack.navlayers Layer.from_file + to_file (format only)",
                               "runs": [round(w, 2) for w, _ in theirs], "median": round(theirs_s, 2), "cpu_median": round(theirs_cpu, 2)}
        result["ratio_wall"] = round(theirs_s / ours_s, 2)
        result["ratio_cpu"] = round(theirs_cpu / ours_cpu, 2)
        print(f"  navlayers load + save (format)  median {theirs_s:.2f} s wall, {theirs_cpu:.2f} s CPU "
              f"({len(layers) / theirs_s:.0f} layers/s); ratio {theirs_s / ours_s:.2f}x wall, {theirs_cpu / ours_cpu:.2f}x CPU")
    print(f"  load average {os.getloadavg()[0]:.1f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
