"""`queries/`: query packs a team loads into its SIEM — per language, one file per technique.

    queries/<language>/<technique id><suffix>   every runnable query for the technique
    queries/index.json                          the same queries as data, with the rules' facts

A pack holds, for one language of `[settings].query_languages`, the corpora's own queries
in that language (the Defender XDR hunting queries for Kusto, Splunk's searches for SPL,
…) and the Sigma rules pySigma converted, each after a comment line naming the rule
(title, id, level, status). Deprecated, unsupported and placeholder rules are left out
(counted in the index), as they are out of coverage. The query text is the backend's
output unchanged. File names are technique ids, valid on every system.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.convert.packs import pack_text, technique_queries
from pipeline.convert.targets import TARGETS
from pipeline.render.naming import attack_id
from pipeline.core.writing import write_json

DIR = "queries"


def render(ctx, out: Path) -> list[Path]:
    g = ctx.graph
    if ctx.attack_only:  # no corpora: no queries (the conversions were gathered with the context)
        return []
    # One render unit: the packs read the corpora's detections and conversions only (and
    # ATT&CK, in every unit's key), so an edited mapping table takes them as they were.
    units = ctx.part("units")
    if units.take(DIR, units.detection_sources()) is not None:
        return []
    info = g.graph.get("query_conversions") or {}
    written: list[Path] = []
    index: dict = {"attack_version": ctx.attack_version, "languages": {}}
    for language in info.get("languages", ()):
        t = TARGETS[language]
        converter = info["counts"][language]["converter"]
        folder = out / DIR / language
        folder.mkdir(parents=True, exist_ok=True)
        files, left_out = [], 0
        for key, items in sorted(technique_queries(g, language).items()):
            usable = [e for e in items if not e["flags"]]
            left_out += len(items) - len(usable)
            if not usable:
                continue
            n = g.nodes[key]
            path = folder / f"{attack_id(n['id'])}{t.suffix}"  # file names: pipeline.render.naming
            path.write_text(pack_text(language, n["id"], n["name"], usable, ctx.attack_version, converter), encoding="utf-8")
            written.append(path)
            files.append({"technique": n["id"], "name": n["name"], "path": f"{DIR}/{language}/{path.name}", "queries": [{k: v for k, v in e.items() if k != "flags"} for e in usable]})
        index["languages"][language] = {
            "label": t.label,
            "pattern_type": t.pattern_type,
            "converter": converter,
            "techniques": len(files),
            "queries": sum(len(f["queries"]) for f in files),
            "left_out_flagged": left_out,
            "files": files,
        }
    written.append(write_json(out / DIR / "index.json", index))
    units.record(DIR, written)
    return written
