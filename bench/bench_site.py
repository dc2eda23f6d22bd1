"""The docs site of the default build: `attack-pipeline site`, timed and profiled.

    python bench/bench_site.py [--mirror DIR] [--no-profile]

Builds the default build once (every enabled source, ATT&CK 18.1; not timed), then
makes its site twice: run 1 timed (wall, CPU, pages per second, search index size,
site size), run 2 under cProfile to say where mkdocs spends its time — Markdown
conversion (`_populate_page`), theme rendering (`_build_page`: the Jinja2 templates,
the navigation they draw and the search plugin's per-page indexing), navigation,
artifact copying, search index writing. Run 2 also checks reproducibility: its tree
must equal run 1's byte for byte. The target is under 3 minutes on the 2-core
development machine; mkdocs has no reference tool to compare with.
Each run is a full ~10,000-page site: do not loop this on a shared machine.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Where the time goes: (label, function names whose cumulative time is that part).
PARTS = [
    ("markdown conversion (Page.render)", ("render",), "mkdocs/structure/pages.py"),
    ("page reading + markdown (_populate_page)", ("_populate_page",), "mkdocs/commands/build.py"),
    ("theme rendering (_build_page: templates, nav, search entries)", ("_build_page",), "mkdocs/commands/build.py"),
    ("  of which search indexing per page (on_page_context)", ("add_entry_from_context",), "material/plugins/search/plugin.py"),
    ("  of which Jinja2 page templates (Template.render)", ("render",), "jinja2/environment.py"),
    ("navigation (get_navigation)", ("get_navigation",), "mkdocs/structure/nav.py"),
    ("files and artifact copying (copy_file)", ("copy_file",), ""),
    ("search index written (generate_search_index)", ("generate_search_index",), "material/plugins/search/plugin.py"),
    ("link resolution and checks (path_to_url)", ("path_to_url",), "mkdocs/structure/pages.py"),
]


def _tree(folder: Path) -> dict[str, str]:
    folder = Path(os.path.realpath(folder))
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def _parts(prof: cProfile.Profile) -> dict[str, float]:
    stats = pstats.Stats(prof).stats  # (file, line, name) -> (cc, nc, tt, ct, callers)
    out = {}
    for label, names, where in PARTS:
        out[label] = round(sum(v[3] for (f, _l, n), v in stats.items() if n in names and where in f), 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", default=os.environ.get("ATTACK_PIPELINE_MIRROR", str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--no-profile", action="store_true", help="one timed run only")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "site.json"))
    args = ap.parse_args()

    from pipeline.build import build
    from pipeline.config import load_config
    from pipeline.site.make import make_site
    from pipeline.workspace import Workspace

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-site-", dir=Path(args.out).parent) as tmp:
        tmp = Path(tmp)
        os.environ.setdefault("ATTACK_PIPELINE_CACHE", str(tmp / "cache"))
        t0 = time.perf_counter()
        ws = Workspace.open(load_config(ROOT / "data" / "sources.toml"), Path(args.mirror))
        build(ws, tmp / "outputs")
        build_s = time.perf_counter() - t0

        c0 = time.process_time()
        r = make_site(tmp / "outputs", tmp / "site1", "https://soc.example.org/attack/")
        cpu = time.process_time() - c0
        files = _tree(r.site)
        size = sum((r.folder / p).stat().st_size for p in files)
        t1046 = (r.folder / "techniques" / "T1046" / "index.html").stat().st_size
        result = {
            "build_seconds": round(build_s, 1),
            "site_seconds": round(r.seconds, 1),
            "site_cpu_seconds": round(cpu, 1),
            "markdown_pages": r.pages,
            "pages_per_second": round(r.pages / r.seconds, 1),
            "search_index_bytes": r.search_index_bytes,
            "site_files": len(files),
            "site_bytes": size,
            "t1046_page_bytes": t1046,
            "target_seconds": 180,
            "meets_target": r.seconds < 180,
        }
        if not args.no_profile:
            prof = cProfile.Profile()
            p0 = time.perf_counter()
            prof.enable()
            r2 = make_site(tmp / "outputs", tmp / "site2", "https://soc.example.org/attack/")
            prof.disable()
            result["profiled_site_seconds"] = round(time.perf_counter() - p0, 1)
            result["profile_cumulative_seconds"] = _parts(prof)
            result["reproducible"] = _tree(r2.site) == files
            top = pstats.Stats(prof).sort_stats("tottime")
            result["top_self_time"] = [
                {"function": f"{Path(f).parent.name}/{Path(f).name}:{n}", "seconds": round(v[2], 2)}
                for (f, _l, n), v in sorted(top.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:12]
            ]
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
