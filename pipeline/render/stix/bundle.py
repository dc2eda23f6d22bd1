"""One STIX 2.1 bundle: the producer's identity, markings, the extension that declares
the custom properties, a grouping that names the ATT&CK release, and the content.

Objects are plain dicts in the shape stix2 validates, not stix2 objects: building
~50,000 stix2 objects takes seconds, dicts take milliseconds. stix2 still checks
them: `check_shapes` parses one object of every shape of each bundle at build time,
and the tests parse and validate whole bundles.

Every object the pipeline writes is created by the producer identity and carries
two markings: TLP:WHITE (python-stix2's TLP 1.0 definition, fixed id) and a
`statement` marking naming the source and its licence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from itertools import repeat

import orjson

from pipeline.core.errors import PipelineError
from pipeline.render.stix.ids import VOCABULARY_DATE, stix_id
from pipeline.render.stix.vocabulary import VOCABULARY_VERSION, schema_text

PRODUCER = "attack-pipeline"
IDENTITY_ID = stix_id("identity", f"identity:{PRODUCER}")
SPEC = "2.1"
# Order of types in a bundle: what a reader needs first comes first.
_TYPE_ORDER = {"identity": 0, "marking-definition": 1, "extension-definition": 2, "grouping": 3, "relationship": 9}


def identity() -> dict:
    return {
        "type": "identity",
        "spec_version": SPEC,
        "id": IDENTITY_ID,
        "created": VOCABULARY_DATE,
        "modified": VOCABULARY_DATE,
        "name": PRODUCER,
        "identity_class": "system",
        "description": "Builds one graph of MITRE ATT&CK, control and capability mappings and detection content, and publishes it as STIX 2.1.",
    }


@cache
def tlp_white() -> dict:
    """python-stix2's TLP:WHITE marking definition (its fixed id and date), as a dict."""
    # lazy: stix2 costs ~0.2 s to import; only writing or checking a STIX bundle needs it
    import stix2

    return orjson.loads(stix2.v21.TLP_WHITE.serialize())


def statement(text: str) -> dict:
    """A statement marking; its id is derived from its text, so equal texts share one."""
    return {
        "type": "marking-definition",
        "spec_version": SPEC,
        "id": stix_id("marking-definition", f"statement:{text}"),
        "created": VOCABULARY_DATE,
        "created_by_ref": IDENTITY_ID,
        "definition_type": "statement",
        "definition": {"statement": text},
    }


def licence_statement(source, repositories: dict) -> str:
    """`Contains data from SigmaHQ/sigma, licensed under DRL-1.1.` for a configured source."""
    repo = repositories.get(source.repository) if source.repository else None
    origin = repo.github if repo is not None else source.url or source.id
    licence = source.license or "a licence the sources file does not state"
    return f"Contains data from {origin}, licensed under {licence}."


def extension_definition(kind: str, properties: dict[str, str]) -> dict:
    return {
        "type": "extension-definition",
        "spec_version": SPEC,
        "id": stix_id("extension-definition", f"extension:{PRODUCER}:{kind}"),
        "created": VOCABULARY_DATE,
        "modified": VOCABULARY_DATE,
        "created_by_ref": IDENTITY_ID,
        "name": f"{PRODUCER} {kind} properties",
        "description": f"Custom properties of the {kind} bundles written by {PRODUCER}.",
        "schema": schema_text(properties),
        "version": VOCABULARY_VERSION,
        "extension_types": ["toplevel-property-extension"],
        "extension_properties": sorted(properties),
        "object_marking_refs": [tlp_white()["id"]],
    }


@dataclass
class Bundle:
    """Collects the objects of one bundle; `add` fills what every object shares."""

    name: str
    title: str
    extension: dict
    objects: dict[str, dict] = field(default_factory=dict)
    markings: dict[str, dict] = field(default_factory=dict)
    embedded: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._extensions = {self.extension["id"]: {"extension_type": "toplevel-property-extension"}}
        self._tlp = tlp_white()["id"]

    def marking(self, text: str) -> str:
        """The id of the statement marking with this text, added to the bundle once."""
        m = statement(text)
        self.markings.setdefault(m["id"], m)
        return m["id"]

    def add(self, obj: dict, marking: str) -> dict:
        """Add a content object: spec version, creator, markings, and the extension when it
        carries custom properties. An id added twice must be the same object."""
        obj["spec_version"] = SPEC
        obj["created_by_ref"] = IDENTITY_ID
        obj["object_marking_refs"] = [self._tlp, marking]
        if any(map(str.startswith, obj, repeat("x_"))):  # no Python frame per key: 43,616 objects
            obj["extensions"] = self._extensions
        known = self.objects.get(obj["id"])
        if known is not None and known != obj:
            raise PipelineError("two different objects would share one id", file=self.name, record=obj["id"])
        self.objects[obj["id"]] = obj
        return obj

    def to_dict(self, grouping: dict) -> dict:
        """The bundle: infrastructure, the grouping (which names the ATT&CK release and
        lists the content), the content and any embedded ATT&CK objects, sorted."""
        content = sorted(self.objects)
        stamps = [self.objects[i]["modified"] for i in content] or [VOCABULARY_DATE]
        group_id = stix_id("grouping", f"grouping:{self.name}:{grouping['x_attack_version']}")
        group = {
            "type": "grouping",
            "id": group_id,
            "created": min(self.objects[i]["created"] for i in content) if content else VOCABULARY_DATE,
            "modified": max(stamps),
            "name": self.title,
            "context": "unspecified",
            "object_refs": content or [IDENTITY_ID],
            "x_vocabulary_version": VOCABULARY_VERSION,
            **grouping,
        }
        group["spec_version"] = SPEC
        group["created_by_ref"] = IDENTITY_ID
        group["object_marking_refs"] = [self._tlp]
        group["extensions"] = self._extensions
        objects = [identity() | {"object_marking_refs": [self._tlp]}, tlp_white(), self.extension, group]
        objects += self.markings.values()
        objects += self.objects.values()
        objects += self.embedded.values()
        objects.sort(key=lambda o: (_TYPE_ORDER.get(o["type"], 5), o["id"]))
        embedded = "+attack" if self.embedded else ""
        return {"type": "bundle", "id": stix_id("bundle", f"bundle:{self.name}:{grouping['x_attack_version']}{embedded}"), "objects": objects}


def check_shapes(bundle: dict, file: str) -> None:
    """Parse one object of every (type, relationship type) the pipeline wrote with stix2,
    without allowing undeclared custom properties: a wrong property type or a missing
    required property stops the build here instead of in a user's platform."""
    # lazy: stix2 costs ~0.2 s to import; only writing or checking a STIX bundle needs it
    import stix2
    from stix2.exceptions import STIXError  # lazy: as above

    seen: set[tuple[str, str]] = set()
    for obj in bundle["objects"]:
        if obj.get("created_by_ref") != IDENTITY_ID:
            continue  # TLP:WHITE and embedded ATT&CK objects are not ours
        shape = (obj["type"], obj.get("relationship_type", ""))
        if shape in seen:
            continue
        seen.add(shape)
        if obj["type"] == "grouping":  # thousands of refs, all checked by check_references
            obj = {**obj, "object_refs": obj["object_refs"][:3]}
        try:
            stix2.parse(obj, allow_custom=False)
        except (STIXError, ValueError, TypeError) as exc:
            raise PipelineError(f"stix2 rejects the object: {' '.join(str(exc).split())}", file=file, record=obj["id"]) from None
