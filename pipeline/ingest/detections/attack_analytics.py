"""ATT&CK's own detection content (v18 and later) as `Detection` records.

The release already holds detection strategies and their analytics; here each analytic
becomes one record so that ATT&CK's analytics can be counted and listed next to rule
corpora. Analytics carry no query: their text is the description and their data
sources are the log sources they name. Techniques come from the strategy's `detects`
relationships. Older releases have no analytics and yield nothing.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Iterable

from pipeline.model.attack import Analytic, AttackRelease, DetectionStrategy
from pipeline.model.detections import ATTACK_ANALYTICS_SOURCE as SOURCE
from pipeline.model.detections import Detection, TechniqueRef

FORMAT = "attack-stix"


def analytics_as_detections(releases: Iterable[AttackRelease]) -> list[Detection]:
    out: dict[str, Detection] = {}
    for release in releases:
        detects: dict[str, list[str]] = {}
        for rel in release.relationships:
            if rel.relation != "detects":
                continue
            src, dst = release.objects.get(rel.source_ref), release.objects.get(rel.target_ref)
            if isinstance(src, DetectionStrategy) and dst is not None and dst.kind == "technique":
                detects.setdefault(src.attack_id, []).append(dst.attack_id)
        for strategy in sorted(release.of_kind("detection_strategy", live_only=False), key=lambda o: o.attack_id):
            assert isinstance(strategy, DetectionStrategy)
            techniques = tuple(
                TechniqueRef(attack_id=t, how="relationship") for t in sorted(set(detects.get(strategy.attack_id, ())))
            )
            for analytic_id in strategy.analytics:
                analytic = release.get(f"analytic:{analytic_id}")
                if not isinstance(analytic, Analytic) or f"{SOURCE}:{analytic_id}" in out:
                    continue
                sources = tuple(
                    dict.fromkeys(f"{ls.name} ({ls.data_component})" if ls.data_component else ls.name for ls in analytic.log_sources)
                )
                out[f"{SOURCE}:{analytic_id}"] = Detection(
                    id=f"{SOURCE}:{analytic_id}",
                    source=SOURCE,
                    native_id=analytic_id,
                    format=FORMAT,
                    title=f"{strategy.name} ({', '.join(analytic.platforms)})" if analytic.platforms else strategy.name,
                    description=analytic.description,
                    techniques=techniques,
                    tags=(f"detection_strategy:{strategy.attack_id}",) + tuple(f"platform:{p}" for p in analytic.platforms),
                    references=tuple(u for u in (analytic.url, strategy.url) if u),
                    status="deprecated" if (analytic.deprecated or strategy.deprecated) else "",
                    data_sources=sources,
                    path=PurePath(release.file).name,
                    collection=release.domain,
                    license="ATT&CK Terms of Use",
                )
    return [out[k] for k in sorted(out)]
