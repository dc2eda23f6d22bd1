"""Whole-process time of `attack-pipeline excel --domain enterprise` on one ATT&CK
release, against mitreattack-python's attackToExcel on the same file, in one run.

    python bench/bench_excel.py [--mirror DIR] [--version 18.1] [--runs 3] [--ref-runs 1]

Both sides run as fresh processes (start-up and imports count) and write every workbook
(the release workbook and the per-type ones). attackToExcel needs a plain JSON file and
an explicit version (it does not recognise the mirror's files), so the `.json.gz` is
decompressed once beforehand (not timed). Afterwards the two release workbooks are
compared sheet by sheet (names and row counts), to show the same tables were written.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_stats import ROOT, alternately, peak_rss, run  # noqa: E402

REFERENCE = """
import sys
from mitreattack.attackToExcel import attackToExcel
attackToExcel.export(domain="enterprise-attack", version="v" + sys.argv[2], output_dir=sys.argv[3],
                     stix_file=sys.argv[1], overwrite=True)
"""


def sheet_rows(path: Path) -> dict[str, int]:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    return {ws.title: sum(1 for _ in ws.iter_rows()) - 1 for ws in wb.worksheets}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", default=os.environ.get("ATTACK_PIPELINE_MIRROR", str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--version", default="18.1")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ref-runs", type=int, default=1, help="attackToExcel takes over two minutes a run")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "excel.json"))
    args = ap.parse_args()

    gz = Path(args.mirror) / "attack" / f"enterprise-attack-{args.version}.json.gz"
    tool = shutil.which("attack-pipeline", path=str(Path(sys.executable).parent)) or "attack-pipeline"
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / f"enterprise-attack-{args.version}.json"
        plain.write_bytes(gzip.decompress(gz.read_bytes()))
        ours_dir, ref_dir = Path(tmp) / "ours", Path(tmp) / "ref"
        ours = [tool, "excel", "--mirror", args.mirror, "--attack-version", args.version, "--domain", "enterprise",
                "--out", str(ours_dir)]  # fmt: skip
        ref = [sys.executable, "-c", REFERENCE, str(plain), args.version, str(ref_dir)]
        run(ours)  # warm the page cache
        ours_t, ref_t = alternately(ours, ref, args.runs, args.ref_runs)
        ours_rss = peak_rss(ours)
        name = f"enterprise-attack-v{args.version}"
        ours_sheets = sheet_rows(ours_dir / name / f"{name}.xlsx")
        ref_sheets = sheet_rows(ref_dir / name / f"{name}.xlsx")
        ours_files = sorted(p.name for p in (ours_dir / name).glob("*.xlsx"))
        ref_files = sorted(p.name for p in (ref_dir / name).glob("*.xlsx"))

    result = {
        "release": f"enterprise {args.version}",
        "attack_pipeline_excel_s": {"median": statistics.median(ours_t), "min": min(ours_t), "runs": ours_t},
        "attackToExcel_s": {"median": statistics.median(ref_t), "min": min(ref_t), "runs": ref_t},
        "speedup_median": statistics.median(ref_t) / statistics.median(ours_t),
        "peak_rss_mb": {"attack_pipeline": round(ours_rss, 1)},
        "same_files": ours_files == ref_files,
        "sheets": {s: {"attack_pipeline": ours_sheets.get(s), "attackToExcel": ref_sheets.get(s)}
                   for s in dict.fromkeys([*ref_sheets, *ours_sheets])},  # fmt: skip
        "load_average": os.getloadavg(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'sheet':<28} {'attack-pipeline':>16} {'attackToExcel':>14}")
    for sheet, counts in result["sheets"].items():
        print(f"{sheet:<28} {counts['attack_pipeline']!s:>16} {counts['attackToExcel']!s:>14}")
    print(
        f"same workbook files: {result['same_files']} ({len(ours_files)} vs {len(ref_files)})\n"
        f"attack-pipeline excel: {result['attack_pipeline_excel_s']['median']:.2f} s median ({args.runs} runs), "
        f"peak RSS {ours_rss:.0f} MB\n"
        f"attackToExcel:         {result['attackToExcel_s']['median']:.2f} s median ({args.ref_runs} runs)\n"
        f"speed-up: {result['speedup_median']:.1f}x (load average {os.getloadavg()[0]:.2f})"
    )


if __name__ == "__main__":
    main()
