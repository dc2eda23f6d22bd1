"""`stix/`: STIX 2.1 bundles of the mappings and detections in the graph.

    stix/index.json                       every bundle: file, framework or source, counts, what was left out
    stix/mappings/<framework>--<version>.json   controls/capabilities, hierarchy, one relationship per mapping
    stix/detections/<source>.json         one indicator per rule or query, indicates → techniques

Bundles reference ATT&CK techniques by STIX id (those of the release their grouping
names); `build --include-attack` embeds them, upgraded to 2.1 where the mirror holds
2.0. Before a bundle is written, every reference in it is checked to resolve inside
it or to a live technique of the target release, and one object of every shape is
parsed by stix2. The vocabulary is in `vocabulary.py` and in docs/output-formats.md.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core.errors import PipelineError
from pipeline.core.perf import paused_gc
from pipeline.core.writing import write_json
from pipeline.render.stix.attack import AttackObjects
from pipeline.render.stix.bundle import check_shapes
from pipeline.render.stix.detections import detection_bundles
from pipeline.render.stix.ids import NAMESPACE
from pipeline.render.stix.mappings import mapping_bundles
from pipeline.render.stix.vocabulary import VOCABULARY_VERSION

INCLUDE_ATTACK = "stix_include_attack"


def check_references(bundle: dict, outside: set[str], file: str) -> None:
    """Every `*_ref`/`*_refs` id is in the bundle or in `outside` (live techniques of the
    target release); a dangling reference would make a platform drop the relationship."""
    objects = bundle["objects"]
    known = {o["id"] for o in objects} | outside
    # The union of every object's keys is made in C; testing each key of each object for
    # the suffix took 1.4 s of 2.1 s (cProfile, default build, 15 bundles).
    ref_keys = {k for k in set().union(*objects) if k.endswith(("_ref", "_refs"))}
    for key in ref_keys:
        for obj in objects:
            value = obj.get(key)
            if value is None:
                continue
            for ref in [value] if isinstance(value, str) else value:
                if ref not in known:
                    raise PipelineError(f"{key} names {ref}, which is neither in the bundle nor a live technique of the release", file=file, record=obj["id"])


def live_techniques(g) -> set[str]:
    return {n["record"].stix_id for _, n in g.nodes(data=True) if n.get("kind") == "technique" and not n["deprecated"]}


def bundles(ctx, skip_mappings=None, skip_detections=None) -> list:
    """Every bundle of the graph, built but not written (`Rendered`, bundle dict) pairs;
    the `skip_*` predicates leave bundles out (see `mapping_bundles`)."""
    include = bool(ctx.options.get(INCLUDE_ATTACK))
    attack = AttackObjects(ctx.part("attack_objects")) if include else None
    outside = set() if include else live_techniques(ctx.graph)
    out = []
    for r in mapping_bundles(ctx, skip_mappings) + detection_bundles(ctx, skip_detections):
        if attack is not None:
            r.bundle.embedded = attack.closure(r.techniques)
        data = r.bundle.to_dict(r.grouping)
        file = f"stix/{r.path}"
        check_references(data, outside, file)
        check_shapes(data, file)
        r.summary["objects_total"] = len(data["objects"])
        r.summary["attack_objects_embedded"] = len(r.bundle.embedded)
        out.append((r, data))
    return out


def render(ctx, out: Path) -> list[Path]:
    base = out / "stix"
    units = ctx.part("units")
    order: list[tuple[str, tuple | None]] = []  # every bundle's unit, in index order; (memo,) if taken

    def skip(name: str, sources: list[str]) -> bool:
        taken = units.take(name, sources)
        order.append((name, taken))
        return taken is not None

    written = []
    summaries = []
    with paused_gc():  # ~50,000 new dicts without cycles: the collector would rescan them for nothing
        made = bundles(
            ctx,
            lambda fw, ver: skip(f"stix/mappings/{fw}/{ver}", units.framework_sources(fw)),
            lambda name: skip(f"stix/detections/{name}", units.detection_source(name)),
        )
        fresh = iter(made)
        for name, taken in order:
            if taken is not None:
                summaries.append(taken[0])
                continue
            r, data = next(fresh)
            path = write_json(base / r.path, data)
            units.record(name, [path], r.summary)
            written.append(path)
            summaries.append(r.summary)
    index = {
        "attack_version": ctx.attack_version,
        "domains": list(ctx.domains),
        "include_attack": bool(ctx.options.get(INCLUDE_ATTACK)),
        "spec_version": "2.1",
        "vocabulary_version": VOCABULARY_VERSION,
        "id_namespace": str(NAMESPACE),
        "bundles": summaries,
    }
    written.append(write_json(base / "index.json", index))
    return written
