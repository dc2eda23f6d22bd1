"""Benchmark: write every STIX bundle of the default build (the `stix` renderer alone).

Budget: < 3 s for all bundles of the default build, techniques referenced by id (an
absolute target on the 2-core development machine). The graph is built first and not
timed; each run renders into a fresh temporary directory, with the same workspace (as
`build` does: tables and catalogues are read once). `--include-attack` is timed too,
reported, and not held to the budget: it reads the three ATT&CK releases again.
No reference tool: no other tool writes these bundles.

    ATTACK_PIPELINE_MIRROR=/path/to/mirror python bench/bench_stix.py [--attack-version 18.1] [--repeat 3]
"""

from __future__ import annotations

import statistics
import sys

from render_timing import arguments, default_workspace, render_once as timed

BUDGET_S = 3.0


def render_once(ctx) -> tuple[float, float, int, int]:
    """(wall s, CPU s, files, bytes) of one render into a fresh directory."""
    from pipeline.render.stix import render

    return timed(render, ctx, "bench-stix-")


def main() -> int:
    args = arguments(__doc__)

    from pipeline.gather import gather
    from pipeline.render.stix import INCLUDE_ATTACK

    ws, g, seconds = default_workspace(args.attack_version)
    print(f"graph of the default build (not timed): {seconds:.1f} s, {g.number_of_nodes()} nodes, {g.number_of_edges()} edges")
    results = {}
    for include in (False, True):
        ctx = gather(ws, g, renderers=("stix",), options={INCLUDE_ATTACK: include})
        runs = [render_once(ctx) for _ in range(max(1, args.repeat))]
        walls = [r[0] for r in runs]
        results[include] = min(walls)
        _, cpu, files, size = min(runs)
        label = "with --include-attack" if include else "techniques by id"
        print(
            f"stix bundles, {label}: median {statistics.median(walls):.2f} s, best {min(walls):.2f} s "
            f"(CPU {cpu:.2f} s) of {len(runs)} runs; {files} files, {size / 1e6:.1f} MB"
        )
    print(f"budget: {BUDGET_S:.1f} s for the bundles by id")
    return 0 if results[False] < BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
