"""What the renderer benchmarks share: the default build's workspace with its graph
built (untimed), and one timed render into a fresh temporary directory."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def arguments(doc: str) -> argparse.Namespace:
    """`--attack-version` (default 18.1) and `--repeat` (default 3), described by the script's first doc line."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--attack-version", default="18.1")
    parser.add_argument("--repeat", type=int, default=3)
    return parser.parse_args()


def default_workspace(attack_version: str):
    """(workspace, graph, seconds) of the default build, tables and catalogues read too
    (as `build` does before any renderer runs)."""
    from pipeline.core.config import load_config
    from pipeline.fetch import resolve_mirror_dir
    from pipeline.workspace import Workspace

    ws = Workspace.open(load_config(ROOT / "data" / "sources.toml"), resolve_mirror_dir(None), attack_version)
    t0 = time.perf_counter()
    g = ws.graph()
    ws.controls()
    return ws, g, time.perf_counter() - t0


def render_once(render: Callable, ctx, prefix: str) -> tuple[float, float, int, int]:
    """(wall s, CPU s, files, bytes) of one render into a fresh directory.

    Each run gets its own record of render units, as each build does: a unit may run
    once per build, and one record shared by the repeats would refuse the second run.
    """
    from dataclasses import replace

    from pipeline.build.units import Units

    ctx = replace(ctx, units=Units())
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        t0, c0 = time.perf_counter(), time.process_time()
        files = render(ctx, Path(tmp))
        t1, c1 = time.perf_counter(), time.process_time()
        size = sum(p.stat().st_size for p in files)
    return t1 - t0, c1 - c0, len(files), size
