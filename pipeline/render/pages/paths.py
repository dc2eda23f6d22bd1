"""Where each page lives under `docs/`, and relative links between pages.

File names come from ids that other people publish (a VERIS enumeration
`action.malware.variety.Spyware/Keylogger`, a CSA control `I&S-04`, a rule id), so an
id is used as a file name only when it is plainly safe (letters, digits, `._-`, no
`..`, not a name a site generator treats specially); any other id gets a readable
slug plus a hash of the id, which keeps it unique and stable across builds. Ids that
would differ only by case in one folder are hashed too (case-insensitive file systems).
ATT&CK ids are checked by `safe_file_id` and used as they are.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from typing import Iterable

from pipeline.render.navigator.sets import safe_file_id

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9_.-]+")
_RESERVED = frozenset({"index", "readme", "con", "prn", "aux", "nul"})


def _hashed(value: str) -> str:
    slug = _UNSAFE_RUN.sub("-", value)
    slug = re.sub(r"\.{2,}", ".", slug)[:60]
    slug = re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", slug) or "id"
    return f"{slug}-{hashlib.sha256(value.encode('utf-8')).hexdigest()[:8]}"


def file_stem(value: str) -> str:
    """A file name (without `.md`) for an id: the id itself when safe, else slug + hash."""
    if _SAFE.match(value) and ".." not in value and value.split(".")[0].lower() not in _RESERVED:
        return value
    return _hashed(value)


def stems(values: Iterable[str]) -> dict[str, str]:
    """File stems for the ids of one folder, unique even on a case-insensitive disk."""
    out = {v: file_stem(v) for v in values}
    folded: dict[str, list[str]] = defaultdict(list)
    for v, s in out.items():
        folded[s.lower()].append(v)
    for group in folded.values():
        if len(group) > 1:
            for v in group:
                out[v] = _hashed(v)
    return out


def technique_page(attack_id: str) -> str:
    return f"techniques/{safe_file_id(attack_id)}.md"


def tactic_page(attack_id: str) -> str:
    return f"tactics/{safe_file_id(attack_id)}.md"


def group_page(attack_id: str) -> str:
    return f"groups/{safe_file_id(attack_id)}.md"


def is_attack_id(value: str) -> bool:
    """Whether an id may name a page as it is (`safe_file_id` would accept it)."""
    try:
        safe_file_id(value)
    except ValueError:
        return False
    return True


def framework_page(framework: str) -> str:
    return f"frameworks/{file_stem(framework)}.md"


def relative(from_page: str, to_page: str) -> str:
    """The link from one page to another file, both given relative to the same root
    (normalised paths, no `..`): up to the root, then down; within a folder, the name.
    Tens of thousands of links per build, so no os.path work."""
    here, _, _ = from_page.rpartition("/")
    there, _, name = to_page.rpartition("/")
    if here == there:
        return name
    if not here or there.startswith(here + "/"):
        return to_page[len(here) + 1 if here else 0 :]
    return "../" * (here.count("/") + 1 if here else 0) + to_page
