"""The small vocabulary every mapping type is normalised into.

Frameworks name the same relation differently (`protects` in the older NIST tables of
Mappings Explorer, `mitigates` in the newer ones and in the NIST TSVs; score categories
for the security stacks). A `Mapping` keeps the published word in `mapping_type` and
the normalised one in `kind`:

| kind           | edge relation | published as                                             |
|----------------|---------------|----------------------------------------------------------|
| `protect`      | `protects`    | score category Protect (technique_scores, technique-scores, Intel vPro types) |
| `detect`       | `detects`     | score category Detect                                    |
| `respond`      | `responds`    | score category Respond                                   |
| `mitigate`     | `mitigates`   | `protects`, `mitigates` (NIST 800-53, CRI Profile, CSA CCM) |
| `impact`       | `impacts`     | `primary_impact`, `secondary_impact` (KEV)               |
| `exploit`      | `exploits`    | `exploitation_technique` (KEV)                           |
| `related`      | `related_to`  | `related_to` (VERIS)                                     |
| `non_mappable` | (no edge)     | `non_mappable` rows                                      |

Scored kinds (protect/detect/respond) carry a score value: minimal, partial or
significant.
"""

from __future__ import annotations

KINDS: dict[str, str | None] = {
    "protect": "protects",
    "detect": "detects",
    "respond": "responds",
    "mitigate": "mitigates",
    "impact": "impacts",
    "exploit": "exploits",
    "related": "related_to",
    "non_mappable": None,
}
SCORE_CATEGORIES = ("protect", "detect", "respond")
SCORE_VALUES = ("minimal", "partial", "significant")

_MAPPING_TYPES: dict[str, str] = {
    "protects": "mitigate",
    "mitigates": "mitigate",
    "primary_impact": "impact",
    "secondary_impact": "impact",
    "exploitation_technique": "exploit",
    "related_to": "related",
    "non_mappable": "non_mappable",
}
# Types whose rows are scored: the score category decides the kind.
SCORED_TYPES = frozenset({"technique_scores", "technique_score", "technique-scores", "sub-techniques-scores"})


def normalise_score(value: object) -> str | None:
    """`Partial` → `partial`; None for anything outside the vocabulary."""
    if not isinstance(value, str):
        return None
    v = value.strip().lower()
    return v if v else None


def normalise_kind(mapping_type: object, score_category: str | None) -> str | None:
    """The normalised kind of a row, or None when neither the type nor the category is known.

    A known score category wins (Intel vPro names its types after products but scores
    them like the security stacks); otherwise the mapping type decides.
    """
    if score_category in SCORE_CATEGORIES:
        return score_category
    if not isinstance(mapping_type, str):
        return None
    t = mapping_type.strip().lower()
    if t in SCORED_TYPES:
        return None
    return _MAPPING_TYPES.get(t)


def relation_of(kind: str) -> str | None:
    """The graph edge relation of a kind (`mitigate` → `mitigates`)."""
    return KINDS.get(kind)
