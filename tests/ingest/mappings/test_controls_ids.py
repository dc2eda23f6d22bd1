"""Id and vocabulary normalisation."""

from __future__ import annotations

import pytest

from pipeline.ingest.mappings.ids import (
    control_family,
    control_parent,
    normalise_control_id,
    normalise_subject_id,
    slug_id,
)
from pipeline.model.vocabulary import KINDS, normalise_kind, relation_of


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AC-4", "AC-4"),
        ("AC-04", "AC-4"),
        ("ac-004", "AC-4"),
        (" SI-03 ", "SI-3"),
        ("AC-2(1)", "AC-2(1)"),
        ("AC-2 (1)", "AC-2(1)"),
        ("AC-02(01)", "AC-2(1)"),
        ("SC-46", "SC-46"),
        ("AC-", None),
        ("AC4", None),
        ("A-4", None),
        ("AC-2(", None),
        ("T1046", None),
        ("", None),
    ],
)
def test_nist_control_ids(raw, expected):
    assert normalise_control_id(raw) == expected


def test_padded_and_plain_ids_are_one_control():
    assert normalise_subject_id("AC-04", "nist_800_53") == normalise_subject_id("AC-4", "nist_800_53") == "AC-4"


def test_enhancement_parent_and_family():
    assert control_parent("AC-2(1)") == "AC-2"
    assert control_parent("AC-2") is None
    assert control_family("AC-2(1)") == "AC"
    assert control_family("DE.AE-02.01") == "DE.AE"
    assert control_family("IAM-16") == "IAM"


def test_other_frameworks_keep_their_ids():
    # CSA CCM pads its own ids; only NIST ids are rewritten.
    assert normalise_subject_id("UEM-05", "csa_ccm") == "UEM-05"
    assert normalise_subject_id("action.hacking.variety.Scan network", "veris") == "action.hacking.variety.Scan network"
    assert normalise_subject_id("  ", "azure") is None
    assert normalise_subject_id("bad\nid", "azure") is None
    assert normalise_subject_id(42, "azure") is None


def test_security_stack_slug_matches_mappings_explorer():
    assert slug_id("Network Security Groups") == "network_security_groups"
    assert slug_id("Azure AD Multi-Factor Authentication") == "azure_ad_multi-factor_authentication"


@pytest.mark.parametrize(
    ("mapping_type", "category", "kind"),
    [
        ("protects", None, "mitigate"),
        ("mitigates", None, "mitigate"),
        ("technique_scores", "protect", "protect"),
        ("technique_score", "detect", "detect"),
        ("technique-scores", "respond", "respond"),
        ("win11-def", "detect", "detect"),
        ("primary_impact", None, "impact"),
        ("secondary_impact", None, "impact"),
        ("exploitation_technique", None, "exploit"),
        ("related_to", None, "related"),
        ("non_mappable", None, "non_mappable"),
        ("technique_scores", None, None),
        ("something_new", None, None),
    ],
)
def test_mapping_types_normalise(mapping_type, category, kind):
    assert normalise_kind(mapping_type, category) == kind


def test_every_kind_but_non_mappable_has_an_edge_relation():
    assert {k: relation_of(k) for k in KINDS if relation_of(k)} == {
        "protect": "protects",
        "detect": "detects",
        "respond": "responds",
        "mitigate": "mitigates",
        "impact": "impacts",
        "exploit": "exploits",
        "related": "related_to",
    }
