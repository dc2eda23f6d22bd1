"""`profiles/<name>.toml` → `Profile`: parsed with tomllib, checked key by key.

A profile file is written by people and edited in CI, so every mistake is one
`ConfigError` line naming the file, the key and the problem (`profiles/soc.toml:
threat.groups[3]: must be text, not int`); nothing is resolved against ATT&CK here (an
id that does not exist is reported by `pipeline.profile.resolve`, which knows the
release). Files a profile imports (DeTT&CT administration files, a Kibana export of
enabled rules, a folder of the team's own Sigma rules) are relative to the profile's
folder; their bytes join the profile's digest, so a build notices when any of them
changes.
"""

from __future__ import annotations

import hashlib
import math
import re
import tomllib
from pathlib import Path
from typing import Any

import orjson

from pipeline.core.errors import ConfigError, InputError, Issue
from pipeline.core.limits import DEFAULT, Limits, read_limited
from pipeline.model.domains import DOMAINS
from pipeline.model.detections import Detection
from pipeline.model.profile import STATUSES, ControlState, Profile, RuleSelection, ThreatRef, Weights
from pipeline.ingest.detections import elastic
from pipeline.ingest.detections import sigma
from pipeline.ingest.detections.common import FileContext, SourceInfo
from pipeline.ingest.profiles import dettect

OWN_SOURCE = "own"
MAX_TOP_N = 1000
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# Names Windows opens as devices, and page names the docs site gives a meaning (as in
# pipeline/render/naming.py): a profile id names a folder and a page.
_RESERVED = frozenset({"con", "prn", "aux", "nul", "index", "readme"} | {f"com{i}" for i in range(1, 10)} | {f"lpt{i}" for i in range(1, 10)})
_FRAMEWORK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

TOP_KEYS = ("profile", "weights", "controls", "detections", "data", "threat")
PROFILE_KEYS = ("name", "id", "description", "domain", "platforms", "top_n")
WEIGHT_KEYS = ("threat", "prevalence", "choke_point", "actionability", "resolved_group")
CONTROL_KEYS = ("version", *STATUSES)
DETECTION_KEYS = ("source", "ids", "paths", "all", "elastic_export", "sigma_folder")
DATA_KEYS = ("components", "log_sources", "dettect_data_sources", "dettect_techniques")
THREAT_KEYS = ("groups", "campaigns", "software", "sectors", "countries", "dettect_groups", "weights")


class _Checker:
    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(problem, file=self.file, record=key)

    def table(self, value: Any, key: str, allowed: tuple[str, ...] | None) -> dict:
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, not {_kind(value)}")
        if allowed is not None:
            for k in value:
                if k not in allowed:
                    raise self.fail(f"{key}.{k}" if key else k, f"unknown key (expected one of {', '.join(allowed)})")
        return value

    def text(self, value: Any, key: str, *, empty_ok: bool = False) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"must be text, not {_kind(value)}")
        if not empty_ok and not value.strip():
            raise self.fail(key, "must not be empty")
        if any(ord(c) < 32 and c not in "\t\n" for c in value):
            raise self.fail(key, "holds control characters")
        return value.strip()

    def texts(self, value: Any, key: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list of text, not {_kind(value)}")
        return tuple(self.text(v, f"{key}[{i}]") for i, v in enumerate(value))

    def number(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise self.fail(key, f"must be a number of at least 0, not {value!r}")
        return float(value)

    def flag(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {_kind(value)}")
        return value

    def path(self, value: Any, key: str, base: Path) -> Path:
        text = self.text(value, key)
        p = Path(text)
        return p if p.is_absolute() else base / p


def _kind(value: Any) -> str:
    names = {str: "text", int: "a whole number", float: "a number", bool: "true/false", list: "a list", dict: "a table"}
    return names.get(type(value), type(value).__name__)


class _Digest:
    def __init__(self) -> None:
        self.h = hashlib.sha256()

    def add(self, label: str, data: bytes) -> None:
        self.h.update(label.encode("utf-8") + b"\0" + hashlib.sha256(data).digest())


def read_bytes(path: Path, key: str, file: str, limits: Limits) -> bytes:
    try:
        return read_limited(path, str(path), limits=limits)
    except FileNotFoundError:
        raise ConfigError(f"file not found: {path}", file=file, record=key) from None
    except IsADirectoryError:
        raise ConfigError(f"is a folder, not a file: {path}", file=file, record=key) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}", file=file, record=key) from None
    except InputError as exc:
        raise ConfigError(exc.problem, file=file, record=key) from None


def load_profile(path: Path, *, limits: Limits = DEFAULT) -> tuple[Profile, list[Issue]]:
    """The profile and the warnings its imported rule files gave (a rule file that cannot
    be read is skipped and reported, like a corpus's); every file is read under `limits`."""
    path = Path(path)
    file = str(path)
    data = read_bytes(path, "", file, limits)
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})", file=file) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=file) from None
    except RecursionError:
        raise ConfigError("not valid TOML: nested too deeply", file=file) from None
    digest = _Digest()
    digest.add("profile", data)
    return parse_profile(raw, file, path.parent, digest, limits=limits)


def parse_profile(raw: dict, file: str, base: Path, digest: _Digest | None = None, *, limits: Limits = DEFAULT) -> tuple[Profile, list[Issue]]:
    """A profile's TOML table checked section by section, in the order its errors are
    reported: [profile], [weights], [controls], [[detections]], [data], [threat]."""
    c = _Checker(file)
    digest = digest or _Digest()
    c.table(raw, "", TOP_KEYS)
    head, name, slug, domain, top_n = _head(c, raw)
    weights = _weights(c, raw)
    controls = _controls(c, raw)
    rules, own, exported, issues = _detections(c, raw, base, file, digest, limits)
    components, log_sources, data_sources, techniques = _data(c, raw, base, file, digest, limits)
    threats, sectors, countries, groups_file = _threat(c, raw, base, file, digest, limits)
    profile = Profile(
        file=file,
        name=name,
        slug=slug,
        digest=digest.h.hexdigest(),
        description=c.text(head.get("description", ""), "profile.description", empty_ok=True),
        domain=domain,
        platforms=c.texts(head.get("platforms", []), "profile.platforms"),
        controls=tuple(controls),
        rules=tuple(rules),
        exported_rules=tuple(dict.fromkeys(exported)),
        own_rules=tuple(own),
        data_components=components,
        log_sources=log_sources,
        data_sources=data_sources,
        techniques=techniques,
        threats=tuple(threats),
        sectors=sectors,
        countries=countries,
        groups_file=groups_file,
        weights=weights,
        top_n=top_n,
    )
    return profile, issues


def _head(c: _Checker, raw: dict) -> tuple[dict, str, str, str, int]:
    """[profile]: the table, and its name, id (slug), domain and top_n checked."""
    head = c.table(raw.get("profile"), "profile", PROFILE_KEYS) if "profile" in raw else None
    if head is None:
        raise c.fail("profile", "missing table [profile] (name = \"…\" at least)")
    if "name" not in head:
        raise c.fail("profile.name", "missing: the organisation's name")
    name = c.text(head["name"], "profile.name")
    slug = c.text(head["id"], "profile.id") if "id" in head else _slug(name)
    if not _SLUG.match(slug):
        raise c.fail("profile.id", f"{slug!r} must be lower-case letters, digits, - and _ (at most 63), starting with a letter or digit")
    if slug.split(".", 1)[0] in _RESERVED:
        raise c.fail("profile.id", f"{slug!r} is a name Windows or the docs site reserves; choose another")
    domain = c.text(head.get("domain", "enterprise"), "profile.domain")
    if domain not in DOMAINS:
        raise c.fail("profile.domain", f"unknown domain {domain!r} (expected one of {', '.join(DOMAINS)})")
    top_n = head.get("top_n", 20)
    if isinstance(top_n, bool) or not isinstance(top_n, int) or not 1 <= top_n <= MAX_TOP_N:
        raise c.fail("profile.top_n", f"must be a whole number from 1 to {MAX_TOP_N}, not {top_n!r}")
    return head, name, slug, domain, top_n


def _weights(c: _Checker, raw: dict) -> Weights:
    """[weights]: the priority factors, at least one of them above 0."""
    weights = Weights()
    if "weights" in raw:
        w = c.table(raw["weights"], "weights", WEIGHT_KEYS)
        weights = Weights(**{k: c.number(v, f"weights.{k}") for k, v in w.items()})
        if not any(getattr(weights, k) for k in ("threat", "prevalence", "choke_point", "actionability")):
            raise c.fail("weights", "at least one of threat, prevalence, choke_point, actionability must be above 0")
    return weights


def _controls(c: _Checker, raw: dict) -> list[ControlState]:
    """[controls.<framework>]: each control in one status only."""
    controls: list[ControlState] = []
    for fw, body in c.table(raw.get("controls", {}), "controls", None).items():
        key = f"controls.{fw}"
        if not _FRAMEWORK.match(fw):
            raise c.fail(key, "framework ids are letters, digits and _ . - (e.g. nist_800_53, azure)")
        body = c.table(body, key, CONTROL_KEYS)
        version = c.text(body["version"], f"{key}.version") if "version" in body else ""
        seen: dict[str, str] = {}
        for status in STATUSES:
            for i, cid in enumerate(c.texts(body.get(status, []), f"{key}.{status}")):
                if cid in seen:
                    raise c.fail(f"{key}.{status}[{i}]", f"{cid!r} is already listed as {seen[cid]}")
                seen[cid] = status
                controls.append(ControlState(framework=fw, control_id=cid, status=status, version=version))
    return controls


def _detections(
    c: _Checker, raw: dict, base: Path, file: str, digest: _Digest, limits: Limits
) -> tuple[list[RuleSelection], list[Detection], list[tuple[str, str]], list[Issue]]:
    """[[detections]]: rules chosen from a corpus, and the team's own rules (an Elastic
    export or a Sigma folder, read and added to the digest), with their warnings."""
    issues: list[Issue] = []
    rules: list[RuleSelection] = []
    own: list[Detection] = []
    exported: list[tuple[str, str]] = []
    entries = raw.get("detections", [])
    if not isinstance(entries, list):
        raise c.fail("detections", f"must be an array of tables ([[detections]]), not {_kind(entries)}")
    for i, body in enumerate(entries):
        key = f"detections[{i}]"
        body = c.table(body, key, DETECTION_KEYS)
        kinds = [k for k in ("source", "elastic_export", "sigma_folder") if k in body]
        if len(kinds) != 1:
            raise c.fail(key, "needs exactly one of source, elastic_export, sigma_folder")
        if "source" in body:
            sel = RuleSelection(
                source=c.text(body["source"], f"{key}.source"),
                ids=c.texts(body.get("ids", []), f"{key}.ids"),
                paths=c.texts(body.get("paths", []), f"{key}.paths"),
                all=c.flag(body.get("all", False), f"{key}.all"),
            )
            if not (sel.ids or sel.paths or sel.all):
                raise c.fail(key, "names no rule: give ids, paths (globs) or all = true")
            rules.append(sel)
            continue
        extra = [k for k in ("ids", "paths", "all") if k in body]
        if extra:
            raise c.fail(f"{key}.{extra[0]}", f"only with source = \"…\", not with {kinds[0]}")
        if "elastic_export" in body:
            p = c.path(body["elastic_export"], f"{key}.elastic_export", base)
            data = read_bytes(p, f"{key}.elastic_export", file, limits)
            digest.add(f"elastic:{p.name}", data)
            found, ids, problems = read_elastic_export(data, str(p))
            own.extend(found)
            exported.extend(("elastic", rid) for rid in ids)
            issues.extend(problems)
        else:
            p = c.path(body["sigma_folder"], f"{key}.sigma_folder", base)
            if not p.is_dir():
                raise c.fail(f"{key}.sigma_folder", f"not a folder: {p}")
            found, problems = read_sigma_folder(p, digest, limits)
            own.extend(found)
            exported.extend(("sigma", d.native_id) for d in found)
            issues.extend(problems)
    return rules, own, exported, issues


def _data(c: _Checker, raw: dict, base: Path, file: str, digest: _Digest, limits: Limits):
    """[data]: components, log sources and the DeTT&CT files (read and added to the digest)."""
    components: tuple[str, ...] = ()
    log_sources: tuple[str, ...] = ()
    data_sources = techniques = None
    if "data" in raw:
        d = c.table(raw["data"], "data", DATA_KEYS)
        components = c.texts(d.get("components", []), "data.components")
        log_sources = c.texts(d.get("log_sources", []), "data.log_sources")
        if "dettect_data_sources" in d:
            p = c.path(d["dettect_data_sources"], "data.dettect_data_sources", base)
            digest.add("dettect-data-sources", read_bytes(p, "data.dettect_data_sources", file, limits))
            data_sources = _dettect(dettect.read_data_sources, p, "data.dettect_data_sources", file, limits)
        if "dettect_techniques" in d:
            p = c.path(d["dettect_techniques"], "data.dettect_techniques", base)
            digest.add("dettect-techniques", read_bytes(p, "data.dettect_techniques", file, limits))
            techniques = _dettect(dettect.read_techniques, p, "data.dettect_techniques", file, limits)
    return components, log_sources, data_sources, techniques


def _threat(c: _Checker, raw: dict, base: Path, file: str, digest: _Digest, limits: Limits):
    """[threat]: listed groups, campaigns and software with their weights, sectors,
    countries and a DeTT&CT group file (read and added to the digest)."""
    threats: list[ThreatRef] = []
    sectors: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    groups_file = None
    if "threat" in raw:
        t = c.table(raw["threat"], "threat", THREAT_KEYS)
        weights_of = {k: c.number(v, f"threat.weights.{k}") for k, v in c.table(t.get("weights", {}), "threat.weights", None).items()}
        listed: set[str] = set()
        for kind, key in (("group", "groups"), ("campaign", "campaigns"), ("software", "software")):
            for i, ref in enumerate(c.texts(t.get(key, []), f"threat.{key}")):
                if ref.lower() in listed:
                    raise c.fail(f"threat.{key}[{i}]", f"{ref!r} is listed twice")
                listed.add(ref.lower())
                threats.append(ThreatRef(kind=kind, ref=ref, weight=weights_of.get(ref, 1.0), why="listed"))
        unused = sorted(set(weights_of) - {r.ref for r in threats})
        if unused:
            raise c.fail(f"threat.weights.{unused[0]}", "weighs a group, campaign or software that threat.groups/campaigns/software does not list")
        sectors = c.texts(t.get("sectors", []), "threat.sectors")
        countries = c.texts(t.get("countries", []), "threat.countries")
        if "dettect_groups" in t:
            p = c.path(t["dettect_groups"], "threat.dettect_groups", base)
            digest.add("dettect-groups", read_bytes(p, "threat.dettect_groups", file, limits))
            groups_file = _dettect(dettect.read_groups, p, "threat.dettect_groups", file, limits)
    return threats, sectors, countries, groups_file


def _dettect(reader, path: Path, key: str, file: str, limits: Limits):
    try:
        return reader(path, limits=limits)
    except InputError as exc:
        raise ConfigError(f"{exc.one_line()}", file=file, record=key) from None


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63].strip("-")
    return slug or "profile"


def read_elastic_export(data: bytes, file: str) -> tuple[list[Detection], list[str], list[Issue]]:
    """Enabled rules of a Kibana detection-rules export (NDJSON). The export's closing
    summary line (`exported_count`) and disabled rules are skipped."""
    info = SourceInfo(name=OWN_SOURCE, source_id="profile", format="elastic-ndjson")
    out: list[Detection] = []
    ids: list[str] = []
    issues: list[Issue] = []
    for n, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        ctx = FileContext(info, f"line {n}", file)
        try:
            rule = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            issues.append(Issue(code="profile-rule-skipped", problem=f"not valid JSON ({exc}); skipped", file=file, record=f"line {n}"))
            continue
        if not isinstance(rule, dict) or ("rule_id" not in rule and ("exported_count" in rule or "exportedCount" in rule)):
            continue
        if rule.get("enabled") is False:
            continue
        try:
            d = elastic.rule_from_json(rule, ctx)
        except InputError as exc:
            issues.append(Issue(code="profile-rule-skipped", problem=exc.problem, file=file, record=f"line {n}"))
            continue
        issues.extend(ctx.issues)
        out.append(d)
        ids.append(d.native_id)
    return out, ids, issues


def read_sigma_folder(folder: Path, digest: _Digest, limits: Limits = DEFAULT) -> tuple[list[Detection], list[Issue]]:
    info = SourceInfo(name=OWN_SOURCE, source_id="profile", format=sigma.FORMAT, limits=limits)
    out: list[Detection] = []
    issues: list[Issue] = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if not p.is_file() or not sigma.wanted(rel):
            continue
        ctx = FileContext(info, rel, str(p))
        try:
            data = read_limited(p, str(p), limits=limits)
        except (OSError, InputError) as exc:
            issues.append(Issue(code="profile-rule-skipped", problem=f"cannot read ({exc}); skipped", file=str(p)))
            continue
        digest.add(f"sigma:{rel}", data)
        try:
            out.extend(sigma.parse(data, ctx))
        except InputError as exc:
            issues.append(Issue(code="profile-rule-skipped", problem=exc.problem, file=exc.file or str(p), record=exc.record))
            continue
        issues.extend(ctx.issues)
    return out, issues
