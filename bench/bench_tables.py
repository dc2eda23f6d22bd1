"""Benchmark: write every framework table and the coverage workbook of the default build
(the `tables` renderer alone).

Budget: < 5 s for all framework tables of the default build (xlsx, csv, unified JSON
and YAML of every enabled framework version and domain, plus `coverage.xlsx`), an
absolute target on the 2-core development machine. The graph and the reconciled tables
are built first and not timed; each run renders into a fresh temporary directory with
the same workspace, as `build` does. No reference tool: Mappings Explorer publishes its
files, it does not generate them from a graph.

    ATTACK_PIPELINE_MIRROR=/path/to/mirror python bench/bench_tables.py [--attack-version 18.1] [--repeat 3]
"""

from __future__ import annotations

import statistics
import sys

from render_timing import arguments, default_workspace, render_once

BUDGET_S = 5.0


def main() -> int:
    args = arguments(__doc__)

    from pipeline.gather import gather
    from pipeline.render.tables import render

    ws, g, seconds = default_workspace(args.attack_version)
    tables = ws.controls().tables
    rows = sum(len(rt.remapped) for rt in tables)
    print(f"graph of the default build (not timed): {seconds:.1f} s, {len(tables)} tables, {rows} mappings")
    ctx = gather(ws, g, renderers=("tables",))
    runs = [render_once(render, ctx, "bench-tables-") for _ in range(max(1, args.repeat))]
    walls = [r[0] for r in runs]
    _, cpu, files, size = min(runs)
    print(
        f"tables: median {statistics.median(walls):.2f} s, best {min(walls):.2f} s (CPU {cpu:.2f} s) "
        f"of {len(runs)} runs; {files} files, {size / 1e6:.1f} MB"
    )
    print(f"budget: {BUDGET_S:.1f} s")
    return 0 if min(walls) < BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
