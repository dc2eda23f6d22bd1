"""The whole Navigator layer set of the default build, from a built graph; then, in the
same run, one layer per ATT&CK group of Enterprise 18.1 against mitreattack-python's
`UsageLayerGenerator` (bench_layers.py).

    ATTACK_PIPELINE_MIRROR=../shared/data .venv/bin/python bench/bench_layerset.py [--repeat 3] [--groups N]

Target: every layer of the default build (coverage, gaps, groups, frameworks, families,
controls, categories, detections: well over a thousand) made, checked and written in
under 5 s. The graph is built first (timed on its own, with the parsed-file caches of
the sources file); each repeat renders into a fresh temporary directory exactly as
`build` does (`pipeline.render.navigator.render`). `--groups 0` compares every group
(the reference takes about a second a layer); `--groups -1` skips the comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

TARGET_S = 5.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", default=os.environ.get("ATTACK_PIPELINE_MIRROR", str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--groups", type=int, default=0, help="group comparison on the first N groups (0: all 187; -1: skip)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "layerset.json"))
    args = ap.parse_args()

    from pipeline.core.config import load_config
    from dataclasses import replace

    from pipeline.build.units import Units
    from pipeline.gather import gather
    from pipeline.render.navigator import render
    from pipeline.workspace import Workspace

    t0 = time.perf_counter()
    ws = Workspace.open(load_config(ROOT / "data" / "sources.toml"), Path(args.mirror), "18.1")
    g = ws.graph()
    graph_s = time.perf_counter() - t0
    ctx = gather(ws, g, renderers=("layers",), site_url="https://soc.example.org/attack/")

    times, written, size = [], [], 0
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            written = render(replace(ctx, units=Units()), Path(tmp))  # a unit runs once per build: a fresh record per run
            times.append(time.perf_counter() - t0)
            size = sum(p.stat().st_size for p in written)
            kinds = Counter(_kind(p.relative_to(Path(tmp) / "layers")) for p in written)
    best, median = min(times), statistics.median(times)
    result: dict = {
        "layers": len(written),
        "by_kind": dict(sorted(kinds.items())),
        "megabytes": round(size / 1e6, 1),
        "graph_s": round(graph_s, 2),
        "layer_set_s": {"runs": [round(t, 3) for t in times], "best": round(best, 3), "median": round(median, 3)},
        "target_s": TARGET_S,
        "within_target": median < TARGET_S,
        "load_average": os.getloadavg(),
    }
    print(f"graph of the default build: {graph_s:.1f} s")
    print(f"layer set: {len(written)} layers, {result['megabytes']} MB; median {median:.2f} s, best {best:.2f} s "
          f"(target {TARGET_S:.0f} s: {'met' if median < TARGET_S else 'NOT met'})")
    for kind, n in result["by_kind"].items():
        print(f"  {kind:<34} {n:>5}")

    if args.groups >= 0:
        from bench_layers import compare, summary

        result["groups"] = compare(args.mirror, args.groups)
        print(summary(result["groups"]))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


def _kind(rel: Path) -> str:
    """`enterprise/frameworks/nist_800_53/controls/AC-4.json` → `enterprise frameworks/*/controls`."""
    parts = rel.parts
    if parts[1] == "frameworks":
        return f"{parts[0]} frameworks/*/" + (parts[3] if len(parts) > 4 else "overview")
    return f"{parts[0]} " + ("/".join(parts[1:-1]) or parts[-1])


if __name__ == "__main__":
    main()
