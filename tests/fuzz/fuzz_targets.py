"""Every parser of untrusted input, with the contract it must keep and real seed files.

Shared by the hypothesis tests of this folder and by `bench/fuzz_parsers.py` (the
mutation run), so both exercise exactly the same entry points and judge the outcome
the same way. The contract: on any input a parser returns its records, or raises the
project's own error (`PipelineError`), or reports `Issue`s; every message is one line
naming the file (and, for issues, they carry the file). Anything else — another
exception, a multi-line or anonymous message — is a failure.
"""

from __future__ import annotations

import gzip
import io
import json as _json
import math
import os
import random
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import orjson

from pipeline.core.errors import Issue, PipelineError

ROOT = Path(__file__).resolve().parents[2]
TECHNIQUE = re.compile(r"^T\d{4}(\.\d{3})?$")


class ContractViolation(AssertionError):
    """The parser broke its contract on an input."""


@dataclass(frozen=True, slots=True)
class Target:
    """One parser: `run(path)` parses the file at `path` (named `suffix`); `seeds` are
    files of the offline mirror (or of the repository, prefixed `repo:`); `shrink` turns
    a large real seed into a small one of the same shape for byte-level mutation."""

    name: str
    suffix: str
    seeds: tuple[str, ...]
    run: Callable[[Path], object]
    check: Callable[[object, Path], int]
    shrink: Callable[[bytes], bytes] | None = None


def _one_line(message: str, path: Path, what: str) -> None:
    if "\n" in message or "\r" in message:
        raise ContractViolation(f"{what} spans lines: {message[:300]!r}")
    if str(path) not in message and path.name not in message:
        raise ContractViolation(f"{what} does not name the file: {message[:300]!r}")


def _issues(issues, path: Path) -> None:
    for issue in issues:
        if not isinstance(issue, Issue):
            raise ContractViolation(f"not an Issue: {issue!r}")
        if not issue.file or (str(path) not in issue.file and path.name not in issue.file):
            raise ContractViolation(f"issue without the file: {issue!r}")
        _one_line(issue.one_line(), path, "issue")


# -- parsers -------------------------------------------------------------------------------


def _attack(path: Path):
    from pipeline.ingest.attack import read_attack_release

    return read_attack_release(path, domain="enterprise", version="18.1")


def _check_attack(release, path: Path) -> int:
    from pipeline.graph import query
    from pipeline.graph.build import build_graph

    _issues(release.issues, path)
    for obj in release.objects.values():
        if not obj.attack_id:
            raise ContractViolation(f"object without an ATT&CK id: {obj!r}")
    query.stats(build_graph([release]))  # the graph accepts whatever the reader returned
    return len(release.objects)


def _spec(fmt: str, **kw):
    from pipeline.ingest.mappings import TableSpec

    base = {"source_id": f"fuzz/{fmt}", "format": fmt, "framework": "nist_800_53", "framework_version": "rev5", "attack_version": "14.1"}
    return TableSpec(**(base | kw))


def _mapex(path: Path):
    from pipeline.ingest.mappings.mapex import read_mapex

    return read_mapex(path, _spec("mapex-json"))


def _stix_mappings(path: Path):
    from pipeline.ingest.mappings.stix_bundle import read_stix_mappings

    return read_stix_mappings(path, _spec("stix-mappings"))


def _security_stack(path: Path):
    from pipeline.ingest.mappings.security_stack import read_security_stack

    return read_security_stack(path.parent, _spec("security-stack-yaml", framework="azure", framework_version="", attack_version="8.2"))


def _universes():
    from pipeline.ingest.mappings import Universe

    return Universe(["T1003", "T1003.001", "T1046", "T1059", "T1059.001"]), Universe(["AC-2", "AC-4", "AC-2(1)", "SI-4", "CM-7"])


def _nist_tsv(path: Path):
    from pipeline.ingest.mappings.nist_tsv import read_nist_tsv

    techniques, controls = _universes()
    return read_nist_tsv(path, _spec("nist-mappings-tsv", attack_version="10.1"), techniques=techniques, controls=controls)


def _nist_xlsx(path: Path):
    from pipeline.ingest.mappings.nist_xlsx import read_nist_xlsx

    techniques, controls = _universes()
    return read_nist_xlsx(path, _spec("nist-mappings-xlsx", attack_version="12.1"), techniques=techniques, controls=controls)


def _check_table(table, path: Path) -> int:
    from pipeline.model.vocabulary import KINDS
    from pipeline.model.controls import MappingTable

    if not isinstance(table, MappingTable):
        raise ContractViolation(f"not a MappingTable: {type(table).__name__}")
    _issues(table.issues, path)
    for m in table.mappings:
        if m.kind not in KINDS or m.status not in ("complete", "non_mappable"):
            raise ContractViolation(f"bad mapping: {m!r}")
        if m.technique_id is not None and not TECHNIQUE.match(m.technique_id):
            raise ContractViolation(f"bad technique id: {m.technique_id!r}")
        if (m.subject_id is None or m.technique_id is None) and m.status != "non_mappable":
            raise ContractViolation(f"incomplete row not marked non_mappable: {m!r}")
    return len(table.mappings)


def _catalog_tsv(path: Path):
    from pipeline.ingest.mappings.nist_catalog import read_nist_catalog_tsv

    return read_nist_catalog_tsv(path, _spec("nist-controls-tsv"))


def _catalog_stix(path: Path):
    from pipeline.ingest.mappings.nist_catalog import read_nist_catalog_stix

    return read_nist_catalog_stix(path, _spec("nist-controls-stix"))


def _check_catalog(cat, path: Path) -> int:
    from pipeline.model.controls import ControlCatalog

    if not isinstance(cat, ControlCatalog):
        raise ContractViolation(f"not a ControlCatalog: {type(cat).__name__}")
    _issues(cat.issues, path)
    for key, control in cat.controls.items():
        if control.control_id != key:
            raise ContractViolation(f"catalogue key {key!r} holds {control.control_id!r}")
    return len(cat.controls)


_DETECTION_RELPATH = {
    "card": "Discovery/fuzz.md",
    "kql-txt": "Discovery/fuzz.txt",
    "sigma": "rules/fuzz.yml",
    "elastic-rule": "rules/fuzz.toml",
    "elastic-hunt": "hunting/aws/queries/fuzz.toml",
    "splunk": "detections/endpoint/fuzz.yml",
}
_DETECTION_MODULE = {
    "card": ("cards", "hunting-cards"),
    "kql-txt": ("cards", "hunting-cards"),
    "sigma": ("sigma", "sigma-yaml"),
    "elastic-rule": ("elastic", "elastic-toml"),
    "elastic-hunt": ("elastic", "elastic-toml"),
    "splunk": ("splunk", "splunk-yaml"),
}


def _detection(kind: str) -> Callable[[Path], object]:
    def run(path: Path):
        import importlib

        from pipeline.ingest.detections.common import FileContext, SourceInfo

        module_name, fmt = _DETECTION_MODULE[kind]
        module = importlib.import_module(f"pipeline.ingest.detections.{module_name}")
        relpath = _DETECTION_RELPATH[kind]
        ctx = FileContext(source=SourceInfo(name="fuzz", source_id="detections/fuzz", format=fmt, license="MIT"), relpath=relpath, file=str(path))
        return module.parse(path.read_bytes(), ctx), ctx

    return run


def _check_detections(result, path: Path) -> int:
    from pipeline.model.detections import Detection, detection_from_dict

    records, ctx = result
    if not isinstance(records, list):
        raise ContractViolation(f"not a list: {type(records).__name__}")
    _issues(ctx.issues, path)
    for record in records:
        if not isinstance(record, Detection):
            raise ContractViolation(f"not a Detection: {record!r}")
        if detection_from_dict(orjson.loads(orjson.dumps(record.as_dict()))) != record:
            raise ContractViolation(f"record does not survive the cache round trip: {record.id}")
        for ref in record.techniques:
            if not TECHNIQUE.match(ref.attack_id):
                raise ContractViolation(f"bad technique id {ref.attack_id!r} in {record.id}")
    return len(records)


def _config(path: Path):
    from pipeline.core.config import load_config

    return load_config(path)  # its limits are its own value: nothing of a fuzzed [settings] outlives it


def _check_config(config, path: Path) -> int:
    from pipeline.core.config import Config

    if not isinstance(config, Config):
        raise ContractViolation(f"not a Config: {type(config).__name__}")
    for s in config.sources:
        if not isinstance(s.id, str) or not isinstance(s.url, str) or not isinstance(s.mirror_path, str):
            raise ContractViolation(f"source with a non-text field: {s!r}")
        if s.mirror_path.startswith("/") or ".." in s.mirror_path.split("/"):
            raise ContractViolation(f"mirror path escapes the mirror: {s.mirror_path!r}")
    return len(config.sources)


# -- seeds ---------------------------------------------------------------------------------


def _trim_lists(data: bytes, keep: int = 40) -> bytes:
    """A large real JSON file cut to `keep` items per list (every object type kept), so a
    byte-level mutation costs milliseconds instead of seconds."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    doc = orjson.loads(data)

    def cut(value, depth=0):
        if isinstance(value, list):
            if depth <= 1 and value and all(isinstance(v, dict) and "type" in v for v in value[:50]):
                by_type: dict[str, list] = {}
                for v in value:
                    bucket = by_type.setdefault(str(v.get("type")), [])
                    if len(bucket) < max(2, keep // 8):
                        bucket.append(v)
                return [cut(v, depth + 1) for bucket in by_type.values() for v in bucket]
            return [cut(v, depth + 1) for v in value[:keep]]
        if isinstance(value, dict):
            return {k: cut(v, depth + 1) for k, v in value.items()}
        return value

    return orjson.dumps(cut(doc), option=orjson.OPT_INDENT_2)


def _trim_xlsx(data: bytes, keep: int = 40) -> bytes:
    """The real workbook's first `keep` rows of every sheet, written again by openpyxl
    (the real one has ~5,000 rows: 0.7 s a parse)."""
    from openpyxl import Workbook, load_workbook

    source = load_workbook(io.BytesIO(data), read_only=True)
    out = Workbook()
    out.remove(out.active)
    for ws in source.worksheets:
        sheet = out.create_sheet(ws.title)
        for n, row in enumerate(ws.iter_rows(values_only=True)):
            if n >= keep:
                break
            sheet.append(list(row))
    source.close()
    buf = io.BytesIO()
    out.save(buf)
    return buf.getvalue()


def _head_lines(data: bytes, keep: int = 60) -> bytes:
    """The first `keep` lines, and on to the end of the row if a quoted cell spans lines
    there: a seed cut inside a quoted cell is a file cut short, which the readers refuse."""
    lines = data.split(b"\n")
    head: list[bytes] = []
    quoted = False
    for line in lines:
        head.append(line)
        quoted ^= line.count(b'"') % 2 == 1
        if len(head) >= keep and not quoted:
            break
    return b"\n".join(head) + b"\n"


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("stix-attack", ".json", ("attack/ics-attack-18.1.json.gz", "attack/mobile-attack-18.1.json.gz", "attack/enterprise-attack-8.2.json.gz"),
               _attack, _check_attack, _trim_lists),
        Target("mapex-json", ".json", ("mappings/mappings-explorer/gcp/attack-10.0/gcp-06.28.2022/enterprise/gcp-06.28.2022_attack-10.0-enterprise.json",
                                       "mappings/mappings-explorer/kev/attack-16.1/kev-07.28.2025/mobile/kev-07.28.2025_attack-16.1-mobile.json",
                                       "mappings/mappings-explorer/veris/attack-16.1/veris-1.4.0/ics/veris-1.4.0_attack-16.1-ics.json"),
               _mapex, _check_table, _trim_lists),
        Target("stix-mappings", ".json", ("repo:tests/golden/stix-small/mappings/nist_800_53--rev5.json", "repo:tests/golden/stix-small/mappings/kev--07.28.2025.json"),
               _stix_mappings, _check_table, _trim_lists),
        Target("security-stack-yaml", ".yaml", ("mappings/security-stack/Azure/NetworkSecurityGroups.yaml", "mappings/security-stack/AWS/AmazonGuardDuty.yaml",
                                                "mappings/security-stack/GCP/CloudIDS.yaml"),
               _security_stack, _check_table),
        Target("nist-mappings-tsv", ".tsv", ("mappings/nist-800-53/data/mappings/attack-8-2-to-nist800-53-r5-mappings.tsv",
                                             "mappings/nist-800-53/data/mappings/attack-12-1-to-nist800-53-r4-mappings.tsv"),
               _nist_tsv, _check_table, _head_lines),
        Target("nist-mappings-xlsx", ".xlsx", ("mappings/nist-800-53/frameworks/attack_12_1/nist800_53_r5/nist800-53-r5-mappings.xlsx",),
               _nist_xlsx, _check_table, _trim_xlsx),
        Target("nist-controls-tsv", ".tsv", ("mappings/nist-800-53/data/controls/nist800-53-r5-controls.tsv", "mappings/nist-800-53/data/controls/nist800-53-r4-controls.tsv"),
               _catalog_tsv, _check_catalog, _head_lines),
        Target("nist-controls-stix", ".json", ("mappings/nist-800-53/frameworks/attack_12_1/nist800_53_r5/stix/nist800-53-r5-controls.json",),
               _catalog_stix, _check_catalog, _trim_lists),
        Target("hunting-card", ".md", ("detections/cards/T1046 Network Service Scanning.md", "detections/m365-hunting-queries/Discovery/DetectTorRelayConnectivity.md"),
               _detection("card"), _check_detections),
        Target("kql-txt", ".txt", ("detections/m365-hunting-queries/Command and Control/Tor.txt", "detections/m365-hunting-queries/Discovery/DetectTorrentUse.txt"),
               _detection("kql-txt"), _check_detections),
        Target("sigma-yaml", ".yml", ("detections/sigma/rules/windows/process_creation/proc_creation_win_pua_nmap_zenmap.yml",
                                      "detections/sigma/rules/windows/driver_load/driver_load_win_vuln_drivers.yml"),
               _detection("sigma"), _check_detections),
        Target("elastic-toml", ".toml", ("detections/elastic-detection-rules/rules/cross-platform/command_and_control_suricata_elastic_defend_c2.toml",),
               _detection("elastic-rule"), _check_detections),
        Target("elastic-hunt-toml", ".toml", ("detections/elastic-detection-rules/hunting/aws/queries/ec2_discovery_multi_region_describe_instance_calls.toml",),
               _detection("elastic-hunt"), _check_detections),
        Target("splunk-yaml", ".yml", ("detections/splunk-security_content/detections/network/internal_horizontal_port_scan.yml",
                                       "detections/splunk-security_content/detections/web/log4shell_jndi_payload_injection_with_outbound_connection.yml"),
               _detection("splunk"), _check_detections),
        Target("sources-toml", ".toml", ("repo:data/sources.toml",), _config, _check_config),
    )
}


def seed_bytes(target: Target, mirror: Path | None) -> list[bytes]:
    """The target's seeds that exist (repository seeds always; mirror seeds with a mirror)."""
    out = []
    for seed in target.seeds:
        if seed.startswith("repo:"):
            path = ROOT / seed.removeprefix("repo:")
        elif mirror is None:
            continue
        else:
            path = mirror / seed
        if not path.is_file():
            continue
        data = path.read_bytes()
        out.append(target.shrink(data) if target.shrink else data)
    return out


# -- TOML (tomllib reads only; the config fuzzers write the sources file) --------


def toml_key(key: str) -> str:
    return _json.dumps(key, ensure_ascii=False)


def toml_value(v) -> str:
    """TOML for a value (None, which TOML lacks, becomes an empty inline table)."""
    if v is None:
        return "{}"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return _json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + "}"


def toml_doc(doc: dict) -> str:
    """Top-level scalars first, then tables, then arrays of tables (as TOML requires)."""
    lines, tables = [], []
    for k, v in doc.items():
        if isinstance(v, dict):
            tables.append(f"[{toml_key(k)}]\n" + "".join(f"{toml_key(ik)} = {toml_value(iv)}\n" for ik, iv in v.items()))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            tables.extend(f"[[{toml_key(k)}]]\n" + "".join(f"{toml_key(ik)} = {toml_value(iv)}\n" for ik, iv in x.items()) for x in v)
        else:
            lines.append(f"{toml_key(k)} = {toml_value(v)}\n")
    return "".join(lines) + "\n".join(tables)


# -- one input -----------------------------------------------------------------------------


def outcome(target: Target, data: bytes, folder: Path) -> tuple[str, int]:
    """Write `data` as the target's file in `folder` (emptied first) and parse it:
    ("records", n) or ("error", 0) when the contract holds; ContractViolation otherwise."""
    for old in folder.iterdir():
        if old.is_file():
            old.unlink()
    path = folder / f"fuzz{target.suffix}"
    path.write_bytes(data)
    try:
        result = target.run(path)
    except PipelineError as exc:
        _one_line(exc.one_line(), path, "error")
        return "error", 0
    except ContractViolation:
        raise
    except RecursionError as exc:
        raise ContractViolation(f"RecursionError: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - exactly what the contract forbids
        raise ContractViolation(f"{type(exc).__name__}: {exc}"[:500]) from exc
    return "records", target.check(result, path)


# -- mutation ------------------------------------------------------------------------------

TOKENS = [b"|", b"`", b"```", b"\n", b"#", b":", b"[", b"]", b"{", b"}", b"'''", b'"', b"- ", b"\t", b"&a ", b"*a", b"\xff", b"\x00",
          b"T1046", b"T1003.001", b"AC-4", b"null", b"true", b"-1", b"1e999", b"[[[[[[[[", b"\\", b"\\u0000", b"\xef\xbb\xbf",
          b"${", b"<<: *a", b"!!python/object:os.system", b"=", b"[[rule.threat]]", b"\r\n", b"\t\t\t", b",", b"0x", b"\"\"\""]


def mutate(data: bytes, rng: random.Random, edits: int | None = None) -> bytes:
    """A few random edits of real bytes: deletions, insertions of format tokens, replaced
    bytes, a truncation, duplicated or swapped slices (AFL-style, seeded)."""
    buf = bytearray(data)
    for _ in range(edits if edits is not None else rng.randint(1, 8)):
        if not buf:
            buf += rng.choice(TOKENS)
            continue
        at = rng.randrange(len(buf))
        op = rng.randrange(7)
        if op == 0:
            del buf[at : at + rng.randint(1, 32)]
        elif op == 1:
            buf[at:at] = rng.choice(TOKENS)
        elif op == 2:
            buf[at] = rng.randrange(256)
        elif op == 3:
            del buf[at:]
        elif op == 4:
            end = min(len(buf), at + rng.randint(1, 256))
            buf[at:at] = buf[at:end] * rng.randint(1, 4)
        elif op == 5:
            other = rng.randrange(len(buf))
            n = rng.randint(1, 64)
            a, b = bytes(buf[at : at + n]), bytes(buf[other : other + n])
            buf[at : at + len(a)], buf[other : other + len(b)] = b, a
        else:
            buf[at] ^= 1 << rng.randrange(8)
    return bytes(buf)


def mutate_xlsx(data: bytes, rng: random.Random) -> bytes:
    """An xlsx is a zip: mutating its bytes only tests the zip reader. Mutate one member
    (a sheet, the shared strings, the workbook) and zip it again."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = [(i, zf.read(i.filename)) for i in zf.infolist()]
    except (zipfile.BadZipFile, OSError, EOFError):
        return mutate(data, rng)
    if not members:
        return mutate(data, rng)
    victim = rng.randrange(len(members))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, (info, body) in enumerate(members):
            zf.writestr(info.filename, mutate(body, rng) if n == victim else body)
    return out.getvalue()


def mutator(target: Target) -> Callable[[bytes, random.Random], bytes]:
    return mutate_xlsx if target.suffix == ".xlsx" else mutate


def mirror_or_none() -> Path | None:
    env = os.environ.get("ATTACK_PIPELINE_MIRROR")
    path = Path(env) if env else ROOT.parent / "shared" / "data"
    return path.resolve() if (path / "attack").is_dir() else None
