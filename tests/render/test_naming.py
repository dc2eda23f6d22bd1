"""File names from ids: valid on Linux, macOS and Windows, unique ignoring case.

`pipeline.render.naming` is the one place where ids become file names. Tested here: the
naming functions on hostile ids (examples, then a property test), and the whole build of
a small mirror whose control, capability, rule and source ids are Windows device names,
end in a dot or a space, or differ only by case. The real default build's file list is
checked in tests/build/test_build.py (`test_real_default_build_file_names_are_portable`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import stix_factory as sf
from portable_names import portable_problems, tree
from pipeline.render import naming

DEVICES = ["CON", "con", "PRN", "AUX", "aux", "NUL", "COM1", "com9", "LPT1", "LPT9", "LPT9.txt", "CON.json", "aux.x.y", "AUX .md"]
HOSTILE = DEVICES + ["x.", "y ", "z. ", "..", ".", "", " ", "a/b", "a\\b", 'q"uote', "c:d", "a|b", "w?", "s*", "<>", "nul\x00id", "index", "README"]
CASE_PAIRS = ["action.malware.vector.Remote injection", "action.malware.vector.remote injection", "Spyware", "spyware", "AC-2(1)", "ac-2-1"]


def test_device_names_are_recognised_with_any_extension_or_case():
    for name in ["CON", "con.json", "Aux.md", "COM1.md", "LPT9.txt.md", "nul", "AUX .md", "PRN.tar.gz"]:
        assert naming.device_name(name), name
    for name in ["CONSOLE.md", "COM10.md", "LPT0.md", "xCON.json", "CON--rev5.json", "aux-1f2e3d4c.json", "COM.md"]:
        assert not naming.device_name(name), name
    assert naming.problem("ok.json") is None
    assert naming.problem("x.") == naming.problem("y ") == "ends in a dot or a space"
    assert naming.problem("a:b") == "a character Windows does not allow"


@pytest.mark.parametrize("value", HOSTILE)
def test_every_function_gives_a_portable_name(value):
    names = [naming.stem(value), naming.slug(value), naming.part(value), naming.bundle_stem(value, None), naming.bundle_stem("fw", value)]
    if value and value[0].isalnum() and "\x00" not in value:
        names.append(naming.report_stem(f"mappings/{value}"))
    for name in names:
        assert naming.problem(name) is None and naming.problem(name + ".json") is None and naming.problem(name + ".md") is None, (value, name)


def test_device_ids_keep_a_readable_name():
    assert naming.stem("CON") == f"CON-{naming.digest('CON')}"
    assert naming.slug("aux") == f"aux-{naming.digest('aux')}"
    assert naming.stem("LPT9.txt") == f"LPT9-{naming.digest('LPT9.txt')}.txt" and naming.stem("COM1").startswith("COM1-")
    assert naming.bundle_stem("CON", None).startswith("CON-") and naming.bundle_stem("CON", "rev5") == "CON--rev5"
    # Plain ids are kept as they are: the names of every earlier build.
    assert naming.stem("T1046") == "T1046" and naming.stem("PR.IR-01.01") == "PR.IR-01.01"
    assert naming.slug("AC-2(1)") == "AC-2-1" and naming.part("04/26/2025") == "04.26.2025"
    assert naming.bundle_stem("azure", "04/26/2025") == "azure--04.26.2025"
    assert naming.report_stem("mappings/nist-800-53-rev5") == "mappings--nist-800-53-rev5"


def test_ids_differing_only_by_case_get_different_names_ignoring_case():
    for fn in (naming.stems, naming.unique_slugs, lambda ids: naming.unique(ids, naming.part)):
        names = fn(CASE_PAIRS)
        assert len({n.lower() for n in names.values()}) == len(set(CASE_PAIRS)), names
        assert fn(list(reversed(CASE_PAIRS))) == names  # the order the ids come in does not matter
    # Ids without a clash keep their name.
    assert naming.unique_slugs(["AC-3", "Spyware", "spyware"])["AC-3"] == "AC-3"


def test_attack_ids_are_checked():
    assert naming.attack_id("T1003.001") == "T1003.001"
    for bad in ["../T1046", "T1046/", "CON", "t1046", "T1046.md"]:
        with pytest.raises(ValueError):
            naming.attack_id(bad)


# Ids as hostile input can make them: any text, weighted towards device names, trailing
# dots and spaces, and case variants of each other.
_piece = st.sampled_from(DEVICES + [".", " ", "..", "/", "\\", ":", "\x00", "-", "_", "a", "A", "é", "index", "txt"])
_ids = st.one_of(st.text(max_size=40), st.lists(_piece, min_size=1, max_size=5).map("".join), st.sampled_from(HOSTILE + CASE_PAIRS))


@given(st.lists(_ids, max_size=12))
def test_names_of_hostile_ids_are_portable_and_unique(ids):
    folders = {
        "stems": naming.stems(ids),
        "slugs": naming.unique_slugs(ids),
        "parts": naming.unique(ids, naming.part),
    }
    for kind, names in folders.items():
        assert set(names) == set(ids), kind
        for value, name in names.items():
            assert naming.problem(name) is None and naming.problem(name + ".json") is None, (kind, value, name)
            assert not name.startswith(".") and (kind == "parts" or ".." not in name), (kind, value, name)
        assert len({n.lower() for n in names.values()}) == len(names), (kind, names)
    for value in ids:
        assert naming.problem(naming.bundle_stem(value, None)) is None and naming.problem(naming.bundle_stem("fw", value)) is None


# --- A whole build of hostile ids ------------------------------------------------------------

CAPABILITIES = DEVICES + ["x.", "y ", "index", "README", "Spyware", "spyware", "Remote injection", "remote injection", "azure_firewall"]
RULE_IDS = ["CON", "aux", "LPT9.txt", "COM1", "r.", "r ", "Rule", "rule"]
DETECTION_SOURCES = ["detections/CON", "detections/aux.", "detections/Sigma", "other/sigma"]


def _mapex(framework: str, version: str) -> dict:
    row = {
        "capability_group": "g", "capability_description": "d", "attack_object_name": "Network Service Discovery",
        "mapping_type": "technique_scores", "score_category": "protect", "score_value": "Partial", "comments": "", "references": [], "status": "complete",
    }
    return {
        "metadata": {
            "attack_version": "18.1", "technology_domain": "enterprise", "mapping_framework": framework,
            "mapping_framework_version": version, "mapping_types": {"technique_scores": {"description": "scores"}}, "capability_groups": {},
        },
        "mapping_objects": [{**row, "capability_id": cap, "attack_object_id": "T1046"} for cap in CAPABILITIES],
    }


def _rule(rule_id: str) -> str:
    return json.dumps({
        "title": f"Scan {rule_id}", "id": rule_id, "status": "test", "tags": ["attack.discovery", "attack.t1046"],
        "logsource": {"category": "process_creation", "product": "windows"},
        "detection": {"selection": {"CommandLine|contains": ["nmap"]}, "condition": "selection"}, "level": "medium",
    })


def _hostile_mirror(root: Path) -> Path:
    mirror = root / "mirror"
    disc = sf.tactic("TA0007", "discovery", "Discovery")
    sf.write(mirror / "attack" / "enterprise-attack-18.1.json", sf.bundle(sf.matrix(disc), disc, sf.technique("T1046", "Network Service Discovery", "discovery")))
    sources = []
    for sid, fw, ver in [("mappings/CON", "CON", "COM1"), ("mappings/aux", "aux", "LPT9.txt"), ("mappings/Azure", "azure", "06/29/2021")]:
        path = mirror / "mappings" / f"{sid.rsplit('/', 1)[1]}-{len(sources)}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_mapex(fw, ver)), encoding="utf-8")
        keys = {"id": sid, "kind": "mapping", "format": "mapex-json", "url": "https://example.org/m", "mirror": path.relative_to(mirror).as_posix(),
                "framework": fw, "framework_version": ver, "domain": "enterprise", "attack_version": "18.1", "license": "MIT"}
        sources.append(keys)
    for n, sid in enumerate(DETECTION_SOURCES):
        rules = mirror / "detections" / f"corpus{n}" / "rules"
        rules.mkdir(parents=True)
        for k, rid in enumerate(RULE_IDS):
            (rules / f"r{k}.yml").write_text(_rule(rid), encoding="utf-8")
        sources.append({"id": sid, "kind": "detection", "format": "sigma-yaml", "url": "https://example.org/d", "mirror": f"detections/corpus{n}", "folder": True, "license": "MIT"})
    toml = sf.sources_file(root / "sources.toml", [("enterprise", "18.1")])
    text = toml.read_text(encoding="utf-8").replace('site_url = ""', 'site_url = "https://soc.example.org/"')
    text += "".join("\n[[source]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in keys.items()) for keys in sources)
    toml.write_text(text, encoding="utf-8")
    return toml


def test_build_of_hostile_ids_writes_only_portable_names(tmp_path):
    from pipeline.build import build
    from pipeline.core.config import load_config
    from pipeline.workspace import Workspace

    sources = _hostile_mirror(tmp_path)
    ws = Workspace.open(load_config(sources), tmp_path / "mirror")
    out = tmp_path / "out"
    build(ws, out)
    root = out.resolve()
    paths = tree(root)
    assert portable_problems(paths) == []
    # Every id got its file: one page and one layer per capability of each framework, one
    # page per rule of each corpus, one detection bundle per corpus.
    capability_pages = [p for p in paths if p.startswith("docs/controls/") and p.endswith(".md")]
    assert len(capability_pages) == 3 * len(CAPABILITIES)
    for fw in ("CON", "aux", "azure"):
        folder = next(p for p in paths if p.lower().startswith(f"layers/enterprise/frameworks/{fw.lower()}") and p.count("/") == 3)
        assert len([p for p in paths if p.startswith(folder + "/controls/")]) == len(CAPABILITIES), folder
    assert len([p for p in paths if p.startswith("stix/detections/")]) == len(DETECTION_SOURCES)
    rule_pages = [p for p in paths if p.startswith("docs/detections/") and p.count("/") == 3]
    assert len(rule_pages) == len(DETECTION_SOURCES) * len(RULE_IDS)
    # The pages' links to those files resolve (a renamed file is linked by its new name).
    docs = root / "docs"
    for page in capability_pages:
        text = (root / page).read_text(encoding="utf-8")
        for link in _relative_links(text):
            assert (root / page).parent.joinpath(link).resolve().is_file(), (page, link)
    layer_links = [link for page in capability_pages for link in _relative_links((root / page).read_text(encoding="utf-8")) if "/layers/" in link]
    assert len(layer_links) >= 3 * len(CAPABILITIES)  # every capability page links its own layer
    assert docs.is_dir()


def _relative_links(markdown: str) -> list[str]:
    import re

    return [m for m in re.findall(r"\]\(([^)\s]+)\)", markdown) if not m.startswith(("http:", "https:", "#", "mailto:"))]


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"id": "mappings/con"}, "id differs from source 'mappings/CON' only by case"),
        ({"id": "mappings/other", "framework": "con"}, "framework 'con' differs from framework 'CON' only by case"),
    ],
)
def test_sources_whose_ids_or_frameworks_differ_only_by_case_are_refused(tmp_path, extra, message):
    from pipeline.core.config import load_config
    from pipeline.core.errors import ConfigError

    sources = _hostile_mirror(tmp_path)
    keys = {"id": "x", "kind": "mapping", "format": "mapex-json", "url": "https://example.org/m", "mirror": "mappings/CON-0.json",
            "framework": "other", "framework_version": "1", "domain": "enterprise", **extra}
    sources.write_text(sources.read_text(encoding="utf-8") + "\n[[source]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in keys.items()), encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(sources)
    assert message in str(exc.value) and "\n" not in str(exc.value)
