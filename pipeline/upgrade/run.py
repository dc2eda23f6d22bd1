"""A batch of layers → upgraded layers (format 4.5) and a report per layer.

Every layer is read and checked before anything is written: a batch with a bad layer
writes nothing (the user fixes the file and runs the same command again). Each file is
then written atomically; a layer whose entries need a decision is still written, its
report says what to decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

from pipeline.core.config import Config
from pipeline.core.errors import ConfigError, InputError
from pipeline.upgrade.read import LayerInput, read_layers
from pipeline.upgrade.releases import DomainReleases
from pipeline.core.atomic import write_atomic
from pipeline.render.naming import stem
from pipeline.render.navigator.layer import LAYER_FORMAT, NAVIGATOR_VERSION
from pipeline.render.navigator.validate import schema_problems
from pipeline.upgrade.entries import upgrade_entries
from pipeline.upgrade.report import document
from pipeline.upgrade.report import markdown

# Top-level fields kept as they are, in the order written (those of format 4.5).
KEPT = (
    "description", "customDataURL", "filters", "sorting", "layout", "hideDisabled", "techniques", "gradient",
    "legendItems", "showTacticRowBackground", "tacticRowBackground", "selectTechniquesAcrossTactics",
    "selectSubtechniquesWithParent", "selectVisibleTechniques", "metadata", "links",
)


@dataclass(frozen=True, slots=True)
class Upgraded:
    input: LayerInput
    out_rel: str
    layer: dict
    report: dict

    @property
    def needs_decision(self) -> int:
        return len(self.report["needs_decision"])


class BadLayers(Exception):
    """Layers that cannot be upgraded; nothing was written."""

    def __init__(self, problems: list[InputError]) -> None:
        super().__init__(f"{len(problems)} layer(s) cannot be upgraded")
        self.problems = problems


def upgrade_layer(layer: LayerInput, releases: DomainReleases, out_rel: str) -> Upgraded:
    doc = layer.doc
    source = releases.source_of(doc, layer.label)
    target = releases.target
    up = upgrade_entries(list(doc.get("techniques", ())), releases, source.version)
    notes: list[str] = []
    decisions: list[str] = []
    out: dict = {
        "name": doc["name"],
        "versions": {"attack": releases.target_version.split(".")[0], "navigator": NAVIGATOR_VERSION, "layer": LAYER_FORMAT},
        "domain": doc["domain"],
    }
    old_format = doc["versions"]["layer"]
    if old_format != LAYER_FORMAT:
        notes.append(f"layer format {old_format} → {LAYER_FORMAT}")
    for key in KEPT:
        if key not in doc:
            continue
        if key == "techniques":
            out[key] = up.entries
        elif key == "filters":
            platforms = doc["filters"].get("platforms")
            if platforms is None:
                out[key] = dict(doc["filters"])
                continue
            kept = [p for p in platforms if p in target.platforms]
            for p in platforms:
                if p not in target.platforms:
                    notes.append(f"platform {p!r} is not a platform of ATT&CK {releases.domain} {releases.target_version}: dropped from the filter")
            if kept:
                out[key] = {"platforms": kept}
            elif platforms:
                decisions.append("no platform of the filter is in the target release: the filter was removed (every platform shows)")
        else:
            out[key] = doc[key]
    step = {"name": "ATT&CK upgrade", "value": f"{source.version} → {releases.target_version} (attack-pipeline upgrade)"}
    meta = list(out.get("metadata", ()))
    if step not in meta:
        out["metadata"] = meta + [step]
    # Entries are the checked input entries with a new id or tactic (and merged ones built
    # from them); the rest of the layer is checked against the 4.5 schema here.
    found = schema_problems(dict(out, techniques=[]))
    if found:  # the input passed the 4.x check, so this is content the 4.5 format refuses
        raise InputError(f"the upgraded layer is not valid format 4.5: {found[0]}", file=layer.label)
    report = document(
        label=layer.label, output=f"{out_rel}.json", domain=releases.domain, source=source, target=releases.target_version,
        changes=up.changes, left_out=up.left_out, entries_out=len(up.entries), layer_notes=notes, decisions=decisions,
    )
    return Upgraded(input=layer, out_rel=out_rel, layer=out, report=report)


def _unique(names: list[str]) -> list[str]:
    """Output names valid on Windows and macOS (each part through pipeline.render.naming,
    which keeps plain names as they are) and unique ignoring case: `-2`, `-3` …"""
    seen: set[str] = set()
    out = []
    for name in ("/".join(stem(part) for part in n.split("/")) for n in names):
        candidate, n = name, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{name}-{n}"
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def upgrade_layers(config: Config, mirror: Path | None, args: list[Path], target: str, *, domain: str | None = None) -> list[Upgraded]:
    """Read and upgrade every layer; BadLayers (nothing written) if any cannot be."""
    layers, problems = read_layers(args, domain=domain)
    releases: dict[str, DomainReleases] = {}
    done: list[Upgraded] = []
    names = _unique([layer.out_rel for layer in layers])
    for layer, out_rel in zip(layers, names):
        try:
            if layer.domain not in releases:
                try:
                    releases[layer.domain] = DomainReleases(config, mirror, layer.domain, target)
                except ConfigError as exc:
                    raise InputError(f"a layer for {layer.doc['domain']}: {exc.problem}", file=layer.label, record="domain") from None
            done.append(upgrade_layer(layer, releases[layer.domain], out_rel))
        except InputError as exc:
            problems.append(exc)
    if problems:
        raise BadLayers(problems)
    return done


def write(results: list[Upgraded], out_dir: Path) -> list[Path]:
    """Each layer and its two reports, atomically; returns the layer files."""
    written = []
    for r in results:
        base = out_dir / r.out_rel
        layer = base.with_name(base.name + ".json")
        write_atomic(layer, orjson.dumps(r.layer, option=orjson.OPT_INDENT_2) + b"\n")
        write_atomic(base.with_name(base.name + ".upgrade.json"), orjson.dumps(r.report, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
        write_atomic(base.with_name(base.name + ".upgrade.md"), markdown(r.report).encode("utf-8"))
        written.append(layer)
    return written
