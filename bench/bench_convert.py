"""Sigma → queries: our conversion step against `sigma convert` (sigma-cli, the same
pySigma backends and processing pipelines) over the same rules, in one run.

    python bench/bench_convert.py [--mirror DIR] [--languages kusto,splunk] [--jobs 2]

For each language, as fresh processes:

1. ours over the whole Sigma corpus of the mirror (every `.yml` under detections/sigma),
   no cache: rules/s and failures by reason;
2. ours and `sigma convert -s` over the rules our step converted (sigma-cli stops at the
   first error it does not count as "unsupported", so the whole corpus would end early),
   rules/s of each and the ratio, and the queries compared with sigma-cli's output line
   by line (as multisets);
3. the build's extra time with a warm conversion cache: the conversion step of a build
   (`pipeline.convert.gather`) on the default sources, timed in-process after a first
   run filled the cache.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIPELINES = {"kusto": ("kusto", "microsoft_xdr"), "sentinel": ("kusto", "sentinel_asim"), "splunk": ("splunk", "splunk_windows"),
             "esql": ("esql", "ecs_windows"), "lucene": ("lucene", "ecs_windows")}

OURS = """
import json, sys, time
from pathlib import Path
from pipeline.convert.run import convert_rules
if __name__ == "__main__":
    language, listing, out, jobs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    files = Path(listing).read_text(encoding="utf-8").split("\\n")
    rules = {f: Path(f).read_text(encoding="utf-8").strip("\\n") for f in files if f}
    found = convert_rules(rules, [language], cache_dir=None, jobs=jobs)
    Path(out).write_text(json.dumps({"counts": found.counts()[language],
        "queries": {rid: list(c[0].queries) for rid, c in found.by_detection.items() if c[0].ok}}), encoding="utf-8")
"""


def timed(cmd: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd[:6])} … failed: {proc.stderr.decode(errors='replace')[-2000:]}")
    return wall


def copy_subset(files: list[str], corpus: Path, dest: Path) -> list[str]:
    """The rules at their paths under `dest` (sigma-cli names its outputs by the path
    below the folder it is given); returns the copies' paths."""
    out = []
    for f in files:
        target = dest / Path(f).relative_to(corpus)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, target)
        out.append(str(target))
    return out


def line_counts(texts) -> Counter:
    """Non-empty lines of queries, as a multiset: sigma-cli writes every query of a run
    into one output (its per-rule `-od` files hold queries before the backend's
    finalisation, without the Kusto table), so outputs are compared line by line."""
    return Counter(line for t in texts for line in t.split("\n") if line.strip())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mirror", default=os.environ.get("ATTACK_PIPELINE_MIRROR", str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--languages", default="kusto,splunk")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    corpus = Path(args.mirror).resolve() / "detections" / "sigma"
    files = sorted(str(p) for p in corpus.rglob("*.yml"))
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    py = sys.executable
    sigma = str(Path(py).with_name("sigma"))
    report: dict = {"rules": len(files), "languages": {}, "load_average": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="bench-convert-") as tmp:
        t = Path(tmp)
        script = t / "ours.py"
        script.write_text(OURS, encoding="utf-8")
        listing = t / "all.txt"
        listing.write_text("\n".join(files), encoding="utf-8")
        for language in args.languages.split(","):
            target, pipeline = PIPELINES[language]
            whole = timed([py, str(script), language, str(listing), str(t / f"{language}-all.json"), str(args.jobs)], env)
            result = json.loads((t / f"{language}-all.json").read_text(encoding="utf-8"))
            root = t / f"rules-{language}"
            ok = copy_subset(sorted(result["queries"]), corpus, root)
            subset = t / f"{language}-ok.txt"
            subset.write_text("\n".join(ok), encoding="utf-8")
            ours_t = timed([py, str(script), language, str(subset), str(t / f"{language}-ok.json"), str(args.jobs)], env)
            output = t / f"cli-{language}.txt"
            cli_t = timed([sigma, "convert", "-t", target, "-p", pipeline, "-s", "-o", str(output), str(root)], env)
            ours_q = json.loads((t / f"{language}-ok.json").read_text(encoding="utf-8"))["queries"]
            ours_lines = line_counts(q for f in ok for q in ours_q.get(f, []))
            cli_lines = line_counts([output.read_text(encoding="utf-8")])
            report["languages"][language] = {
                "whole_corpus": {"seconds": round(whole, 2), "rules_per_s": round(len(files) / whole, 1), **result["counts"]},
                "same_rules": {
                    "rules": len(ok),
                    "ours_seconds": round(ours_t, 2),
                    "ours_rules_per_s": round(len(ok) / ours_t, 1),
                    "sigma_cli_seconds": round(cli_t, 2),
                    "sigma_cli_rules_per_s": round(len(ok) / cli_t, 1),
                    "ratio": round(cli_t / ours_t, 2),
                    "query_lines": sum(ours_lines.values()),
                    "same_lines_as_sigma_cli": ours_lines == cli_lines,
                    "lines_only_ours": sum((ours_lines - cli_lines).values()),
                    "lines_only_sigma_cli": sum((cli_lines - ours_lines).values()),
                },
            }
            print(json.dumps({language: report["languages"][language]}, indent=1), flush=True)
    report["warm_cache_build_step_seconds"] = warm_step(args.mirror)
    print(json.dumps(report, indent=1))


def warm_step(mirror: str) -> dict:
    """The build's conversion step with the cache warm, in a fresh process: graph first
    (untimed), then `gather` twice on fresh graphs' workspaces — the second is the warm case."""
    code = """
import json, sys, time
from pathlib import Path
from pipeline.core.config import load_config
from pipeline.workspace import Workspace
from pipeline.convert.gather import gather
if __name__ == "__main__":
    out = []
    for _ in range(2):
        ws = Workspace.open(load_config(str(Path(sys.argv[1]) / "data" / "sources.toml")), Path(sys.argv[2]), None)
        g = ws.graph()
        ws.detections()
        start = time.perf_counter()
        found = gather(ws, g)
        out.append({"seconds": round(time.perf_counter() - start, 3), "converted": found.converted, "cached": found.cached})
    print(json.dumps(out))
"""
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory(prefix="bench-convert-warm-") as tmp:
        script = Path(tmp) / "warm.py"
        script.write_text(code, encoding="utf-8")
        proc = subprocess.run([sys.executable, str(script), str(ROOT), mirror], capture_output=True, text=True, env=env)
        if proc.returncode:
            raise SystemExit(proc.stderr[-2000:])
        runs = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"runs": runs, "warm_seconds": min(r["seconds"] for r in runs[1:])}


if __name__ == "__main__":
    main()
