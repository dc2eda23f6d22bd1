"""What every detection adapter shares: decoding untrusted bytes, finding ATT&CK ids in
text, and naming tactics the same way whatever the format spells them.

Adapters are release-independent on purpose: they record ids and tactic names as
published, and only the reconcile step decides what they mean in the target release.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from pipeline.core.errors import InputError, Issue
from pipeline.core.limits import DEFAULT, Limits
from pipeline.model.detections import HOW_TECHNIQUE, Detection, TechniqueRef
from pipeline.core.limits import YamlLimitError, yaml_load_all

# No rule file of the public corpora is above 300 KB; anything far larger is a mistake
# or an attack on the parser, and is refused before it is parsed.
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ISSUES_PER_FILE = 10

_ID = r"T\d{4}(?:\.\d{3})?"
TECHNIQUE_ID = re.compile(rf"^{_ID}$")
# A bare id in prose: not part of a longer word or number (hashes, GUIDs, "T10460").
_BARE_ID = re.compile(rf"(?<![A-Za-z0-9_/.-])({_ID})(?![0-9A-Za-z_])")
# attack.mitre.org/techniques/T1484/001/ (current) and /wiki/Technique/T1135 (pre-2018).
_LINK_ID = re.compile(r"attack\.mitre\.org/(?:techniques|wiki/Technique)/(T\d{4})(?:[/.](\d{3}))?", re.IGNORECASE)
# Groups and software linked from prose: /groups/G0007/, /software/S0154/, /wiki/Software/S0183.
_LINK_OBJECT = re.compile(r"attack\.mitre\.org/(?:groups|software|wiki/Group|wiki/Software)/([GS]\d{4})", re.IGNORECASE)

# Tactic shortnames of every ATT&CK domain and release, old and new (Sigma already uses
# v19's stealth and defense-impairment). Cards name tactics in prose; a row is a tactic
# only if its name is one of these, otherwise it is kept as a tag.
KNOWN_TACTICS = frozenset(
    {
        "reconnaissance", "resource-development", "initial-access", "execution", "persistence",
        "privilege-escalation", "defense-evasion", "credential-access", "discovery", "lateral-movement",
        "collection", "command-and-control", "exfiltration", "impact", "stealth", "defense-impairment",
        "evasion", "inhibit-response-function", "impair-process-control", "network-effects",
        "remote-service-effects",
    }
)
_NON_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """The source a file belongs to: `name` is the short prefix of detection ids;
    `limits` are those its files are parsed under (they travel with it to the workers)."""

    name: str
    source_id: str
    format: str
    license: str = ""
    limits: Limits = DEFAULT


@dataclass(slots=True)
class FileContext:
    """One file being parsed: where it is (for messages) and the warnings it produced."""

    source: SourceInfo
    relpath: str
    file: str
    issues: list[Issue] = field(default_factory=list)

    @property
    def collection(self) -> str:
        return self.relpath.split("/", 1)[0] if "/" in self.relpath else ""

    def issue(self, code: str, problem: str, record: str | None = None) -> None:
        problem, record = one_line(problem), one_line(record) if record is not None else None
        # A hostile file must not flood the report: a handful per file, then one summary.
        if len(self.issues) < MAX_ISSUES_PER_FILE:
            self.issues.append(Issue(code=code, problem=problem, file=self.file, record=record))
        elif len(self.issues) == MAX_ISSUES_PER_FILE:
            self.issues.append(Issue(code="too-many-issues", problem="more problems in this file not listed", file=self.file))

    def record(self, fmt: str, native: str, **fields) -> Detection:
        """A record of this file: id, source, path, collection and license filled in."""
        fields.setdefault("collection", self.collection)
        return Detection(
            id=f"{self.source.name}:{native}",
            source=self.source.name,
            native_id=native,
            format=fmt,
            path=self.relpath,
            license=self.source.license,
            **fields,
        )

    def error(self, problem: str, record: str | None = None) -> InputError:
        return InputError(one_line(problem), file=self.file, record=one_line(record) if record is not None else None)


def _yaml_documents(text: str, ctx: FileContext) -> list:
    """Every document of a YAML file, loaded safely (libyaml when present) under the
    alias-expansion limit (a billion-laughs rule is refused before it is built).

    libyaml's composer recurses in C: tens of thousands of nested `[` or `- ` crash the
    interpreter instead of raising, so such files are refused before they are parsed
    (the `yaml_max_depth` limit)."""
    # lazy: PyYAML costs ~20 ms to import; only reading YAML needs it
    import yaml

    try:
        return [doc for doc in yaml_load_all(text, limits=ctx.source.limits) if doc is not None]
    except YamlLimitError as exc:
        raise ctx.error(f"{exc}; skipped") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}" if mark is not None else None
        raise ctx.error(f"not valid YAML: {exc.problem or exc.context}; skipped", where) from None
    except yaml.YAMLError as exc:
        message = str(exc).replace('in "<unicode string>", ', "")
        raise ctx.error(f"not valid YAML: {message}; skipped") from None
    except RecursionError:
        raise ctx.error("YAML nesting too deep; skipped") from None
    except (ValueError, TypeError, OverflowError) as exc:
        # Bad scalars the safe constructor rejects (a date like 2020-13-45, huge numbers).
        raise ctx.error(f"not valid YAML: {exc}; skipped") from None


def yaml_mappings(text: str, ctx: FileContext, what: str) -> list:
    """The documents of a YAML rule file; the first one, the rule itself, must be a mapping."""
    docs = _yaml_documents(text, ctx)
    if not docs:
        raise ctx.error(f"empty YAML file: no {what.split(' ', 1)[1]}; skipped")
    if not isinstance(docs[0], dict):
        raise ctx.error(f"{what} must be a YAML mapping, not a {type(docs[0]).__name__}; skipped", "document 1")
    return docs


def shown(value) -> str:
    """A value for a message: short text quoted, anything else by its type only — the
    repr of a YAML alias bomb is billions of items long."""
    if isinstance(value, str):
        return repr(value if len(value) <= 80 else value[:79] + "\u2026")
    if isinstance(value, (int, float, bool)) or value is None:
        return repr(value)
    return f"a {type(value).__name__}"


def one_line(text: str, limit: int = 300) -> str:
    """Library messages (libyaml's, tomllib's) and record titles span lines; a warning must not."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"


def decode_text(data: bytes, ctx: FileContext) -> str:
    """UTF-8 text of a file, refusing oversized files and naming the line of bad bytes."""
    if len(data) > MAX_FILE_BYTES:
        raise ctx.error(f"file is {len(data):,} bytes, over the {MAX_FILE_BYTES:,}-byte limit for a rule file; skipped")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ctx.error(f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); skipped", f"line {line}") from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ctx.error("contains a NUL character: not a text file; skipped", f"line {line}")
    return text.removeprefix("\ufeff")


def path_id(relpath: str) -> str:
    """A stable native id for formats without one: a hash of the path inside the source."""
    return hashlib.sha256(relpath.encode("utf-8")).hexdigest()[:16]


def normalise_technique(text: str) -> str | None:
    """`t1046`, `T1003.001`, `T1003/001` → canonical spelling, or None."""
    value = text.strip().upper().replace("/", ".")
    return value if TECHNIQUE_ID.match(value) else None


def linked_techniques(text: str) -> list[str]:
    return [f"{m.group(1).upper()}.{m.group(2)}" if m.group(2) else m.group(1).upper() for m in _LINK_ID.finditer(text)]


def linked_objects(text: str) -> list[str]:
    return list(dict.fromkeys(m.group(1).upper() for m in _LINK_OBJECT.finditer(text)))


def mentioned_techniques(text: str) -> list[str]:
    """Bare ids in prose or comments, links included (a link also contains the id)."""
    return [m.group(1) for m in _BARE_ID.finditer(text)]


def tactic_shortname(text: str) -> str:
    """`Privilege escalation`, `privilege_escalation`, `Command and Control` → ATT&CK shortname."""
    return _NON_SLUG.sub("-", text.lower()).strip("-")


def technique_refs(found: list[tuple[str, str]]) -> tuple[TechniqueRef, ...]:
    """(id, how) pairs → one ref per id, keeping the strongest evidence, in first-seen order."""
    rank = {how: i for i, how in enumerate(HOW_TECHNIQUE)}
    best: dict[str, str] = {}
    for tid, how in found:
        if tid not in best or rank[how] < rank[best[tid]]:
            best[tid] = how
    return tuple(TechniqueRef(attack_id=t, how=h) for t, h in best.items())


def split_people(text: str) -> list[str]:
    """`A, B, Splunk` → names; markdown links and `< … >` placeholders brackets removed."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    out = []
    for part in text.split(","):
        name = part.strip().strip("<>").strip().removeprefix("with special thanks to ").strip()
        if name and name not in out:
            out.append(name)
    return out


def strings(value) -> tuple[str, ...]:
    """A YAML/TOML value that should be a list of strings (or one string), as a tuple."""
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if isinstance(value, list):
        return tuple(str(v) for v in value if isinstance(v, (str, int, float)) and str(v).strip())
    return ()


def text_of(value) -> str:
    return value.strip() if isinstance(value, str) else ""
