"""ATT&CK ingestion against every release in the mirror, checked by independent counts."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from attack_kinds import KIND
from testpaths import mirror_dir

ATTACK_SOURCES = {"mitre-attack", "mitre-mobile-attack", "mitre-ics-attack"}


def _bundles() -> list[tuple[str, str]]:
    m = mirror_dir()
    if m is None:
        return [("enterprise", "18.1")]  # the `mirror` fixture then skips or fails
    out = []
    for f in sorted((m / "attack").glob("*-attack-*.json*")):
        match = re.match(r"^(enterprise|mobile|ics)-attack-(\d+\.\d+)\.json(\.gz)?$", f.name)
        if match:
            out.append((match.group(1), match.group(2)))
    return out


BUNDLES = _bundles()
IDS = [f"{d}-{v}" for d, v in BUNDLES]


def direct_counts(path: Path) -> Counter:
    """Non-revoked, non-deprecated objects per kind, counted straight from the file."""
    doc = json.loads(gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes())
    counts: Counter = Counter()
    for obj in doc["objects"]:
        if obj.get("revoked") or obj.get("x_mitre_deprecated"):
            continue
        t = obj["type"]
        if t == "attack-pattern":
            counts["subtechnique" if obj.get("x_mitre_is_subtechnique") else "technique"] += 1
        elif t in KIND:
            counts[KIND[t]] += 1
    return counts


def our_counts(release) -> Counter:
    counts: Counter = Counter()
    for obj in release.objects.values():
        if obj.live:
            counts["subtechnique" if getattr(obj, "is_subtechnique", False) else obj.kind] += 1
    return counts


def test_every_mirror_bundle_is_a_listed_source(mirror, config):
    listed = {(s.domain, s.attack_version) for s in config.attack_releases()}
    assert set(BUNDLES) <= listed
    assert len(BUNDLES) == 10


@pytest.mark.parametrize(("domain", "version"), BUNDLES, ids=IDS)
def test_counts_equal_a_direct_count(mirror, release_cache, domain, version):
    release = release_cache(domain, version)
    expected = direct_counts(mirror / "attack" / f"{domain}-attack-{version}.json.gz")
    assert our_counts(release) == expected
    assert expected["technique"] > 50 and expected["tactic"] >= 11


@pytest.mark.parametrize(("domain", "version"), BUNDLES, ids=IDS)
def test_every_subtechnique_has_its_parent(release_cache, domain, version):
    release = release_cache(domain, version)
    subs = [o for o in release.objects.values() if o.kind == "technique" and o.is_subtechnique]
    if version != "8.2" or domain == "enterprise":
        assert subs or domain == "ics"
    for sub in subs:
        parent = release.get(f"technique:{sub.parent}")
        assert parent is not None, sub.attack_id
        assert sub.attack_id.split(".")[0] == parent.attack_id
        assert not parent.is_subtechnique


@pytest.mark.parametrize(("domain", "version"), BUNDLES, ids=IDS)
def test_every_revoked_technique_resolves_or_is_reported(mirror, release_cache, domain, version):
    release = release_cache(domain, version)
    path = mirror / "attack" / f"{domain}-attack-{version}.json.gz"
    doc = json.loads(gzip.decompress(path.read_bytes()))
    revoked_ids = set()
    for obj in doc["objects"]:
        if obj["type"] == "attack-pattern" and obj.get("revoked"):
            for ref in obj.get("external_references", []):
                if ref.get("source_name") in ATTACK_SOURCES:
                    revoked_ids.add(ref["external_id"])
    assert revoked_ids or domain == "ics", "Enterprise and Mobile releases revoke techniques"
    reported = {i.record for i in release.issues if i.code == "revocation-dead-end"}
    for tid in revoked_ids:
        rev = release.revocations[f"technique:{tid}"]
        if rev.status == "dead_end":
            assert f"technique:{tid}" in reported
            continue
        target = release.get(f"technique:{rev.target}")
        assert target is not None and not target.revoked
        assert target.deprecated == (rev.status == "deprecated")
        assert rev.chain[0] == tid and len(rev.chain) >= 2


def test_t1046_name_in_8_2_and_18_1(release_cache):
    assert release_cache("enterprise", "8.2").get("technique:T1046").name == "Network Service Scanning"
    assert release_cache("enterprise", "18.1").get("technique:T1046").name == "Network Service Discovery"


def test_ics_18_1_loads_from_stix_2_1(release_cache):
    ics = release_cache("ics", "18.1")
    assert ics.stix_version == "2.1"
    assert ics.matrix == "ATT&CK for ICS"
    assert len(ics.tactics) == 12 and ics.tactics[0] == "TA0108"
    assert ics.get("technique:T0803").name == "Block Command Message"
    assert ics.of_kind("asset")


def test_mobile_revocations_that_lead_to_deprecated_or_nowhere(release_cache):
    """The Mobile cases of the field notes: eight lead to deprecated techniques, T1454 to nothing."""
    mobile = release_cache("mobile", "18.1")
    to_deprecated = {k.split(":")[1]: r.target for k, r in mobile.revocations.items() if r.status == "deprecated"}
    assert to_deprecated == {
        "T1434": "T1476", "T1445": "T1476", "T1431": "T1476",
        "T1443": "T1475", "T1441": "T1475", "T1440": "T1475", "T1442": "T1475",
        "T1455": "T1477",
    }
    dead = [r for r in mobile.revocations.values() if r.status == "dead_end"]
    assert [r.attack_id for r in dead] == ["T1454"]
    # A deprecated matrix and its tactics stay out of the live tactic order.
    assert len(mobile.tactics) == 12 and "TA0038" not in mobile.tactics


def test_extra_external_ids_are_not_attack_ids(release_cache):
    mobile = release_cache("mobile", "18.1")
    assert not [o for o in mobile.objects.values() if not re.match(r"^(T|TA|M|G|S|C|DS|DC|DET|AN|A)\d", o.attack_id)]


def test_enterprise_tactics_in_matrix_order(release_cache):
    for version in ("8.2", "18.1"):
        tactics = release_cache("enterprise", version).tactics
        assert tactics[:3] == ("TA0043", "TA0042", "TA0001")
        assert tactics[-1] == "TA0040" and len(tactics) == 14


def test_technique_tactics_follow_matrix_order(release_cache):
    release = release_cache("enterprise", "18.1")
    rank = {t: i for i, t in enumerate(release.tactics)}
    multi = [o for o in release.objects.values() if o.kind == "technique" and len(o.tactics) > 1]
    assert len(multi) > 50
    for t in multi:
        assert [rank[x] for x in t.tactics] == sorted(rank[x] for x in t.tactics)


def test_v18_detection_strategies_and_analytics(release_cache):
    ent = release_cache("enterprise", "18.1")
    strategies = ent.of_kind("detection_strategy")
    analytics = {a.attack_id: a for a in ent.of_kind("analytic")}
    assert len(strategies) == 691 and len(analytics) == 1739
    for s in strategies:
        assert s.analytics and all(a in analytics for a in s.analytics)
    with_sources = [a for a in analytics.values() if a.log_sources]
    assert len(with_sources) > 1500
    assert all(ls.data_component.startswith("DC") for a in with_sources for ls in a.log_sources)


def test_pre_v18_data_components_get_stable_ids(release_cache):
    ent = release_cache("enterprise", "12.1")
    comps = ent.of_kind("datacomponent", live_only=False)
    assert len(comps) == 109
    ids = [c.attack_id for c in comps]
    assert len(set(ids)) == len(ids)
    assert "DS0009/process-creation" in ids
