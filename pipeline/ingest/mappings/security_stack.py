"""Security-stack mapping YAML (one file per capability; `mapping_format.md`) → `MappingTable`.

A file scores one capability against techniques: `technique-scores` for the technique
and `sub-techniques-scores` blocks that apply a list of scores to a list of
sub-techniques. Each (technique or sub-technique, score) pair becomes one `Mapping`,
as Mappings Explorer does when it converts these files; a sub-technique row keeps its
technique in `related_score`. A file without techniques is a capability that was
judged not mappable and becomes one `non_mappable` row carrying its comments.
The capability id is derived from its name the way Mappings Explorer does
(`Network Security Groups` → `network_security_groups`).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from pipeline.ingest.mappings.common import TableBuilder, TableSpec, read_bytes, text, texts
from pipeline.ingest.mappings.ids import slug_id
from pipeline.core.limits import DEFAULT, Limits, YamlLimitError, yaml_load
from pipeline.model.controls import Capability, MappingTable


def _version(value: object) -> str | None:
    """`ATT&CK version: 10` (an int in YAML) → `10.0`; `8.2` → `8.2`."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return f"{value}.0"
    if isinstance(value, float):
        return f"{value:.1f}" if value == round(value, 1) else None
    if isinstance(value, str):
        v = value.strip()
        parts = v.split(".")
        if all(p.isdigit() for p in parts) and 1 <= len(parts) <= 2:
            return v if len(parts) == 2 else f"{v}.0"
    return None


_FAILED = object()
# The keys the published layout (`mapping_format.md`) ends a file with, after `techniques`.
_CLOSING = ("comments", "references")


def _load(data: bytes, b: TableBuilder, file: str, limits: Limits):
    """The YAML document, or `_FAILED` after reporting why it could not be read."""
    try:
        return yaml_load(data, limits=limits)
    except YamlLimitError as exc:
        b.issue("bad-yaml", str(exc), None, file)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None
        b.issue("bad-yaml", f"not valid YAML: {exc.problem or exc}", where, file)
    except (yaml.YAMLError, ValueError, OverflowError, RecursionError) as exc:
        b.issue("bad-yaml", f"not valid YAML: {exc}", None, file)
    return _FAILED


def _scores(b: TableBuilder, scores: object, where: str, file: str, **row) -> None:
    if not isinstance(scores, list) or not scores:
        b.rows += 1
        b.skip("missing-score", "entry has no scores; skipped", where, file)
        return
    for j, score in enumerate(scores):
        b.rows += 1
        at = f"{where}[{j}]"
        if not isinstance(score, dict):
            b.skip("missing-score", "score is not a mapping with category and value; skipped", at, file)
            continue
        b.row(
            at,
            file=file,
            score_category=score.get("category"),
            score_value=score.get("value"),
            comments=score.get("comments"),
            **row,
        )


def read_security_stack_file(path: Path, b: TableBuilder, file: str, limits: Limits = DEFAULT) -> None:
    """Add the rows of one capability file to `b`."""
    doc = _document(path, b, file, limits)
    if doc is None:
        return
    found = _capability(doc, b, file)
    if found is None:
        return
    common, comments = found
    techniques = doc.get("techniques")
    if techniques is None or techniques == []:
        b.rows += 1
        b.row("techniques", file=file, technique=None, mapping_type="non_mappable", status="non_mappable", comments=comments, **common)
        return
    if not isinstance(techniques, list):
        b.issue("bad-format", "`techniques` is not a list; skipped", "techniques", file)
        return
    for i, entry in enumerate(techniques):
        where = f"techniques[{i}]"
        if not isinstance(entry, dict):
            b.rows += 1
            b.skip("bad-row", "technique entry is not a mapping; skipped", where, file)
            continue
        tid = entry.get("id")
        _scores(
            b, entry.get("technique-scores"), f"{where}.technique-scores", file,
            technique=tid, technique_name=entry.get("name"), mapping_type="technique-scores", **common,
        )
        blocks = entry.get("sub-techniques-scores")
        if blocks is None:
            continue
        if not isinstance(blocks, list):
            b.issue("bad-format", "`sub-techniques-scores` is not a list; skipped", f"{where}.sub-techniques-scores", file)
            continue
        for k, block in enumerate(blocks):
            _sub_technique_rows(b, block, f"{where}.sub-techniques-scores[{k}]", file, tid, common)


def _document(path: Path, b: TableBuilder, file: str, limits: Limits) -> dict | None:
    """The file's YAML mapping, or None when it has none to read (reported)."""
    data = read_bytes(path, b.issue, file, limits=limits)
    if data is None:
        return None
    doc = _load(data, b, file, limits)
    if doc is _FAILED:
        return None
    if doc is None:
        b.issue("empty-file", "file holds no YAML document; nothing read", None, file)
        return None
    if not isinstance(doc, dict):
        b.issue("bad-format", f"top level is a YAML {type(doc).__name__}, not a mapping; skipped", None, file)
        return None
    if not data.endswith((b"\n", b"\r")) and doc and list(doc)[-1] not in _CLOSING:
        # A YAML file cut mid-line often still parses, into a capability with fewer
        # techniques (or none: "not mappable"). Its last line then has no line end.
        b.issue("truncated", f"ends without a line end in `{list(doc)[-1]}`, before the closing `comments`/`references`: the file is cut short", None, file)
        return None
    return doc


def _capability(doc: dict, b: TableBuilder, file: str) -> tuple[dict, str] | None:
    """Record the file's capability in `b`; (the fields every row of it shares, its
    comments), or None when it has no name (reported)."""
    name = text(doc.get("name")).strip()
    if not name:
        b.issue("missing-id", "no capability `name`; file skipped", "name", file)
        return None
    cap_id = slug_id(name)
    version = _version(doc.get("ATT&CK version"))
    if version is None:
        b.issue("metadata-mismatch", f"`ATT&CK version` {doc.get('ATT&CK version')!r} is not a release number; {b.attack_version!r} used", "ATT&CK version", file)
        version = b.attack_version
    elif b.attack_version and version != b.attack_version:
        b.issue("metadata-mismatch", f"`ATT&CK version` is {version}, the sources file says {b.attack_version}; the file's value is used", "ATT&CK version", file)
    platform = text(doc.get("platform")).strip()
    if platform and b.framework and platform.lower() != b.framework.lower():
        b.issue("metadata-mismatch", f"platform {platform!r} is not the source's framework {b.framework!r}", "platform", file)
    references = texts(doc.get("references"))
    comments = text(doc.get("comments")).strip()
    if cap_id in b.capabilities:
        b.issue("duplicate-row", f"capability {cap_id!r} is also described by another file; rows of both kept", "name", file)
    b.capabilities.setdefault(
        cap_id,
        Capability(
            framework=b.framework,
            framework_version=b.framework_version,
            capability_id=cap_id,
            name=name,
            group=cap_id,
            group_name=name,
            description=text(doc.get("description")).strip(),
            platform=platform,
            tags=texts(doc.get("tags")),
            references=references,
            comments=comments,
        ),
    )
    common = {
        "subject": cap_id,
        "subject_name": name,
        "group": cap_id,
        "group_name": name,
        "references": references,
        "attack_version": version,
        "original_subject": name,
    }
    return common, comments


def _sub_technique_rows(b: TableBuilder, block: object, where: str, file: str, tid: object, common: dict) -> None:
    """The rows of one `sub-techniques-scores` block: its scores for each of its sub-techniques."""
    subs = block.get("sub-techniques") if isinstance(block, dict) else None
    if not isinstance(subs, list) or not subs:
        b.rows += 1
        b.skip("bad-row", "block has no `sub-techniques` list; skipped", where, file)
        return
    for s, sub in enumerate(subs):
        swhere = f"{where}.sub-techniques[{s}]"
        if not isinstance(sub, dict):
            b.rows += 1
            b.skip("bad-row", "sub-technique is not a mapping with id and name; skipped", swhere, file)
            continue
        _scores(
            b, block.get("scores"), f"{swhere}.scores", file,
            technique=sub.get("id"), technique_name=sub.get("name"), mapping_type="sub-techniques-scores",
            related_score=tid if isinstance(tid, str) else None, **common,
        )


def read_security_stack(folder: Path, spec: TableSpec, *, file: str | None = None) -> MappingTable:
    """Every file of a platform folder; a bad file is reported and the others still load."""
    file = file or str(folder)
    b = spec.builder(file)
    try:
        entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    except OSError as exc:
        b.issue("unreadable", f"cannot list folder: {exc.strerror or exc}")
        return b.table()
    for path in entries:
        if path.is_dir():
            continue
        read_security_stack_file(path, b, f"{file}/{path.name}", spec.limits)
    return b.table()
