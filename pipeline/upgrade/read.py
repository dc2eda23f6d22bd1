"""Layers as users keep them → checked inputs, or one clear line per bad layer.

A layer is a file written by a person or by another tool, so everything about it is
checked before any of it is used: size (before reading), UTF-8, JSON, the shape of
layer format 4.x (the 4.5 JSON Schema, with any 4.x format version accepted), fields
unknown to the format, and the domain. The first problem of a layer is its one line:
a layer with ten problems is one bad file, not ten reports.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import orjson

from pipeline.core.errors import InputError
from pipeline.render.navigator.validate import SCHEMA_FILE

# The largest layer of a full build is under 1 MB; a user's layer of every technique with
# long comments stays far below this. Anything larger is refused before it is read.
MAX_LAYER_BYTES = 32 * 1024 * 1024
DOMAINS = {"enterprise-attack": "enterprise", "mobile-attack": "mobile", "ics-attack": "ics"}


@dataclass(frozen=True, slots=True)
class LayerInput:
    """One layer to upgrade: where it came from (`label`, for messages) and where its
    upgrade goes (`out_rel`, a relative POSIX path without suffix)."""

    label: str
    out_rel: str
    doc: dict

    @property
    def domain(self) -> str:
        return DOMAINS[self.doc["domain"]]


@functools.cache
def _input_validator():
    """The 4.5 schema, relaxed to every 4.x format version (the fields are the same set;
    4.5 pins `versions.layer` and requires `versions.navigator`)."""
    # lazy: jsonschema costs over a second to import; only validating against a schema needs it
    from jsonschema import Draft202012Validator

    schema = copy.deepcopy(json.loads(SCHEMA_FILE.read_text()))
    versions = schema["properties"]["versions"]
    versions["required"] = ["layer"]
    versions["properties"]["layer"] = {"type": "string", "pattern": r"^4\.[0-9]+$"}
    versions["properties"]["navigator"] = {"type": "string"}
    return Draft202012Validator(schema)


def _where(path) -> str:
    parts = [f"[{p}]" if isinstance(p, int) else f".{p}" for p in path]
    return "".join(parts).lstrip(".") or "(top)"


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )


_ENTRY_ID = re.compile(r"^T[0-9]{4}(\.[0-9]{3})?$")
_TACTIC = re.compile(r"^[a-z]+(-[a-z]+)*$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def _pairs(items, first: str, second: str, pattern: re.Pattern | None = None) -> bool:
    """A metadata or links list of the plain form: {first, second} strings or dividers."""
    if not isinstance(items, list):
        return False
    for item in items:
        if not isinstance(item, dict):
            return False
        if item.keys() == {"divider"}:
            if not isinstance(item["divider"], bool):
                return False
        elif item.keys() != {first, second} or not isinstance(item[first], str) or not isinstance(item[second], str):
            return False
        elif pattern is not None and not pattern.match(item[second]):
            return False
    return True


def _plain_entry(e) -> bool:
    """True for an entry that the schema's technique definition accepts, checked directly:
    the JSON Schema validator takes seconds on a layer of thousands of entries, so it only
    runs (for its message) on an entry this check does not clear."""
    if not isinstance(e, dict) or not isinstance(e.get("techniqueID"), str) or not _ENTRY_ID.match(e["techniqueID"]):
        return False
    for key, value in e.items():
        if key == "techniqueID":
            continue
        if key == "tactic":
            ok = isinstance(value, str) and bool(_TACTIC.match(value))
        elif key == "comment":
            ok = isinstance(value, str)
        elif key in ("enabled", "showSubtechniques"):
            ok = isinstance(value, bool)
        elif key == "score":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif key == "color":
            ok = isinstance(value, str) and (value == "" or bool(_COLOR.match(value)))
        elif key == "metadata":
            ok = _pairs(value, "name", "value")
        elif key == "links":
            ok = _pairs(value, "label", "url", _URL)
        else:
            ok = False
        if not ok:
            return False
    return True


def _schema_problem(doc: dict) -> tuple[str, str] | None:
    """(record, problem) of the first schema error, in document order, worded for a person
    (jsonschema's own messages quote the offending value, which may be megabytes)."""
    entries = doc.get("techniques")
    bad: list[int] = []
    if isinstance(entries, list):
        # Entries the direct check clears stay out of the (slow) schema validation.
        bad = [i for i, entry in enumerate(entries) if not _plain_entry(entry)]
        doc = dict(doc, techniques=[entries[i] for i in bad])
    errors = sorted(_input_validator().iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    if not errors:
        return None
    e = errors[0]
    # The deepest, most specific error of an anyOf/oneOf.
    while e.context:
        e = sorted(e.context, key=lambda c: -len(c.absolute_path))[0]
    path = list(e.absolute_path)
    if len(path) > 1 and path[0] == "techniques" and isinstance(path[1], int):
        path[1] = bad[path[1]]  # back to the entry's position in the layer
    where = _where(path)
    if e.validator == "additionalProperties":
        extra = sorted(set(e.instance) - set(e.schema.get("properties", {})))
        return where, f"unknown field {extra[0]!r} (not in layer format 4.x)"
    if e.validator == "required":
        return where, f"missing required field {e.message.split(' ')[0]}"
    if e.validator == "type":
        return where, f"must be {e.validator_value if isinstance(e.validator_value, str) else ' or '.join(e.validator_value)}, not {_kind(e.instance)}"
    if e.validator == "enum" and e.absolute_path and e.absolute_path[-1] == "domain":
        return where, f"{_short(e.instance)} is not an ATT&CK domain (enterprise-attack, mobile-attack, ics-attack)"
    if e.validator == "pattern" and list(e.absolute_path) == ["versions", "layer"]:
        return where, f"layer format {_short(e.instance)} is not 4.x"
    if e.validator == "pattern":
        return where, f"{_short(e.instance)} does not match {e.validator_value}"
    return where, f"{_short(e.instance)}: not allowed here ({e.validator})"


def _short(value) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:59] + "…")
    return _kind(value) if isinstance(value, (dict, list)) else repr(value)


def check_layer(doc, label: str, *, domain: str | None = None) -> None:
    """Raise InputError (file = `label`) for the first problem of a layer document."""
    if not isinstance(doc, dict):
        raise InputError(f"a layer must be a JSON object, not {_kind(doc)}", file=label)
    found = _schema_problem(doc)
    if found is not None:
        record, problem = found
        raise InputError(problem, file=label, record=record)
    if domain is not None and DOMAINS[doc["domain"]] != domain:
        raise InputError(f"a layer for {doc['domain']}, not {domain} (--domain)", file=label, record="domain")


def _load(path: Path, label: str):
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=label) from None
    if size > MAX_LAYER_BYTES:
        raise InputError(f"file is {size:,} bytes, over the {MAX_LAYER_BYTES:,}-byte limit for a layer", file=label)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=label) from None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})", file=label) from None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        line = data[: exc.pos].count(b"\n") + 1 if exc.pos is not None else None
        where = f" (line {line})" if line else ""
        raise InputError(f"not valid JSON: {exc.msg}{where}", file=label) from None


def _files(arg: Path) -> list[tuple[Path, str]]:
    """(file, output stem) for a file, or every *.json under a folder (sorted, recursive)."""
    if arg.is_dir():
        found = sorted(p for p in arg.rglob("*.json") if p.is_file())
        return [(p, PurePosixPath(p.relative_to(arg).as_posix()).with_suffix("").as_posix()) for p in found]
    return [(arg, arg.stem)]


def read_layers(args: list[Path], *, domain: str | None = None) -> tuple[list[LayerInput], list[InputError]]:
    """Every layer named by `args`; the problems are returned, not raised, so that every
    bad layer of a batch is reported in one run."""
    layers: list[LayerInput] = []
    problems: list[InputError] = []
    for arg in args:
        if not arg.exists():
            problems.append(InputError("no such file or folder", file=str(arg)))
            continue
        for path, stem in _files(arg):
            label = str(path)
            try:
                doc = _load(path, label)
            except InputError as exc:
                problems.append(exc)
                continue
            items = list(enumerate(doc, 1)) if isinstance(doc, list) else [(0, doc)]
            if isinstance(doc, list) and not doc:
                problems.append(InputError("an empty list: no layer to upgrade", file=label))
            for i, item in items:
                item_label = f"{label}#{i}" if i else label
                try:
                    check_layer(item, item_label, domain=domain)
                except InputError as exc:
                    problems.append(exc)
                    continue
                layers.append(LayerInput(label=item_label, out_rel=f"{stem}-{i}" if i else stem, doc=item))
    return layers, problems
