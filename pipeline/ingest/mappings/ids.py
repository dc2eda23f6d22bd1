"""Id normalisation shared by every mapping adapter.

Tables spell the same id differently: NIST 800-53 `AC-04` and `AC-4`, `AC-2 (1)` and
`AC-2(1)`; technique ids in lower case or with a slash. Everything downstream compares
ids as strings, so they are made canonical once, here, and the published spelling is
kept beside them on the record.
"""

from __future__ import annotations

import re

from pipeline.graph.query import normalise_technique_id
from pipeline.model.controls import control_family, control_parent

__all__ = [
    "CONTROL_ID_FRAMEWORKS",
    "control_family",
    "control_parent",
    "normalise_control_id",
    "normalise_subject_id",
    "normalise_technique_id",
    "slug_id",
]

# NIST 800-53: family, number, optional enhancement number; zero padding and blanks vary.
_NIST = re.compile(r"^\s*([A-Za-z]{2})\s*-\s*0*(\d{1,3})\s*(?:\(\s*0*(\d{1,3})\s*\))?\s*$")
# Frameworks whose ids follow the NIST pattern and are normalised by it.
CONTROL_ID_FRAMEWORKS = frozenset({"nist_800_53"})
# Ids of other frameworks are kept as published, but must be one printable token.
_TOKEN = re.compile(r"^[^\s\x00-\x1f][^\x00-\x1f]{0,199}$")
_SLUG = re.compile(r"\s+")


def normalise_control_id(text: str) -> str | None:
    """`AC-04` → `AC-4`, `ac-2 (01)` → `AC-2(1)`; None when it is not a NIST id."""
    m = _NIST.match(text)
    if m is None:
        return None
    family, number, enhancement = m.groups()
    base = f"{family.upper()}-{int(number)}"
    return f"{base}({int(enhancement)})" if enhancement is not None else base


def normalise_subject_id(text: object, framework: str) -> str | None:
    """A control or capability id in canonical form, or None when it is malformed."""
    if not isinstance(text, str):
        return None
    if framework in CONTROL_ID_FRAMEWORKS:
        return normalise_control_id(text)
    value = text.strip()
    return value if _TOKEN.match(value) else None


def slug_id(name: str) -> str:
    """Security-stack capability id from its name, as Mappings Explorer derives it:
    `Network Security Groups` → `network_security_groups`."""
    return _SLUG.sub("_", name.strip().lower())
