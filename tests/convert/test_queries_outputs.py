"""What a build writes from the conversions, on the small written mirror of the page
tests: the query packs, the STIX indicators' converted patterns (valid under
stix2-validator), the books, `show --query`, and a second build that converts nothing."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import pages_fixture as fx
from pipeline.cli import cli


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    from pipeline.build import build
    from pipeline.core.config import load_config
    from pipeline.workspace import Workspace

    root = tmp_path_factory.mktemp("queries-small")
    sources = fx.write_mirror(root)
    ws = Workspace.open(load_config(sources), root / "mirror")
    build(ws, root / "out")
    return root, ws


def kusto_of(ws, rule_id: str) -> str:
    (query,) = next(c for c in ws.graph().nodes[f"detection:sigma:{rule_id}"]["conversions"] if c.language == "kusto").queries
    return query


def test_query_pack_of_t1046(small):
    root, ws = small
    pack = (root / "out" / "queries" / "kusto" / "T1046.kql").read_text(encoding="utf-8")
    card = ws.graph().nodes[next(k for k in ws.graph() if k.startswith("detection:cards:"))]["record"].queries[0].text
    assert pack == "\n".join(
        [
            "// T1046 Network Service Discovery: queries in Kusto (Microsoft Defender XDR) for ATT&CK 18.1",
            "// Sigma rules converted by pySigma 1.5.1, pySigma-backend-kusto 1.0.1, pipeline microsoft_xdr",
            "",
            f"// T1046 Network Service Scanning ({next(k for k in ws.graph() if k.startswith('detection:cards:'))[10:]}; level not given, status not given)",
            card,
            "",
            f"// Port scan tool (sigma:{fx.PLAIN_ID}; level medium, status test)",
            kusto_of(ws, fx.PLAIN_ID),
            "",
            f"// Scan <script>alert('title')</script> [x](javascript:alert(1)) | pipe (sigma:{fx.HOSTILE_ID}; level medium, status test)",
            kusto_of(ws, fx.HOSTILE_ID),
        ]
    ) + "\n"
    index = json.loads((root / "out" / "queries" / "index.json").read_text(encoding="utf-8"))
    kusto = index["languages"]["kusto"]
    assert (kusto["techniques"], kusto["queries"], kusto["pattern_type"]) == (1, 3, "kql")
    assert [q["query"] for q in kusto["files"][0]["queries"]][1:] == [kusto_of(ws, fx.PLAIN_ID), kusto_of(ws, fx.HOSTILE_ID)]


def test_indicator_carries_the_converted_pattern_and_validates(small):
    from stix2validator import ValidationOptions, validate_instance

    root, ws = small
    bundle = json.loads((root / "out" / "stix" / "detections" / "sigma.json").read_text(encoding="utf-8"))
    ind = next(o for o in bundle["objects"] if o["type"] == "indicator" and o["x_native_id"] == fx.PLAIN_ID)
    assert ind["pattern_type"] == "sigma"
    assert ind["x_converted_patterns"] == [
        {"pattern": kusto_of(ws, fx.PLAIN_ID), "pattern_type": "kql", "language": "kusto",
         "converter": "pySigma 1.5.1, pySigma-backend-kusto 1.0.1, pipeline microsoft_xdr"}
    ]
    ext = next(o for o in bundle["objects"] if o["type"] == "extension-definition")
    assert "x_converted_patterns" in ext["schema"]
    result = validate_instance(bundle, ValidationOptions(version="2.1", disabled="103"))
    assert result.is_valid, [str(e) for e in result.errors][:5]


def test_books_count_every_rule(small):
    root, _ = small
    books = json.loads((root / "out" / "reports" / "reconcile" / "accounting.json").read_text(encoding="utf-8"))
    assert books["queries"] == [
        {"language": "kusto", "converter": "pySigma 1.5.1, pySigma-backend-kusto 1.0.1, pipeline microsoft_xdr",
         "sigma_rules": 2, "converted": 2, "not_converted": {}, "balanced": True}
    ]


def test_show_query_prints_the_pack(small):
    root, ws = small
    r = CliRunner().invoke(cli, ["show", "T1046", "--query", "kusto", "--mirror", str(root / "mirror"), "--sources", str(root / "sources.toml")], env={})
    assert r.exit_code == 0, r.output
    assert r.stdout == (root / "out" / "queries" / "kusto" / "T1046.kql").read_text(encoding="utf-8")
    r = CliRunner().invoke(cli, ["show", "T1046", "--query", "splunk", "--mirror", str(root / "mirror"), "--sources", str(root / "sources.toml")], env={})
    assert r.exit_code == 0
    assert r.stdout.split("\n")[:2] == [
        "```T1046 Network Service Discovery: queries in Splunk SPL for ATT&CK 18.1```",
        "```Sigma rules converted by pySigma 1.5.1, pySigma-backend-splunk 2.1.0, pipeline splunk_windows```",
    ]
    assert 'Image="*\\\\nmap.exe"' in r.stdout
    r = CliRunner().invoke(cli, ["show", "T1046", "--query", "kql", "--mirror", str(root / "mirror"), "--sources", str(root / "sources.toml")], env={})
    assert r.exit_code == 2 and "Invalid value for '--query'" in r.output


def test_a_second_build_converts_nothing(small):
    from pipeline.build import build
    from pipeline.core.config import load_config
    from pipeline.workspace import Workspace

    root, first = small
    assert first.cache["query_conversions"]  # the first build converted (or found) both rules
    ws = Workspace.open(load_config(root / "sources.toml"), root / "mirror")
    result = build(ws, root / "out", force=True)
    (found,) = ws.cache["query_conversions"].values()
    assert (found.converted, found.cached) == (0, 2)
    assert "queries" in result.renderers  # rendered again (the pack), from the cached conversions


def test_a_cold_build_converts_beside_the_parse_and_writes_the_same_files(small, tmp_path, monkeypatch):
    """With no query cache, the rules are converted where their files are parsed
    (`convert.gather.alongside`) and the conversion step only takes the results: the
    outputs are those of a build that converts after the graph."""
    from pipeline.build import build
    from pipeline.convert import gather
    from pipeline.core.config import load_config
    from pipeline.workspace import Workspace

    root, _ = small

    def cold_build(name: str):
        monkeypatch.setenv("ATTACK_PIPELINE_CACHE", str(tmp_path / name / "cache"))
        ws = Workspace.open(load_config(root / "sources.toml"), root / "mirror")
        build(ws, tmp_path / name / "out")
        manifest = json.loads((tmp_path / name / "out" / "manifest.json").read_text())
        return ws, {a["path"]: a["sha256"] for a in manifest["artifacts"]}

    beside, files = cold_build("beside")
    assert sorted(beside.cache[gather.ALONGSIDE]) == list(beside.config.query_languages)
    assert gather.converted_alongside(beside)  # so the build collects pySigma's cycles after the graph
    (found,) = beside.cache["query_conversions"].values()
    assert (found.converted, found.cached) == (2, 0)
    monkeypatch.setattr(gather, "alongside", lambda ws: None)
    after, files_after = cold_build("after")
    assert gather.ALONGSIDE not in after.cache and not gather.converted_alongside(after)
    assert files == files_after
