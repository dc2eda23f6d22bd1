"""`reports/`: what the build read, what it found wrong, and where revoked ids lead."""

from __future__ import annotations

from pathlib import Path

from pipeline import __version__
from pipeline.graph import query
from pipeline.core.writing import write_json


def render(ctx, out: Path) -> list[Path]:
    g = ctx.graph
    summary = query.stats(g) | {"attack_version": ctx.attack_version, "pipeline_version": __version__}
    unread = ctx.unread
    if unread:  # a build that went on without them (--keep-going): say so where the counts are
        summary["missing_sources"] = [{"source": sid, "problem": problem} for sid, problem in sorted(unread.items())]
    issues = sorted(
        (i.as_dict() for i in ctx.issues),
        key=lambda d: (d["file"] or "", d["record"] or "", d["code"], d["problem"]),
    )
    written = [
        write_json(out / "reports" / "summary.json", summary),
        write_json(out / "reports" / "issues.json", issues),
    ]
    skipped = g.graph.get("skipped_relationships", {})
    for release in ctx.releases:
        report = {
            "domain": release.domain,
            "attack_version": release.version,
            "stix_version": release.stix_version,
            "matrix": release.matrix,
            # The newest `modified` of its objects: the release's date, for outputs that
            # must carry one (the site's sitemap) and stay the same for the same inputs.
            "released": max((o.modified for o in release.objects.values() if getattr(o, "modified", "")), default=""),
            "tactics": list(release.tactics),
            "revoked": {
                key: {"status": r.status, "chain": list(r.chain), "reason": r.reason}
                for key, r in sorted(release.revocations.items())
            },
            "skipped_relationships": skipped.get(release.domain, {}),
        }
        written.append(write_json(out / "reports" / f"attack-{release.domain}.json", report))
    return written
