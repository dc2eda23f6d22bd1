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

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGET_S = 5.0


def render_once(ctx) -> tuple[float, float, int, int]:
    """(wall s, CPU s, files, bytes) of one render into a fresh directory."""
    from pipeline.render.tables import render

    with tempfile.TemporaryDirectory(prefix="bench-tables-") as tmp:
        t0, c0 = time.perf_counter(), time.process_time()
        files = render(ctx, Path(tmp))
        t1, c1 = time.perf_counter(), time.process_time()
        size = sum(p.stat().st_size for p in files)
    return t1 - t0, c1 - c0, len(files), size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attack-version", default="18.1")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from pipeline.config import load_config
    from pipeline.fetch import resolve_mirror_dir
    from pipeline.render import RenderContext
    from pipeline.workspace import Workspace

    ws = Workspace.open(load_config(ROOT / "data" / "sources.toml"), resolve_mirror_dir(None), args.attack_version)
    t0 = time.perf_counter()
    g = ws.graph()
    controls = ws.controls()
    rows = sum(len(rt.remapped) for rt in controls.tables)
    print(f"graph of the default build (not timed): {time.perf_counter() - t0:.1f} s, {len(controls.tables)} tables, {rows} mappings")
    ctx = RenderContext(graph=g, workspace=ws)
    runs = [render_once(ctx) for _ in range(max(1, args.repeat))]
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
