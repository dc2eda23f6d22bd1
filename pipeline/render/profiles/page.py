"""`docs/profiles/<id>.md`: one organisation's profile on the docs site.

Every value from the profile or the sources goes through `pipeline.core.escape`
(text, table cells), like every other page; links go only to generated pages and the
profile's own artifacts.
"""

from __future__ import annotations

from pipeline.core.escape import cell, local, text

SHOWN_ADVERSARY_TECHNIQUES = 40


def _technique(tid: str) -> str:
    return local(text(tid), f"../techniques/{tid}.md")


def page_of(res: dict, layer_files: list[str]) -> str:
    p = res["profile"]
    s = res["summary"]
    rows = res["techniques"]
    slug = p["id"]
    art = f"../../profiles/{slug}"
    out = [f"# {text(p['name'])}", ""]
    out.append(
        f"Profile `{slug}` · ATT&CK {text(res['attack_version'])} · {text(p['domain'])}"
        + (f" · platforms: {text(', '.join(p['platforms']))}" if p["platforms"] else "")
    )
    out.append("")
    st = s["status"]
    vis = s["visibility"]
    out += [
        "| techniques | covered | partial | uncovered | visible (full / partial / none) | controls deployed | rules deployed | blind rules | adversaries |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {s['techniques']} | {st['covered']} | {st['partial']} | {st['uncovered']} | {vis['full']} / {vis['partial']} / {vis['none']} | {s['controls_deployed']} | {s['rules_deployed']} | {s['rules_blind']} | {s['adversaries']} |",
        "",
        "Downloads: " + " · ".join([local(text("results (JSON)"), f"{art}/results.json"), local(text("priorities (CSV)"), f"{art}/priorities.csv")]
        + [local(text(f"layer {rel.removesuffix('.json')}"), f"{art}/layers/{rel}") for rel in layer_files if "/" not in rel]),
        "",
        f"## Fix first: the top {p['top_n']}",
        "",
        "score = Σ weight × value / Σ weights; weights: " + text(", ".join(f"{k} {v:g}" for k, v in p["weights"].items() if k != "resolved_group")) + ".",
        "",
        "| rank | technique | coverage | visibility | score | threat | prevalence | choke point | actionability | adversaries |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for tid in res["top"]:
        r = rows[tid]
        b = r["priority"]["breakdown"]
        out.append(
            f"| {r['priority']['rank']} | {_technique(tid)} {cell(r['name'])} | {'**uncovered**' if r['status'] == 'uncovered' else text(r['status'])} | {text(r['visibility'])} "
            f"| {r['priority']['score']:.3f} | {b['threat']['value']:.3f} | {b['prevalence']['value']:.3f} | {b['choke_point']['value']:.3f} | {b['actionability']['value']:.3f} "
            f"| {cell(', '.join(b['threat']['adversaries']))} |"
        )
    out += ["", "## Adversaries", ""]
    if not res["adversaries"]:
        out += ["The profile names no adversary.", ""]
    for a in res["adversaries"]:
        label = f"{a['id']} {a['name']}".strip()
        c = a["counts"]
        out += [f"### {text(label)}", "", f"{text('; '.join(a['why']))} · weight {a['weight']:g} · covered {c['covered']}, partial {c['partial']}, uncovered {c['uncovered']}", ""]
        gaps = [t for t in a["techniques"] if t["status"] != "covered"]
        if gaps:
            out += ["| technique | coverage | visibility | priority |", "|---|---|---|---|"]
            for t in gaps[:SHOWN_ADVERSARY_TECHNIQUES]:
                out.append(f"| {_technique(t['id'])} {cell(t['name'])} | {text(t['status'])} | {text(t['visibility'])} | {t['rank'] or ''} |")
            if len(gaps) > SHOWN_ADVERSARY_TECHNIQUES:
                out.append(f"| … and {len(gaps) - SHOWN_ADVERSARY_TECHNIQUES} more (results.json) | | | |")
            out.append("")
    out += ["## Blind rules", ""]
    if res["blind_rules"]:
        out += ["| rule | why |", "|---|---|"] + [f"| {cell(b['title'])} | {cell(b['reason'])} |" for b in res["blind_rules"][:200]] + [""]
    else:
        out += ["No deployed rule reads data that is not collected.", ""]
    out += ["## Findings", ""]
    if res["findings"]:
        out += ["| severity | where | problem |", "|---|---|---|"] + [f"| {text(f['severity'])} | {cell(f['subject'])} | {cell(f['problem'])} |" for f in res["findings"][:200]]
        if len(res["findings"]) > 200:
            out.append(f"| | | … and {len(res['findings']) - 200} more (results.json) |")
        out.append("")
    else:
        out += ["None: every id of the profile is live in the release.", ""]
    return "\n".join(out)
