"""Threat data a profile is scored with: CTID's Top ATT&CK Techniques and the MISP galaxy.

- `Techniques.json` of center-for-threat-informed-defense/top-attack-techniques: one
  record per technique with `prevalence_score`, `choke_point_score` and
  `actionability_score` (method: that repository's Methodology.md). Its ids are those of
  ATT&CK 12–13; they are reconciled to the target release by `pipeline.profile.threat`,
  through the release's revoked-by chains, like any older table.
- MISP galaxy clusters `threat-actor.json` (actors with target sectors, victim countries,
  synonyms, `name-attribution` entries such as `G0006:<uuid>` and `related` links) and
  `mitre-intrusion-set.json` (ATT&CK groups with their `external_id`). An actor names an
  ATT&CK group when a `name-attribution` entry or a synonym is a group id, or when a
  `related` link points at an intrusion set of the second cluster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.core.errors import InputError
from pipeline.core.limits import DEFAULT, Limits, loads_json, read_limited

_GROUP = re.compile(r"^G\d{4}$")
_TECHNIQUE = re.compile(r"^T\d{4}(\.\d{3})?$")


@dataclass(frozen=True, slots=True)
class CtidTechnique:
    attack_id: str
    name: str
    prevalence: float
    choke_point: float
    actionability: float
    cumulative: float


@dataclass(frozen=True, slots=True)
class MispActor:
    name: str
    uuid: str
    groups: tuple[str, ...]  # ATT&CK group ids
    sectors: tuple[str, ...]
    countries: tuple[str, ...]
    synonyms: tuple[str, ...] = ()


def _load(path: Path, limits: Limits) -> Any:
    file = str(path)
    try:
        return loads_json(read_limited(path, file, limits=limits), file, limits=limits)
    except FileNotFoundError:
        raise InputError("file not found", file=file) from None
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", file=file) from None


def _number(value: Any, file: str, record: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{key} must be a number, not {type(value).__name__}", file=file, record=record)
    return float(value)


def read_ctid_techniques(path: Path, *, limits: Limits = DEFAULT) -> tuple[CtidTechnique, ...]:
    """Every technique of `Techniques.json`, as published (ids not yet reconciled)."""
    file = str(path)
    data = _load(path, limits)
    if not isinstance(data, list):
        raise InputError("must be a JSON list of techniques", file=file)
    out = []
    for i, t in enumerate(data):
        record = f"[{i}]"
        if not isinstance(t, dict):
            raise InputError("must be an object", file=file, record=record)
        tid = t.get("tid")
        if not isinstance(tid, str) or not _TECHNIQUE.match(tid.strip().upper()):
            raise InputError(f"tid {tid!r} is not a technique id", file=file, record=record)
        tid = tid.strip().upper()
        action = t.get("actionability_score")
        action = action.get("combined_score") if isinstance(action, dict) else action
        out.append(
            CtidTechnique(
                attack_id=tid,
                name=t.get("name") if isinstance(t.get("name"), str) else "",
                prevalence=_number(t.get("prevalence_score", 0), file, tid, "prevalence_score"),
                choke_point=_number(t.get("choke_point_score", 0), file, tid, "choke_point_score"),
                actionability=_number(action if action is not None else 0, file, tid, "actionability_score"),
                cumulative=_number(t.get("cumulative_score", 0), file, tid, "cumulative_score"),
            )
        )
    return tuple(out)


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def _values(path: Path, limits: Limits) -> list[dict]:
    data = _load(path, limits)
    if not isinstance(data, dict) or not isinstance(data.get("values"), list):
        raise InputError("not a MISP galaxy cluster (no `values` list)", file=str(path))
    return [v for v in data["values"] if isinstance(v, dict)]


def read_misp_actors(actors: Path, intrusion_sets: Path | None = None, *, limits: Limits = DEFAULT) -> tuple[MispActor, ...]:
    """Threat actors with the ATT&CK groups they correspond to."""
    by_uuid: dict[str, str] = {}
    if intrusion_sets is not None:
        for v in _values(intrusion_sets, limits):
            meta = v.get("meta") if isinstance(v.get("meta"), dict) else {}
            ext = meta.get("external_id")
            if isinstance(ext, str) and _GROUP.match(ext) and isinstance(v.get("uuid"), str):
                by_uuid[v["uuid"]] = ext
    out = []
    for v in _values(actors, limits):
        meta = v.get("meta") if isinstance(v.get("meta"), dict) else {}
        groups: list[str] = []
        for entry in _strings(meta.get("name-attribution")):
            head = entry.split(":", 1)[0].strip().upper()
            if _GROUP.match(head):
                groups.append(head)
        synonyms = _strings(meta.get("synonyms"))
        groups.extend(s.strip().upper() for s in synonyms if _GROUP.match(s.strip().upper()))
        for rel in v.get("related") or ():
            if isinstance(rel, dict) and rel.get("dest-uuid") in by_uuid:
                groups.append(by_uuid[rel["dest-uuid"]])
        sectors = _strings(meta.get("cfr-target-category")) + _strings(meta.get("targeted-sector"))
        countries = _strings(meta.get("cfr-suspected-victims")) + _strings(meta.get("suspected-victims"))
        out.append(
            MispActor(
                name=v.get("value") if isinstance(v.get("value"), str) else "",
                uuid=v.get("uuid") if isinstance(v.get("uuid"), str) else "",
                groups=tuple(sorted(set(groups))),
                sectors=tuple(dict.fromkeys(sectors)),
                countries=tuple(dict.fromkeys(countries)),
                synonyms=synonyms,
            )
        )
    return tuple(sorted(out, key=lambda a: (a.name.lower(), a.uuid)))
