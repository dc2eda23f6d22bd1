"""What pages quote from an ATT&CK bundle beyond the records: citations and contributors.

ATT&CK descriptions cite sources as `(Citation: Name)`; the name is the `source_name`
of an external reference on the citing object, with its URL and description. The
records of `pipeline.model.attack` leave references and `x_mitre_contributors` out (no other
stage needs them, and the release diff compares every record field), so the pages
read them here, once per bundle, into two lookups. Malformed entries are skipped:
this is decoration, never a reason to stop a build.

Reading a bundle costs half a second, so the lookups are cached as JSON beside the
parsed releases (`parsed/attack-texts/`), keyed by the bundle's path, size and
modification time and by this module's code; the cache is read back through the same
type checks as a bundle, so a damaged entry is only a miss.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable

import orjson

from pipeline.ingest.attack import ATTACK_SOURCE_NAMES, KIND_OF_TYPE, _attack_ref
from pipeline.core.limits import DEFAULT, Limits
from pipeline.ingest.bundle import read_bundle
from pipeline.ingest.release_cache import NO_CACHE_ENV
from pipeline.model.attack import AttackTexts, Reference
from pipeline.fetch.cache import install_file


def texts_of_objects(objects: Iterable) -> AttackTexts:
    references: dict[str, Reference] = {}
    contributors: dict[str, tuple[str, ...]] = {}
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        refs = obj.get("external_references")
        for ref in refs if isinstance(refs, list) else ():
            if not isinstance(ref, dict):
                continue
            name = ref.get("source_name")
            if not isinstance(name, str) or not name or name in ATTACK_SOURCE_NAMES or name in references:
                continue
            url, desc = ref.get("url"), ref.get("description")
            references[name] = Reference(name=name, url=url if isinstance(url, str) else "", description=desc if isinstance(desc, str) else "")
        names = obj.get("x_mitre_contributors")
        kind = KIND_OF_TYPE.get(obj.get("type", "")) if isinstance(obj.get("type"), str) else None
        if kind and isinstance(names, list) and not obj.get("revoked"):
            attack = _attack_ref(obj)
            people = tuple(n.strip() for n in names if isinstance(n, str) and n.strip())
            if attack is not None and people:
                contributors.setdefault(f"{kind}:{attack['external_id']}", people)
    return AttackTexts(references=references, contributors=contributors)


def read_attack_texts(path: Path, *, limits: Limits = DEFAULT) -> AttackTexts:
    objects, _spec = read_bundle(path, limits=limits)
    return texts_of_objects(objects)


def merge(parts: Iterable[AttackTexts]) -> AttackTexts:
    """Several domains' lookups as one (the first domain's entry wins a shared name)."""
    references: dict[str, Reference] = {}
    contributors: dict[str, tuple[str, ...]] = {}
    for p in parts:
        for k, v in p.references.items():
            references.setdefault(k, v)
        for k, v in p.contributors.items():
            contributors.setdefault(k, v)
    return AttackTexts(references=references, contributors=contributors)


def _as_json(t: AttackTexts) -> bytes:
    return orjson.dumps(
        {
            "references": [[r.name, r.url, r.description] for r in t.references.values()],
            "contributors": [[k, list(v)] for k, v in t.contributors.items()],
        }
    )


def _from_json(data: bytes) -> AttackTexts:
    doc = orjson.loads(data)
    refs = {}
    for entry in doc["references"]:
        name, url, desc = entry
        if not all(isinstance(x, str) for x in entry):
            raise ValueError("bad reference")
        refs[name] = Reference(name=name, url=url, description=desc)
    people = {}
    for key, names in doc["contributors"]:
        if not isinstance(key, str) or not all(isinstance(n, str) for n in names):
            raise ValueError("bad contributors")
        people[key] = tuple(names)
    return AttackTexts(references=refs, contributors=people)


def _entry(path: Path, cache: Path) -> Path:
    st = path.stat()
    code = Path(__file__).read_bytes()
    key = hashlib.sha256(f"{path.resolve()}\0{st.st_size}\0{st.st_mtime_ns}\0".encode() + code).hexdigest()[:32]
    return cache / "parsed" / "attack-texts" / f"{key}.json"


def _keep(entry: Path, texts: AttackTexts) -> None:
    try:
        install_file(entry, lambda fh: fh.write(_as_json(texts)), lambda _p: None)
    except OSError:
        pass  # a read-only or full cache only costs time


def cached_attack_texts(path: Path, cache: Path | None, *, limits: Limits = DEFAULT) -> AttackTexts:
    """`read_attack_texts(path)`, answered from `cache` when the bundle is unchanged."""
    if cache is None or os.environ.get(NO_CACHE_ENV):
        return read_attack_texts(path, limits=limits)
    entry = _entry(path, cache)
    try:
        return _from_json(entry.read_bytes())
    except (OSError, ValueError, TypeError, KeyError):
        pass
    texts = read_attack_texts(path, limits=limits)
    _keep(entry, texts)
    return texts


def keep_attack_texts(path: Path, cache: Path | None, objects: list) -> None:
    """Puts the lookups of the bundle at `path`, whose `objects` the caller has just read,
    into `cache`, where `cached_attack_texts` finds them: a build reads its target
    releases' bundles to parse them (when the parsed releases are not cached), and its
    pages want their citations, which would read them again (0.26 s for Enterprise 18.1,
    against 0.03 s to take the lookups from the objects at hand)."""
    if cache is None or os.environ.get(NO_CACHE_ENV):
        return
    try:
        entry = _entry(path, cache)
    except OSError:
        return
    _keep(entry, texts_of_objects(objects))
