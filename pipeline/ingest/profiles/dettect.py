"""DeTT&CT administration files (YAML) ↔ frozen records, both ways.

DeTT&CT (rabobank-cdc/DeTTECT) keeps a SOC's data sources (file type
`data-source-administration`), its per-technique detection and visibility score
logbooks (`technique-administration`) and its adversary emulation plans
(`group-administration`) in YAML. Teams that already keep these files can point a profile
at them instead of retyping their estate; `write_*` turns the records back into the same
YAML, so a file read and written back is equal in content (every key kept, in order;
keys the records do not model ride along in `Kept.extra`).

Files are loaded through the project's limited safe YAML loader; every problem is an
`InputError` naming the file, the record and what is wrong.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pipeline.core.errors import InputError
from pipeline.core.limits import DEFAULT, Limits, read_limited, yaml_load
from pipeline.model.profile import (
    DettectDataSource,
    DettectDataSourceDetail,
    DettectDataSources,
    DettectGroup,
    DettectGroups,
    DettectScore,
    DettectScoreEntry,
    DettectSystem,
    DettectTechnique,
    DettectTechniques,
    Kept,
)
from pipeline.core.atomic import write_atomic

FILE_TYPES = {
    "data-source-administration": "data sources",
    "technique-administration": "techniques",
    "group-administration": "groups",
}
DOMAINS = {"enterprise-attack": "enterprise", "mobile-attack": "mobile", "ics-attack": "ics"}
_TECHNIQUE = re.compile(r"^T\d{4}(\.\d{3})?$")
_SOFTWARE = re.compile(r"^S\d{4}$")


class _Reader:
    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, record: str, problem: str) -> InputError:
        return InputError(problem, file=self.file, record=record)

    def mapping(self, value: Any, record: str) -> dict:
        if not isinstance(value, dict):
            raise self.fail(record, f"must be a mapping, not {_type(value)}")
        for k in value:
            if not isinstance(k, str):
                raise self.fail(record, f"key {k!r} is not a string")
        return value

    def need(self, m: dict, key: str, record: str) -> Any:
        if key not in m:
            raise self.fail(record, f"missing key {key!r}")
        return m[key]

    def text(self, value: Any, record: str, *, empty_ok: bool = True) -> str:
        if value is None and empty_ok:
            return ""
        if not isinstance(value, str):
            raise self.fail(record, f"must be text, not {_type(value)}")
        return value

    def texts(self, value: Any, record: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(record, "must be a list of text")
        return tuple(value)

    def items(self, value: Any, record: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(record, f"must be a list, not {_type(value)}")
        return value

    def score(self, value: Any, record: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(record, f"score must be a whole number from {low} to {high}, not {value!r}")
        return value


def _type(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def _kept(m: dict, modelled: tuple[str, ...]) -> Kept:
    return Kept(tuple(m), tuple((k, v) for k, v in m.items() if k not in modelled))


def load_yaml(path: Path, expected: str, limits: Limits = DEFAULT) -> tuple[dict, _Reader]:
    file = str(path)
    r = _Reader(file)
    try:
        raw = yaml_load(read_limited(path, file, limits=limits), limits=limits)
    except FileNotFoundError:
        raise InputError("file not found", file=file) from None
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", file=file) from None
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - any YAML failure is one line about this file
        raise InputError(f"not valid YAML: {' '.join(str(exc).split())}", file=file) from None
    m = r.mapping(raw, "(top)")
    file_type = m.get("file_type")
    if file_type != expected:
        raise r.fail("file_type", f"is {file_type!r}; a DeTT&CT {FILE_TYPES[expected]} file has {expected!r}")
    domain = m.get("domain", "enterprise-attack")
    if not isinstance(domain, str) or domain not in DOMAINS:
        raise r.fail("domain", f"unknown domain {domain!r} (expected one of {', '.join(DOMAINS)})")
    return m, r


# -- data sources ---------------------------------------------------------------------------
def read_data_sources(path: Path, *, limits: Limits = DEFAULT) -> DettectDataSources:
    m, r = load_yaml(path, "data-source-administration", limits)
    systems = []
    for i, s in enumerate(r.items(m.get("systems"), "systems")):
        where = f"systems[{i}]"
        s = r.mapping(s, where)
        systems.append(
            DettectSystem(
                applicable_to=r.text(r.need(s, "applicable_to", where), f"{where}.applicable_to", empty_ok=False),
                platform=r.texts(s.get("platform"), f"{where}.platform"),
                kept=_kept(s, ("applicable_to", "platform")),
            )
        )
    sources = []
    for i, ds in enumerate(r.items(r.need(m, "data_sources", "(top)"), "data_sources")):
        where = f"data_sources[{i}]"
        ds = r.mapping(ds, where)
        name = r.text(r.need(ds, "data_source_name", where), f"{where}.data_source_name", empty_ok=False)
        where = f"data source {name!r}"
        details = []
        for j, d in enumerate(r.items(ds.get("data_source"), f"{where}.data_source")):
            dw = f"{where}.data_source[{j}]"
            d = r.mapping(d, dw)
            available = d.get("available_for_data_analytics", False)
            if not isinstance(available, bool):
                raise r.fail(dw, f"available_for_data_analytics must be true or false, not {available!r}")
            quality = d.get("data_quality")
            quality = r.mapping(quality, f"{dw}.data_quality") if quality is not None else {}
            details.append(
                DettectDataSourceDetail(
                    applicable_to=r.texts(d.get("applicable_to"), f"{dw}.applicable_to"),
                    date_registered=d.get("date_registered"),
                    date_connected=d.get("date_connected"),
                    products=r.texts(d.get("products"), f"{dw}.products"),
                    available_for_data_analytics=available,
                    comment=r.text(d.get("comment"), f"{dw}.comment"),
                    data_quality=tuple(quality.items()),
                    kept=_kept(
                        d,
                        ("applicable_to", "date_registered", "date_connected", "products", "available_for_data_analytics", "comment", "data_quality"),
                    ),
                )
            )
        sources.append(DettectDataSource(name=name, details=tuple(details), kept=_kept(ds, ("data_source_name", "data_source"))))
    exceptions = []
    for i, e in enumerate(r.items(m.get("exceptions"), "exceptions")):
        e = r.mapping(e, f"exceptions[{i}]")
        exceptions.append(tuple(e.items()))
    return DettectDataSources(
        name=r.text(m.get("name"), "name"),
        domain=DOMAINS[m.get("domain", "enterprise-attack")],
        systems=tuple(systems),
        data_sources=tuple(sources),
        version=m.get("version"),
        exceptions=tuple(exceptions),
        kept=_kept(m, ("version", "file_type", "name", "domain", "systems", "data_sources", "exceptions")),
    )


def data_sources_dict(a: DettectDataSources) -> dict:
    def system(s: DettectSystem) -> dict:
        return _emit(s.kept, {"applicable_to": s.applicable_to, "platform": list(s.platform)})

    def detail(d: DettectDataSourceDetail) -> dict:
        quality = dict(d.data_quality)
        return _emit(
            d.kept,
            {
                "applicable_to": list(d.applicable_to),
                "date_registered": d.date_registered,
                "date_connected": d.date_connected,
                "products": list(d.products),
                "available_for_data_analytics": d.available_for_data_analytics,
                "comment": d.comment,
                "data_quality": quality if quality or "data_quality" in d.kept.keys else None,
            },
        )

    def source(ds: DettectDataSource) -> dict:
        return _emit(ds.kept, {"data_source_name": ds.name, "data_source": [detail(d) for d in ds.details]})

    return _emit(
        a.kept,
        {
            "version": a.version,
            "file_type": "data-source-administration",
            "name": a.name,
            "domain": _domain_name(a.domain),
            "systems": [system(s) for s in a.systems],
            "data_sources": [source(ds) for ds in a.data_sources],
            "exceptions": [dict(e) for e in a.exceptions],
        },
    )


# -- techniques -----------------------------------------------------------------------------
def _scores(r: _Reader, value: Any, where: str, low: int, high: int, detection: bool) -> tuple[DettectScoreEntry, ...]:
    out = []
    for i, e in enumerate(r.items(value, where)):
        ew = f"{where}[{i}]"
        e = r.mapping(e, ew)
        book = []
        for j, s in enumerate(r.items(e.get("score_logbook"), f"{ew}.score_logbook")):
            sw = f"{ew}.score_logbook[{j}]"
            s = r.mapping(s, sw)
            auto = s.get("auto_generated")
            if auto is not None and not isinstance(auto, bool):
                raise r.fail(sw, f"auto_generated must be true or false, not {auto!r}")
            book.append(
                DettectScore(
                    date=s.get("date"),
                    score=r.score(r.need(s, "score", sw), f"{sw}.score", low, high),
                    comment=r.text(s.get("comment"), f"{sw}.comment"),
                    auto_generated=auto,
                    kept=_kept(s, ("date", "score", "comment", "auto_generated")),
                )
            )
        location = e.get("location") if detection else None
        out.append(
            DettectScoreEntry(
                applicable_to=r.texts(e.get("applicable_to"), f"{ew}.applicable_to"),
                score_logbook=tuple(book),
                comment=r.text(e.get("comment"), f"{ew}.comment"),
                location=r.texts(location, f"{ew}.location") if "location" in e else None,
                kept=_kept(e, ("applicable_to", "comment", "score_logbook", "location")),
            )
        )
    return tuple(out)


def read_techniques(path: Path, *, limits: Limits = DEFAULT) -> DettectTechniques:
    m, r = load_yaml(path, "technique-administration", limits)
    techniques = []
    for i, t in enumerate(r.items(r.need(m, "techniques", "(top)"), "techniques")):
        where = f"techniques[{i}]"
        t = r.mapping(t, where)
        tid = r.text(r.need(t, "technique_id", where), f"{where}.technique_id", empty_ok=False).strip().upper()
        if not _TECHNIQUE.match(tid):
            raise r.fail(f"{where}.technique_id", f"{t['technique_id']!r} is not an ATT&CK technique id (T1234 or T1234.001)")
        where = f"technique {tid}"
        techniques.append(
            DettectTechnique(
                technique_id=tid,
                technique_name=r.text(t.get("technique_name"), f"{where}.technique_name"),
                detection=_scores(r, t.get("detection"), f"{where}.detection", -1, 5, True),
                visibility=_scores(r, t.get("visibility"), f"{where}.visibility", 0, 4, False),
                kept=_kept(t, ("technique_id", "technique_name", "detection", "visibility")),
            )
        )
    return DettectTechniques(
        name=r.text(m.get("name"), "name"),
        domain=DOMAINS[m.get("domain", "enterprise-attack")],
        platform=r.texts(m.get("platform"), "platform"),
        techniques=tuple(techniques),
        version=m.get("version"),
        kept=_kept(m, ("version", "file_type", "name", "domain", "platform", "techniques")),
    )


def _score_entries(entries: tuple[DettectScoreEntry, ...]) -> list[dict]:
    out = []
    for e in entries:
        book = [
            _emit(s.kept, {"date": s.date, "score": s.score, "comment": s.comment, "auto_generated": s.auto_generated})
            for s in e.score_logbook
        ]
        out.append(
            _emit(
                e.kept,
                {
                    "applicable_to": list(e.applicable_to),
                    "comment": e.comment,
                    "score_logbook": book,
                    "location": list(e.location) if e.location is not None else None,
                },
            )
        )
    return out


def techniques_dict(a: DettectTechniques) -> dict:
    return _emit(
        a.kept,
        {
            "version": a.version,
            "file_type": "technique-administration",
            "name": a.name,
            "domain": _domain_name(a.domain),
            "platform": list(a.platform),
            "techniques": [
                _emit(
                    t.kept,
                    {
                        "technique_id": t.technique_id,
                        "technique_name": t.technique_name,
                        "detection": _score_entries(t.detection),
                        "visibility": _score_entries(t.visibility),
                    },
                )
                for t in a.techniques
            ],
        },
    )


# -- groups ---------------------------------------------------------------------------------
def read_groups(path: Path, *, limits: Limits = DEFAULT) -> DettectGroups:
    m, r = load_yaml(path, "group-administration", limits)
    groups = []
    for i, g in enumerate(r.items(r.need(m, "groups", "(top)"), "groups")):
        where = f"groups[{i}]"
        g = r.mapping(g, where)
        techniques = r.texts(g.get("technique_id"), f"{where}.technique_id")
        for tid in techniques:
            if not _TECHNIQUE.match(tid.strip().upper()):
                raise r.fail(f"{where}.technique_id", f"{tid!r} is not an ATT&CK technique id")
        software = g.get("software_id")
        software_ids = r.texts(software, f"{where}.software_id") if software is not None else None
        for sid in software_ids or ():
            if not _SOFTWARE.match(sid.strip().upper()):
                raise r.fail(f"{where}.software_id", f"{sid!r} is not an ATT&CK software id (S1234)")
        enabled = g.get("enabled", True)
        if not isinstance(enabled, bool):
            raise r.fail(where, f"enabled must be true or false, not {enabled!r}")
        groups.append(
            DettectGroup(
                group_name=r.text(r.need(g, "group_name", where), f"{where}.group_name", empty_ok=False),
                campaign=r.text(g.get("campaign"), f"{where}.campaign"),
                technique_id=techniques,
                software_id=software_ids,
                enabled=enabled,
                kept=_kept(g, ("group_name", "campaign", "technique_id", "software_id", "enabled")),
            )
        )
    return DettectGroups(
        domain=DOMAINS[m.get("domain", "enterprise-attack")],
        platform=r.texts(m.get("platform"), "platform"),
        groups=tuple(groups),
        version=m.get("version"),
        kept=_kept(m, ("version", "file_type", "domain", "platform", "groups")),
    )


def groups_dict(a: DettectGroups) -> dict:
    return _emit(
        a.kept,
        {
            "version": a.version,
            "file_type": "group-administration",
            "domain": _domain_name(a.domain),
            "platform": list(a.platform),
            "groups": [
                _emit(
                    g.kept,
                    {
                        "group_name": g.group_name,
                        "campaign": g.campaign,
                        "technique_id": list(g.technique_id),
                        "software_id": list(g.software_id) if g.software_id is not None else None,
                        "enabled": g.enabled,
                    },
                )
                for g in a.groups
            ],
        },
    )


# -- writing ----------------------------------------------------------------------------------
def _domain_name(domain: str) -> str:
    return {v: k for k, v in DOMAINS.items()}[domain]


def _emit(kept: Kept, values: dict[str, Any]) -> dict:
    """The mapping as it was read: its keys in their order, modelled values from
    `values`, the others from `kept.extra`; a record made here (no keys kept) gets every
    modelled key that has a value."""
    extra = dict(kept.extra)
    keys = kept.keys or tuple(k for k, v in values.items() if v is not None)
    return {k: values[k] if k in values else extra.get(k) for k in keys}


def dump_yaml(data: dict) -> str:
    # lazy: PyYAML costs ~20 ms to import; only reading YAML needs it
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)


def write_dettect(path: Path, data: dict) -> None:
    write_atomic(path, dump_yaml(data).encode("utf-8"))
