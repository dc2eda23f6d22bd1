"""One line per organisation profile on each technique card: "In your profile Example
Bank: uncovered, priority 7 of 691" (the card's include `docs-technique-profile.md.j2`)."""

from __future__ import annotations

from pipeline.core.escape import Md, local, text


def badges_by_technique(found) -> dict[str, tuple[Md, ...]]:
    out: dict[str, list[Md]] = {}
    for res in sorted(found, key=lambda r: r["profile"]["id"]):
        p = res["profile"]
        ranked = sum(1 for r in res["techniques"].values() if r["priority"])
        page = f"../profiles/{p['id']}.md"
        for tid, row in res["techniques"].items():
            where = f", priority {row['priority']['rank']} of {ranked}" if row["priority"] else ", not on the profile's platforms"
            label = local(text(p["name"]), page)
            out.setdefault(f"technique:{tid}", []).append(Md(f"**In your profile** {label}: {text(row['status'])}{where}"))
    return {k: tuple(v) for k, v in out.items()}
