"""Every Markdown page of the default build: the `docs` renderer alone, from a built graph.

    python bench/bench_pages.py [--mirror DIR] [--runs N]

The graph of the default build (ATT&CK 18.1, every enabled mapping table and detection
corpus) is loaded once and not timed; each run renders the whole `docs/` tree into a
fresh temporary directory: reading ATT&CK's citations, planning every page's path,
rendering and writing them. The target is under 5 s on the 2-core development machine.
There is no reference tool that writes such pages; the number is absolute.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", default=os.environ.get("ATTACK_PIPELINE_MIRROR", str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "pages.json"))
    args = ap.parse_args()

    from pipeline.core.config import load_config
    from dataclasses import replace

    from pipeline.build.units import Units
    from pipeline.gather import gather
    from pipeline.render.pages import render
    from pipeline.workspace import Workspace

    t0 = time.perf_counter()
    ws = Workspace.open(load_config(ROOT / "data" / "sources.toml"), Path(args.mirror))
    g = ws.graph()
    load_s = time.perf_counter() - t0
    ctx = gather(ws, g, renderers=("docs",))

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    walls, cpus = [], []
    pages = size = 0
    for _ in range(args.runs):
        # Beside the repository, as `build` writes beside its output directory.
        with tempfile.TemporaryDirectory(prefix="bench-pages-", dir=Path(args.out).parent) as tmp:
            w0, c0 = time.perf_counter(), time.process_time()
            written = render(replace(ctx, units=Units()), Path(tmp))  # a unit runs once per build: a fresh record per run
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
            pages = len(written)
            size = sum(p.stat().st_size for p in written)
    wall = statistics.median(walls)
    kinds: dict[str, int] = {}
    for p in written:
        top = p.relative_to(Path(tmp) / "docs").parts[0].removesuffix(".md")
        kinds[top] = kinds.get(top, 0) + 1
    result = {
        "pages": pages,
        "pages_by_folder": kinds,
        "megabytes": round(size / 1e6, 1),
        "render_wall_s_median": round(wall, 3),
        "render_wall_s": [round(x, 3) for x in walls],
        "render_cpu_s_main_process": [round(x, 3) for x in cpus],
        "pages_per_s": round(pages / wall),
        "graph_load_s": round(load_s, 2),
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{pages} pages ({result['megabytes']} MB): {', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}\n"
        f"  docs renderer: {wall:.2f} s median of {len(walls)} ({', '.join(f'{x:.2f}' for x in walls)}), {result['pages_per_s']} pages/s\n"
        f"  (graph of the default build loaded in {load_s:.1f} s, not counted; load average {result['load_average'][0]:.1f})"
    )


if __name__ == "__main__":
    main()
