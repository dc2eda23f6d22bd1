"""`priorities.csv`: every ranked technique of a profile with its score's breakdown."""

from __future__ import annotations

import csv
import io

from pipeline.model.profile import WEIGHT_NAMES

_ACTIVE = ("=", "+", "-", "@", "\t", "\r", "\n")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_ACTIVE) else text  # never a formula in a spreadsheet


def priorities_csv(res: dict) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["rank", "id", "name", "top", "coverage", "visibility", "score", *WEIGHT_NAMES, "adversaries", "ctid ids", "available controls", "available rules"])
    top = set(res["top"])
    rows = sorted((r for r in res["techniques"].values() if r["priority"]), key=lambda r: r["priority"]["rank"])
    for r in rows:
        b = r["priority"]["breakdown"]
        w.writerow(
            [_cell(v) for v in (
                r["priority"]["rank"], r["id"], r["name"], "yes" if r["id"] in top else "", r["status"], r["visibility"],
                f"{r['priority']['score']:.6f}", *(f"{b[k]['value']:.6f}" for k in WEIGHT_NAMES),
                " ".join(b["threat"]["adversaries"]), " ".join(b["prevalence"]["ctid_ids"]),
                b["actionability"]["available"]["controls"], b["actionability"]["available"]["rules"],
            )]
        )
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
