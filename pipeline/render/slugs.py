"""File and URL names made from ids that come from input files.

Control, capability, family and source ids are whatever a mapping table or a detection
corpus says (`AC-2(1)`, `I&S-04`, `action.social.variety.Evade Defenses`), so they never
reach a path as they are: a slug keeps letters, digits, `.`, `_` and `-`, cannot start
with a dot or contain `..`, and is short. The same function names control pages on the
docs site (`<site_url>/controls/<framework>/<id>/`) and layer files, so a layer's links
and the layer set agree.
"""

from __future__ import annotations

import hashlib
import re
from typing import Iterable

MAX_SLUG = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DOTS = re.compile(r"\.{2,}")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def safe_slug(text: str) -> str:
    """`AC-2(1)` → `AC-2-1`, `I&S-04` → `I-S-04`; an id with nothing usable in it
    (`(())`, `../`) becomes `id-` and a short hash of it, so no input stops a build."""
    slug = _DOTS.sub(".", _UNSAFE.sub("-", text)).strip("-.")
    if not slug:
        return f"id-{_digest(text)}"
    if len(slug) > MAX_SLUG:
        slug = slug[: MAX_SLUG - 9].rstrip("-.") + "-" + _digest(text)
    return slug


def unique_slugs(ids: Iterable[str]) -> dict[str, str]:
    """Slugs for ids that share a folder. Ids whose slugs collide (`AC-2(1)` and `AC-2-1`)
    each get a short digest of the id appended, so no file replaces another; the result
    does not depend on the order of `ids`."""
    by_slug: dict[str, list[str]] = {}
    for i in sorted(set(ids)):
        by_slug.setdefault(safe_slug(i), []).append(i)
    out = {}
    for slug, group in by_slug.items():
        for i in group:
            out[i] = slug if len(group) == 1 else f"{slug[: MAX_SLUG - 9]}-{_digest(i)}"
    return out
