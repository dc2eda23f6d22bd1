"""The one place where ids become file names, for every renderer.

Ids come from files other people publish: a VERIS enumeration
`action.malware.variety.Spyware/Keylogger`, a CSA control `I&S-04`, a NIST enhancement
`AC-2(1)`, a rule id, a framework or source id of the sources file. A build's output is
copied to macOS and Windows too, so every name this module returns is

- a single path part: letters, digits, `.`, `_`, `-` only (nothing Windows refuses:
  `<>:"/\\|?*`, control characters), no `..`, never starting with a dot and never
  ending in a dot or a space;
- not a name Windows reserves for a device, whatever its extension or case (`CON`,
  `PRN`, `AUX`, `NUL`, `COM1`–`COM9`, `LPT1`–`LPT9`: `aux.json`, `LPT9.txt.md`);
- unique in its folder ignoring case, where the caller names a folder's ids together
  (`stems`, `unique_slugs`): ids that differ only by case (`Spyware` and `spyware`)
  would otherwise replace each other on a case-insensitive disk.

Three styles, each kept from the renderers that used them so names stay stable:

- `stem`/`stems` (pages, page URLs from layers): the id itself when plainly safe, else a
  readable slug plus a hash of the id;
- `slug`/`unique_slugs` (layers): the readable slug, with a hash only on a clash;
- `part`/`bundle_stem` (STIX bundles, tables: `azure--04.26.2025`): unsafe runs
  become dots.

A name gets a hash of the id (`-` and 8 hex digits, more on the rare clash of two hashes)
when the plain form would be unsafe; the hash makes it unique and stable across builds.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from typing import Iterable

MAX_NAME = 100
WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(1, 10)} | {f"lpt{i}" for i in range(1, 10)})
# Names a site generator treats specially in a docs folder (mkdocs: index.md, README.md).
_PAGE_RESERVED = frozenset({"index", "readme"})
_WINDOWS_INVALID = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DOTS = re.compile(r"\.{2,}")
_ATTACK_ID = re.compile(r"^[A-Z]{1,3}\d{4}(\.\d{3})?$")


def digest(text: str, size: int = 8) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:size]


def device_name(name: str) -> bool:
    """True for a name Windows opens as a device: `CON`, `con.json`, `LPT9.txt.md`, `AUX .md`."""
    return name.split(".", 1)[0].rstrip(" ").lower() in WINDOWS_RESERVED


def problem(name: str) -> str | None:
    """Why a file or folder name is not portable (Linux, macOS, Windows), or None."""
    if name in ("", ".", ".."):
        return "empty or a dot name"
    if _WINDOWS_INVALID.search(name):
        return "a character Windows does not allow"
    if name[-1] in ". ":
        return "ends in a dot or a space"
    if device_name(name):
        return "a Windows device name"
    if len(name.encode("utf-8")) > 255:
        return "longer than 255 bytes"
    return None


def _guard(name: str, source: str) -> str:
    """A device name gets the id's hash in its first part: `CON` → `CON-<hash>`,
    `LPT9.txt` → `LPT9-<hash>.txt` (Windows ignores what follows the first dot)."""
    if not device_name(name):
        return name
    head, dot, rest = name.partition(".")
    return f"{head.rstrip(' ')}-{digest(source)}{dot}{rest}"


def attack_id(value: str) -> str:
    """ATT&CK ids (`T1046`, `T1003.001`, `G0007`) are used as they are, after this check."""
    if not _ATTACK_ID.match(value):
        raise ValueError(f"refusing to use {value!r} in a file name")
    return value


# --- pages: the id itself when plainly safe ---------------------------------------------------


def _hashed(value: str, size: int = 8) -> str:
    s = _DOTS.sub(".", _UNSAFE.sub("-", value))[:60]
    s = re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", s) or "id"
    return _guard(f"{s}-{digest(value, size)}", value)


def stem(value: str) -> str:
    """A page's file name (without `.md`) for an id: the id itself when safe, else slug + hash."""
    if _PLAIN.match(value) and ".." not in value and value[-1] != "." and value.split(".")[0].lower() not in _PAGE_RESERVED:
        return _guard(value, value)
    return _hashed(value)


def _fold_unique(out: dict[str, str], rename) -> dict[str, str]:
    """Rename every id whose name equals another's ignoring case; lengthen the hash until
    no two names fold together (a second round only for ids built to clash with a hash)."""
    for size in (8, 16, 64):
        folded: dict[str, list[str]] = defaultdict(list)
        for v, s in out.items():
            folded[s.lower()].append(v)
        clashes = [v for group in folded.values() if len(group) > 1 for v in group]
        if not clashes:
            return out
        for v in clashes:
            out[v] = rename(v, size)
    return out


def stems(values: Iterable[str]) -> dict[str, str]:
    """Page names for the ids of one folder, unique even on a case-insensitive disk."""
    return _fold_unique({v: stem(v) for v in values}, _hashed)


def unique(values: Iterable[str], name) -> dict[str, str]:
    """`name(value)` for the values of one folder; values whose names clash ignoring case
    get a hash of the value appended."""
    return _fold_unique({v: name(v) for v in sorted(set(values))}, lambda v, size: f"{name(v)}-{digest(v, size)}")


# --- layers: a readable slug, hashed only on a clash ------------------------------------------


def slug(text: str) -> str:
    """`AC-2(1)` → `AC-2-1`, `I&S-04` → `I-S-04`; an id with nothing usable in it
    (`(())`, `../`) becomes `id-` and a short hash of it, so no input stops a build."""
    s = _DOTS.sub(".", _UNSAFE.sub("-", text)).strip("-.")
    if not s:
        return f"id-{digest(text)}"
    if len(s) > MAX_NAME:
        s = s[: MAX_NAME - 9].rstrip("-.") + "-" + digest(text)
    return _guard(s, text)


def _slug_hashed(value: str, size: int) -> str:
    return f"{slug(value)[: MAX_NAME - size - 1]}-{digest(value, size)}"


def unique_slugs(ids: Iterable[str]) -> dict[str, str]:
    """Slugs for ids that share a folder. Ids whose slugs clash, ignoring case (`AC-2(1)`
    and `AC-2-1`, `Spyware` and `spyware`), each get a short hash of the id appended, so
    no file replaces another; the result does not depend on the order of `ids`."""
    return _fold_unique({i: slug(i) for i in sorted(set(ids))}, _slug_hashed)


# --- bundles and tables: unsafe runs become dots ----------------------------------------------


def _part(text: str) -> str:
    p = _UNSAFE.sub(".", text).strip(".")[:MAX_NAME].rstrip(".")
    return p or f"unnamed-{digest(text)}"


def part(text: str) -> str:
    """A file name from a framework id, version or source name (`04/26/2025` → `04.26.2025`)."""
    return _guard(_part(text), text)


def bundle_stem(framework: str, version: str | None) -> str:
    """`nist_800_53--rev5`, `azure--04.26.2025`: the STIX mapping bundles and the tables."""
    name = f"{_part(framework)}--{_part(version)}" if version else _part(framework)
    return _guard(name, f"{framework}\x00{version or ''}")


def report_stem(source_id: str) -> str:
    """`mappings/nist-800-53-rev5` → `mappings--nist-800-53-rev5` (reconciliation reports)."""
    return _guard("--".join(_part(p) for p in source_id.split("/")), source_id)
