"""A profile's Navigator layers (format 4.5), from its results document."""

from __future__ import annotations

from typing import Iterator

from pipeline.render.navigator.layer import Gradient, Layer, Mark, Meta
from pipeline.render.navigator.links import technique_links
from pipeline.render.naming import unique_slugs

STATUS_COLOURS = {"covered": "#1a9850", "partial": "#fdae61", "uncovered": "#d73027"}
VISIBILITY_COLOURS = {"full": "#2166ac", "partial": "#92c5de", "none": "#d73027"}
PRIORITY_GRADIENT = ("#ffffff", "#fc8d59", "#b30000")


def _meta(res: dict) -> tuple[Meta, ...]:
    p = res["profile"]
    return (Meta("profile", p["name"]), Meta("profile digest", p["digest"]), Meta("ATT&CK release", res["attack_version"]))


def _breakdown(row: dict) -> tuple[tuple[Meta, ...], ...]:
    pr = row["priority"]
    blocks = [(Meta("priority", str(pr["rank"])), Meta("score", f"{pr['score']:.4f}"), Meta("coverage", row["status"]), Meta("visibility", row["visibility"]))]
    for name, part in pr["breakdown"].items():
        blocks.append((Meta(name, f"{part['value']:.4f}"), Meta("weight", f"{part['weight']:g}"), Meta("contribution", f"{part['contribution']:.4f}")))
    return tuple(blocks)


def _comment(row: dict, top: set[str]) -> str:
    pr = row["priority"]
    parts = [f"priority {pr['rank']}" + (" (top)" if row["id"] in top else ""), row["status"], f"visibility {row['visibility']}"]
    parts += [f"{k} {v['value']:.2f}" for k, v in pr["breakdown"].items()]
    return "; ".join(parts)


def layers_of(res: dict, site_url: str = "") -> Iterator[tuple[str, Layer]]:
    p = res["profile"]
    domain, version = p["domain"], res["attack_version"]
    rows = res["techniques"]
    top = set(res["top"])
    ranked = [r for r in rows.values() if r["priority"]]
    marks = tuple(
        Mark(
            technique=r["id"],
            score=round(r["priority"]["score"] * 100, 2),
            comment=_comment(r, top),
            metadata=_breakdown(r),
            links=technique_links(site_url, r["id"]),
        )
        for r in ranked
    )
    high = max((m.score or 0 for m in marks), default=0) or 1
    yield "priorities.json", Layer(
        name=f"{p['name']} priorities",
        description=f"Every technique of {p['name']}'s platforms scored by threat relevance, prevalence, choke point and actionability (× 100); the top {p['top_n']} are marked (top).",
        domain=domain,
        attack_version=version,
        marks=marks,
        gradient=Gradient(PRIORITY_GRADIENT, 0, round(high, 2)),
        legend=(("lowest priority", PRIORITY_GRADIENT[0]), ("highest priority", PRIORITY_GRADIENT[-1])),
        sorting=3,
        metadata=_meta(res),
    )
    cov = tuple(
        Mark(technique=r["id"], color=STATUS_COLOURS[r["status"]], comment=f"{r['status']}; protect {r['levels']['protect']}, detect {r['levels']['detect']}, respond {r['levels']['respond']}; {len(r['rules'])} deployed rule(s)")
        for r in rows.values()
    )
    used = {m.color for m in cov}
    yield "coverage.json", Layer(
        name=f"{p['name']} coverage",
        description=f"Coverage of {p['name']} by its deployed controls, capabilities and rules.",
        domain=domain,
        attack_version=version,
        marks=cov,
        legend=tuple((s, c) for s, c in STATUS_COLOURS.items() if c in used),
        metadata=_meta(res),
    )
    vis = tuple(
        Mark(
            technique=r["id"],
            color=VISIBILITY_COLOURS[r["visibility"]],
            comment=f"visibility {r['visibility']}: {r['analytics']['visible']} of {r['analytics']['relevant']} analytics"
            + (f"; missing {', '.join(r['missing_components'])}" if r["missing_components"] else ""),
        )
        for r in rows.values()
        if r["visibility"] in VISIBILITY_COLOURS
    )
    used = {m.color for m in vis}
    yield "visibility.json", Layer(
        name=f"{p['name']} visibility",
        description=f"Techniques whose ATT&CK analytics read data {p['name']} collects.",
        domain=domain,
        attack_version=version,
        marks=vis,
        legend=tuple((f"visibility {s}", c) for s, c in VISIBILITY_COLOURS.items() if c in used),
        metadata=_meta(res),
    )
    names = unique_slugs(a["id"] or a["name"] for a in res["adversaries"])
    for a in res["adversaries"]:
        slug = names[a["id"] or a["name"]]
        marks = tuple(
            Mark(technique=t["id"], color=STATUS_COLOURS[t["status"]], comment=f"{t['status']}; visibility {t['visibility']}" + (f"; priority {t['rank']}" if t["rank"] else ""))
            for t in a["techniques"]
        )
        used = {m.color for m in marks}
        label = f"{a['id']} {a['name']}".strip()
        yield f"adversaries/{slug}.json", Layer(
            name=f"{p['name']} gaps to {label}",
            description=f"The techniques {label} uses, coloured by {p['name']}'s coverage ({'; '.join(a['why'])}).",
            domain=domain,
            attack_version=version,
            marks=marks,
            legend=tuple((s, c) for s, c in STATUS_COLOURS.items() if c in used),
            metadata=_meta(res),
        )
