"""Follow revoked-by chains to where a revoked ATT&CK id now lives.

A chain (A revoked by B revoked by C) must answer C, and must end: releases contain
revocations that lead to deprecated objects, revoked objects with no revoked-by
relationship, and could contain cycles. All three are answered, never looped on.
"""

from __future__ import annotations

from typing import Iterable

from pipeline.core.errors import Issue
from pipeline.model.attack import AttackObject, Relationship, Revocation


def resolve_revocations(
    live: dict[str, AttackObject],
    revoked: dict[str, AttackObject],
    relationships: Iterable[Relationship],
    *,
    file: str,
    issues: list[Issue],
) -> dict[str, Revocation]:
    """Node key of each revoked object → its `Revocation`; dead ends are also reported as issues."""
    revoked_by: dict[str, str] = {}
    for rel in relationships:
        if rel.relation == "revoked-by":
            revoked_by.setdefault(rel.source_ref, rel.target_ref)
    out: dict[str, Revocation] = {}
    for sid, obj in sorted(revoked.items(), key=lambda kv: kv[1].key):
        chain = [obj.attack_id]
        seen = {sid}
        cur = sid
        status = reason = ""
        while True:
            nxt = revoked_by.get(cur)
            if nxt is None:
                status, reason = "dead_end", f"{chain[-1]} is revoked but has no revoked-by relationship"
                break
            if nxt in seen:
                status, reason = "dead_end", "revoked-by relationships form a cycle"
                break
            seen.add(nxt)
            target = live.get(nxt) or revoked.get(nxt)
            if target is None:
                status, reason = "dead_end", f"revoked-by target {nxt} is not in the bundle"
                break
            chain.append(target.attack_id)
            if not target.revoked:
                status = "deprecated" if target.deprecated else "live"
                break
            cur = nxt
        if status == "dead_end":
            issues.append(Issue(code="revocation-dead-end", problem=reason, file=file, record=obj.key))
        out[obj.key] = Revocation(attack_id=obj.attack_id, kind=obj.kind, status=status, chain=tuple(chain), reason=reason)
    return out
