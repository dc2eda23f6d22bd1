"""The docs site of the default build: `attack-pipeline site`, its generator candidates
side by side, timed and profiled.

    python bench/bench_site.py [--mirror DIR] [--build DIR] [--rounds N] [--no-profile]
                               [--only CANDIDATE ...] [--no-page-cache]

Candidates, each making the site of the same build (the same 10,378 pages), run
interleaved round by round (A B A B …) so that a shared machine's load falls on all of
them alike; the result gives each one's wall and CPU seconds, pages per second, and
its ratio to mkdocs-material as configured before (`material-full`):

- `material-full`: mkdocs-material, mkdocs' own serial build, with the Markdown
  extensions the site was first made with (`REFERENCE_EXTENSIONS`);
- `material-lean`: the same theme and hooks with the extensions the pages use
  (attr_list, def_list, abbr, footnotes and md_in_html find nothing to do, but each
  costs a pass over every page), converted with one Markdown instance for every page,
  cached Pygments lexers and no Pygments stylesheet per code block
  (`pipeline/site/convert.py`), indexed for search without parsing what the index
  leaves out (`pipeline/site/search.py`), in one process; its site must be
  byte-identical to `material-full`'s, or it is not a candidate;
- `material-2workers`: `material-lean` with the two page loops (converting, then
  writing the pages) spread over two forked worker processes (`pipeline/site/parallel.py`,
  what `attack-pipeline site` does on a machine with two cores or more); its site must
  be byte-identical to `material-full`'s;
- `zensical`: the successor generator by the same authors (0.0.73, a dev dependency:
  the newer 0.1 series needs a theme package, zensical-ui, that no package index serves),
  on the same pages with the same theme features, navigation and Markdown extensions.
  It runs no mkdocs hook, so its site is not the site (no artifacts, no Navigator
  links, broken links to the build's reports left as they are, no search: see
  `_zensical`); it is timed for what it would take, not chosen.

The search index is the same for the material candidates (control pages by title, no
detection page); the optimize and privacy plugins of material are not used by any candidate (offline site,
no external assets to fetch).

The page cache (`pipeline/site/pagecache.py`, what `site` does): the site made four
times at one path with two workers — with an empty cache, again from the same build,
after a build with one mapping row's notes edited (AWS, through tests/mirror_overlay.py;
that build is not timed), and for another address — with the pages each converted and
wrote, and each site compared with one made without the cache (`--no-page-cache`: none
of this; `--only material-2workers` times that candidate alone, with `material-full`
made once as the reference).

Builds the default build once (every enabled source, ATT&CK 18.1; not timed), then
makes its site twice: run 1 timed (wall, CPU, pages per second, search index size,
site size), run 2 under cProfile to say where mkdocs spends its time — Markdown
conversion (`_populate_page`), theme rendering (`write_page`, mkdocs' `_build_page`: the Jinja2 templates,
the navigation they draw and the search plugin's per-page indexing), navigation,
artifact copying, search index writing. Run 2 also checks reproducibility: its tree
must equal run 1's byte for byte (the profiled run is serial: cProfile sees one
process). The target is the whole site in under 20 s on the idle 2-core development
machine; mkdocs has no reference tool to compare with.
Each run is a full ~10,000-page site: do not loop this on a shared machine.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Where the time goes: (label, function names whose cumulative time is that part).
PARTS = [
    ("markdown conversion (Converter.render)", ("render",), "pipeline/site/convert.py"),
    ("page reading + markdown (Converter.populate)", ("populate",), "pipeline/site/convert.py"),
    ("theme rendering (write_page: templates, nav, search entries)", ("write_page",), "pipeline/site/parallel.py"),
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


def _cpu() -> float:
    """CPU seconds of this process and of its waited-for children (the forked workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


ZENSICAL = "zensical"


def _zensical_exe() -> Path | None:
    """The `zensical` command of this environment (a dev dependency), if installed."""
    exe = Path(sys.executable).with_name("zensical")
    return exe if exe.is_file() else None


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _zensical(outputs: Path, work: Path, site_url: str, extensions: list) -> dict:
    """One Zensical build of the same pages: wall and CPU seconds, HTML pages written.

    The same configuration as the site's (theme features, navigation, Markdown
    extensions and their highlighter), less what Zensical cannot do here: it calls no
    mkdocs hook (the site's hooks copy the build's other artifacts into the site, rewrite
    the links to them, date and escape the pages and choose what search indexes), so
    `strict` is off (those links are left broken) and its search is off (indexing every
    detection page, which the hooks keep out, it aborts at the end: "exceeds the search
    index limit ... maximum 8192"). Its cache lives in the project folder, new for each
    run: a cold build, like the others'.
    """
    from pipeline.site.config import mkdocs_config
    from pipeline.site.nav import read_nav
    from pipeline.site.source import reading

    project = work / "project"
    project.mkdir(parents=True)
    with reading(outputs) as build:
        cfg = mkdocs_config(build, read_nav(build.docs), project / "site", site_url, "", extensions)
        # Zensical wants the docs inside its project folder, a symbolic link resolved
        # (it refuses one that leads outside): hard links of the pages, copies where the
        # file system has none; not timed.
        shutil.copytree(build.docs, project / "docs", copy_function=_link_or_copy)
        cfg.update(docs_dir="docs", site_dir="site", strict=False, plugins={"search": {"enabled": False}})
        cfg.pop("hooks")
        config = project / "mkdocs.yml"
        config.write_text(yaml.safe_dump(cfg, sort_keys=True, allow_unicode=True, width=1000), encoding="utf-8")
        c0, w0 = _cpu(), time.perf_counter()
        done = subprocess.run([str(_zensical_exe()), "build", "-f", str(config)], cwd=project, capture_output=True, text=True)
        seconds, cpu = time.perf_counter() - w0, _cpu() - c0
    html = sum(1 for _ in (project / "site").rglob("index.html"))
    return {
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "exit_code": done.returncode,
        "html_pages": html,
        "last_line": ((done.stdout + done.stderr).strip().splitlines() or [""])[-1][:200],
    }


AWS = "mappings/mappings-explorer/aws/attack-16.1/aws-12.12.2024/enterprise/aws-12.12.2024_attack-16.1-enterprise.json"


def _edited_build(mirror: Path, tmp: Path) -> Path:
    """The default build again, after the notes of one row of one mapping table (AWS)
    were edited: a few pages show that row."""
    from pipeline.build import build
    from pipeline.core.config import load_config
    from pipeline.workspace import Workspace

    if str(ROOT / "tests") not in sys.path:
        sys.path.insert(0, str(ROOT / "tests"))
    from mirror_overlay import overlay

    table = overlay(mirror, tmp / "mirror-edited", AWS)
    doc = json.loads(table.read_text())
    doc["mapping_objects"][0]["comments"] = "Edited: the analysts reviewed this mapping."
    table.write_text(json.dumps(doc))
    ws = Workspace.open(load_config(ROOT / "data" / "sources.toml"), tmp / "mirror-edited")
    build(ws, tmp / "outputs-edited")
    return tmp / "outputs-edited"


def _release_build(mirror: Path, tmp: Path) -> Path:
    """The default build of the next ATT&CK release: the mirror with an Enterprise 19.1
    in v19's shape derived from the real 18.1 (tests/v19_shape.py: a tactic renamed, one
    added, a technique family moved to new ids), which the build takes as the newest."""
    from pipeline.build import build
    from pipeline.core.config import load_config
    from pipeline.workspace import Workspace

    if str(ROOT / "tests") not in sys.path:
        sys.path.insert(0, str(ROOT / "tests"))
    import v19_shape

    overlay = tmp / "mirror-v19"
    (overlay / "attack").mkdir(parents=True)
    for child in mirror.iterdir():
        if child.name != "attack":
            os.symlink(child, overlay / child.name)
    for child in (mirror / "attack").iterdir():
        os.symlink(child, overlay / "attack" / child.name)
    v19_shape.derive(mirror / "attack" / "enterprise-attack-18.1.json.gz", overlay / "attack" / "enterprise-attack-19.1.json")
    ws = Workspace.open(load_config(ROOT / "data" / "sources.toml"), overlay)
    build(ws, tmp / "outputs-v19")
    return tmp / "outputs-v19"


def _page_cache_runs(outputs: Path, mirror: Path, tmp: Path, reference: dict[str, str]) -> dict:
    """`attack-pipeline site` (two workers) made five times at one path: with an empty
    page cache; again on the same build (every page from the cache); after a build with
    one mapping row's notes edited (the pages that show it converted again); for another
    address (`site --site-url`: pages converted and written again only where their
    Markdown names it, the others' canonical links put in from the cache); for the build
    of the next ATT&CK release (release day: a page converted again where its Markdown
    changed, written again where that or what it prints of the navigation changed, the
    new release number put into the others from the cache). Each site must equal the one
    made without a cache."""
    from pipeline.site.config import MARKDOWN_EXTENSIONS
    from pipeline.site.make import make_site
    from pipeline.site.pagecache import folder_for

    site = tmp / "cached"
    edited = _edited_build(mirror, tmp)
    release = _release_build(mirror, tmp)
    here, there = "https://soc.example.org/attack/", "https://intranet.example.net/coverage/"
    out: dict = {}
    runs = [
        ("empty_cache", outputs, here),
        ("again", outputs, here),
        ("one_row_edited", edited, here),
        ("another_address", edited, there),
        ("new_release", release, there),
    ]
    for name, build_out, url in runs:
        c0 = _cpu()
        load0 = os.getloadavg()[0]
        r = make_site(build_out, site, url, markdown_extensions=list(MARKDOWN_EXTENSIONS), workers=2)
        out[name] = {
            "seconds": round(r.seconds, 1),
            "cpu_seconds": round(_cpu() - c0, 1),
            "pages_per_second": round(r.pages / r.seconds, 1),
            "pages_converted": r.converted,
            "pages_written": r.written,
            "load_before": round(load0, 1),
        }
        if build_out == outputs:
            out[name]["identical_to_material_full"] = _tree(r.site) == reference
        else:
            fresh = make_site(build_out, tmp / f"fresh-{name}", url, markdown_extensions=list(MARKDOWN_EXTENSIONS), workers=2)
            out[name]["identical_to_no_cache"] = _tree(fresh.site) == _tree(r.site)
        print("page cache", name, out[name], flush=True)
    cache = folder_for(site)
    out["cache_bytes"] = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())
    out["cache_files"] = sum(1 for p in cache.rglob("*") if p.is_file())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", default=os.environ.get("ATTACK_PIPELINE_MIRROR", str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--no-profile", action="store_true", help="no profiled run")
    ap.add_argument("--build", help="an existing build of the default sources to use (default: build one)")
    ap.add_argument("--rounds", type=int, default=1, help="interleaved rounds of the candidates")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "site.json"))
    ap.add_argument("--only", action="append", help="time only this candidate (repeatable; material-full is always made once, the reference)")
    ap.add_argument("--no-page-cache", action="store_true", help="no runs of the page cache")
    args = ap.parse_args()

    from pipeline.build import build
    from pipeline.core.config import load_config
    from pipeline.site.config import MARKDOWN_EXTENSIONS, REFERENCE_EXTENSIONS
    from pipeline.site.make import make_site
    from pipeline.workspace import Workspace

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    # name: (Markdown extensions, worker processes)
    candidates = {
        "material-full": (list(REFERENCE_EXTENSIONS), 0),
        "material-lean": (list(MARKDOWN_EXTENSIONS), 1),
        "material-2workers": (list(MARKDOWN_EXTENSIONS), 2),
    }
    with tempfile.TemporaryDirectory(prefix="bench-site-", dir=Path(args.out).parent) as tmp:
        tmp = Path(tmp)
        os.environ.setdefault("ATTACK_PIPELINE_CACHE", str(tmp / "cache"))
        t0 = time.perf_counter()
        if args.build:
            outputs = Path(args.build)
        else:
            ws = Workspace.open(load_config(ROOT / "data" / "sources.toml"), Path(args.mirror))
            outputs = tmp / "outputs"
            build(ws, outputs)
        build_s = time.perf_counter() - t0

        runs: dict[str, list[dict]] = {k: [] for k in candidates}
        trees: dict[str, dict[str, str]] = {}
        zensical_runs: list[dict] = []
        for rnd in range(args.rounds):
            for name, (extensions, workers) in candidates.items():
                if args.only and name not in args.only and (name != "material-full" or rnd > 0):
                    continue
                c0 = _cpu()
                load0 = os.getloadavg()[0]
                r = make_site(outputs, tmp / f"site-{name}-{rnd}", "https://soc.example.org/attack/", markdown_extensions=extensions, workers=workers)
                cpu = _cpu() - c0
                runs[name].append({"seconds": round(r.seconds, 1), "cpu_seconds": round(cpu, 1), "pages_per_second": round(r.pages / r.seconds, 1), "load_before": round(load0, 1), "load_after": round(os.getloadavg()[0], 1)})
                print(name, rnd, runs[name][-1], flush=True)
                if rnd == 0:
                    trees[name] = _tree(r.site)
                    last = r
            if _zensical_exe() is not None and (not args.only or ZENSICAL in args.only):
                load0 = os.getloadavg()[0]
                z = _zensical(outputs, tmp / f"zensical-{rnd}", "https://soc.example.org/attack/", list(MARKDOWN_EXTENSIONS))
                zensical_runs.append(z | {"load_before": round(load0, 1), "load_after": round(os.getloadavg()[0], 1)})
                print(ZENSICAL, rnd, zensical_runs[-1], flush=True)
        files = trees["material-full"]
        r = last
        size = sum((r.folder / p).stat().st_size for p in files)
        t1046 = (r.folder / "techniques" / "T1046" / "index.html").stat().st_size
        summary = {}
        for name, rs in runs.items():
            if not rs:
                continue
            best = min(x["seconds"] for x in rs)
            summary[name] = {
                "runs": rs,
                "best_seconds": best,
                "pages_per_second": round(r.pages / best, 1),
                "ratio_to_material_full": round(best / min(x["seconds"] for x in runs["material-full"]), 3),
                "identical_to_material_full": trees[name] == files,
            }
        full_best = min(x["seconds"] for x in runs["material-full"])
        if zensical_runs:
            best = min(x["seconds"] for x in zensical_runs)
            summary[ZENSICAL] = {
                "runs": zensical_runs,
                "version": subprocess.run([str(_zensical_exe()), "--version"], capture_output=True, text=True).stdout.strip(),
                "best_seconds": best,
                "pages_per_second": round(r.pages / best, 1),
                "ratio_to_material_full": round(best / full_best, 3),
                "identical_to_material_full": False,
                "not_a_candidate_because": "it runs no mkdocs hook: no artifacts or Navigator links in the site, "
                "pages neither dated nor escaped by the site's rules, no search (see _zensical)",
            }
        else:
            summary[ZENSICAL] = {"available": False, "reason": "zensical is not installed in this environment (a dev dependency)"}
        eligible = [k for k in summary if k in candidates and summary[k]["identical_to_material_full"]]
        chosen = min(eligible, key=lambda k: summary[k]["best_seconds"])
        result = {
            "build_seconds": round(build_s, 1),
            "markdown_pages": r.pages,
            "candidates": summary,
            "chosen": chosen,
            "chosen_seconds": summary[chosen]["best_seconds"],
            "chosen_pages_per_second": summary[chosen]["pages_per_second"],
            "search_index_bytes": r.search_index_bytes,
            "site_files": len(files),
            "site_bytes": size,
            "t1046_page_bytes": t1046,
            "target_seconds_idle": 20,
            "load_average_at_end": os.getloadavg()[0],
        }
        if not args.no_page_cache:
            result["page_cache"] = _page_cache_runs(outputs, Path(args.mirror), tmp, files)
        if not args.no_profile:
            prof = cProfile.Profile()
            p0 = time.perf_counter()
            prof.enable()
            r2 = make_site(outputs, tmp / "site2", "https://soc.example.org/attack/", markdown_extensions=candidates[chosen][0], workers=1)
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
