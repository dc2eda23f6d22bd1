"""`--include-attack`: the ATT&CK objects a bundle points at, upgraded to STIX 2.1.

By default a bundle references techniques by STIX id only (the ids of the release its
grouping names). With the option, each bundle also carries those techniques and what
they reference in turn (MITRE's identity and copyright marking), so that it loads on
its own — into a platform without ATT&CK, or into mitreattack-python.

Enterprise and Mobile are STIX 2.0 in the mirror. Their attack patterns, identity and
statement marking need nothing but `spec_version: "2.1"` to be 2.1 objects (ATT&CK's
own 2.1 files are the same objects with that property); ICS is 2.1 already. The
objects are otherwise copied as published, markings included.
"""

from __future__ import annotations

from typing import Iterable, Mapping

_REF_FIELDS = ("created_by_ref", "x_mitre_modified_by_ref")


class AttackObjects:
    """Raw objects of the target releases by STIX id, as gathered before rendering
    (`pipeline.gather.attack_objects`)."""

    def __init__(self, by_id: Mapping[str, dict]) -> None:
        self._by_id = by_id

    def closure(self, ids: Iterable[str]) -> dict[str, dict]:
        """The objects with these ids and every object they reference, upgraded to 2.1;
        ids the releases do not hold are left out (the caller checks its references)."""
        out: dict[str, dict] = {}
        todo = sorted(set(ids))
        while todo:
            sid = todo.pop()
            if sid in out or sid not in self._by_id:
                continue
            obj = upgrade(self._by_id[sid])
            out[sid] = obj
            refs = [obj.get(f) for f in _REF_FIELDS] + list(obj.get("object_marking_refs") or ())
            todo.extend(r for r in refs if isinstance(r, str) and r not in out)
        return out


def upgrade(obj: dict) -> dict:
    """A STIX 2.0 ATT&CK object as 2.1 (a copy; 2.1 objects are returned as they are)."""
    if obj.get("spec_version") == "2.1":
        return obj
    return {**obj, "spec_version": "2.1"}
