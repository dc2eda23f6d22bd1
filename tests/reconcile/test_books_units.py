"""The books of a source balance whatever its rows hold (small inputs written here).

Property tests feed the mapping adapters arbitrary rows and check that every row is
either a mapping or dropped with a counted reason — exactly once — and that pattern
rows add exactly the pairs they expand to. The detection books are checked on a small
corpus with a broken rule, a rule-less card and a file that is not a rule.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import networkx as nx
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.config import Source
from pipeline.graph.detections import add_detections
from pipeline.ingest.detections.corpus import load_source
from pipeline.ingest.mappings import TableSpec, Universe
from pipeline.ingest.mappings.mapex import read_mapex
from pipeline.ingest.mappings.nist_tsv import read_nist_tsv
from pipeline.ingest.mappings.security_stack import read_security_stack
from pipeline.reconcile.accounting import detection_books

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAPEX = TableSpec(source_id="t/mapex", format="mapex-json", framework="aws", framework_version="1", attack_version="16.1")
TSV = TableSpec(source_id="t/tsv", format="nist-mappings-tsv", framework="nist_800_53", framework_version="rev5", attack_version="12.1")
STACK = TableSpec(source_id="t/stack", format="security-stack-yaml", framework="azure", framework_version="1", attack_version="8.2")
DROP_WORDS = ("skipped", "dropped")

ids = st.sampled_from(["T1046", "T1003", "T1003.001", "t1046", "T10x6", "", " ", None, 7, "AC-2", "AC-4"])
value = st.one_of(ids, st.sampled_from(["protect", "detect", "minimal", "Partial", "significant", "bogus", "technique_scores",
                                        "non_mappable", "complete", "mitigates"]), st.none(), st.integers(-1000, 1000), st.lists(st.text(max_size=3), max_size=2))
row = st.one_of(
    st.fixed_dictionaries(
        {"capability_id": st.sampled_from(["a", "b", "", None]), "attack_object_id": ids},
        optional={"mapping_type": value, "score_category": value, "score_value": value, "status": value, "comments": value},
    ),
    st.sampled_from([None, 3, "row", []]),  # not an object at all
)


def _file(tmp: str, name: str, data: bytes) -> Path:
    path = Path(tmp) / name
    path.write_bytes(data)
    return path


def balanced(table) -> bool:
    return table.rows + table.expanded == len(table.mappings) + sum(n for _code, n in table.dropped)


@SETTINGS
@given(st.lists(row, max_size=12))
def test_mapex_every_row_is_a_mapping_or_dropped_once(rows):
    with tempfile.TemporaryDirectory() as tmp:
        table = read_mapex(_file(tmp, "t.json", orjson.dumps({"metadata": {}, "mapping_objects": rows})), MAPEX)
    assert table.rows == len(rows) and table.expanded == 0
    assert balanced(table)
    kept = [m.row for m in table.mappings]
    dropped = [i.record for i in table.issues if i.problem.endswith(DROP_WORDS)]
    assert sorted(kept + dropped) == sorted(f"mapping_objects[{i}]" for i in range(len(rows)))
    by_code: dict[str, int] = {}
    for i in table.issues:
        if i.problem.endswith(DROP_WORDS):
            by_code[i.code] = by_code.get(i.code, 0) + 1
    assert dict(table.dropped) == by_code


tsv_cell = st.sampled_from(["T1003", "T1003.*", "T1003(\\.00[12])?", "T9(", "T1046", "", "AC-2", "AC-(2|4)", "AC-.*", "AC-9", "xx"])


@SETTINGS
@given(st.lists(st.tuples(tsv_cell, tsv_cell), max_size=10))
def test_nist_tsv_pattern_rows_add_exactly_their_pairs(rows):
    techniques = Universe(["T1003", "T1003.001", "T1003.002", "T1046"])
    controls = Universe(["AC-2", "AC-4", "AC-2(1)"])
    content = "controlID\ttechniqueID\n" + "".join(f"{c}\t{t}\n" for t, c in rows)
    with tempfile.TemporaryDirectory() as tmp:
        table = read_nist_tsv(_file(tmp, "t.tsv", content.encode()), TSV, techniques=techniques, controls=controls)
    assert table.rows == sum(1 for t, c in rows if t or c)
    assert balanced(table), (table.rows, table.expanded, len(table.mappings), table.dropped)
    # Pairs are counted independently: a row whose two sides both expand adds the product.
    expected = 0
    seen = set()
    for t, c in rows:
        if not (t or c) or (t, c) in seen:
            continue
        seen.add((t, c))
        try:
            nt, nc = len(techniques.expand(t)) if t else 0, len(controls.expand(c)) if c else 0
        except Exception:  # noqa: BLE001 - a pattern that does not compile expands to nothing
            continue
        if "(" not in t and "*" not in t:
            nt = 1 if t in ("T1003", "T1046") else 0
        if "(" not in c and "*" not in c:
            nc = 1 if c in ("AC-2", "AC-9") else 0
        if nt and nc:
            expected += nt * nc - 1
    assert table.expanded == expected


def test_security_stack_rows_and_drops(tmp_path):
    folder = tmp_path / "Azure"
    folder.mkdir()
    (folder / "a.yaml").write_text(
        """
name: Thing One
ATT&CK version: "8.2"
techniques:
  - id: T1046
    name: Network Service Discovery
    technique-scores:
      - category: Protect
        value: Partial
      - category: Sideways
        value: Partial
      - just a string
    sub-techniques-scores:
      - sub-techniques:
          - id: T1003.001
            name: LSASS Memory
          - 5
        scores:
          - category: Detect
            value: Minimal
      - no list here
  - 42
  - id: T1003
    technique-scores: []
""",
        encoding="utf-8",
    )
    (folder / "b.yaml").write_text("name: Thing Two\ntechniques: []\n", encoding="utf-8")
    table = read_security_stack(folder, STACK)
    # Rows: 3 scores + 2 sub-technique entries + 1 block without a list + 1 non-mapping
    # entry + 1 entry without scores + 1 file without techniques (non-mappable).
    assert table.rows == 9
    assert balanced(table)
    assert dict(table.dropped) == {"bad-row": 3, "bad-score": 1, "missing-score": 2}
    assert len(table.mappings) == 3


def test_detection_books_count_every_file(tmp_path):
    root = tmp_path / "sigma"
    (root / "rules").mkdir(parents=True)
    (root / "rules" / "good.yml").write_text(
        "title: Good\nid: 11111111-1111-1111-1111-111111111111\ntags: [attack.t1046]\nlogsource: {product: windows}\n"
        "detection: {sel: {a: b}, condition: sel}\n",
        encoding="utf-8",
    )
    (root / "rules" / "broken.yml").write_text("title: [unclosed\n", encoding="utf-8")
    (root / "rules" / "notes.yml").write_text("just: a mapping without a rule\n", encoding="utf-8")
    (root / "README.md").write_text("not a rule\n", encoding="utf-8")
    source = Source(id="detections/sigma", kind="detection", format="sigma-yaml", url="https://example.org/x.tar.gz",
                    mirror_path="detections/sigma", folder=True, license="DRL-1.1")
    load = load_source(source, root, cache_dir=None)
    g = nx.MultiDiGraph()
    g.add_node("technique:T1046", kind="technique", domains=("enterprise",))
    add_detections(g, load.detections)
    [books] = detection_books([load], g)
    assert books["files_in_folder"] == 4 and books["not_rule_files"] == 1 and books["files_read"] == 3
    assert books["files_with_detections"] + sum(books["files_without_detections"].values()) == 3
    assert books["detections"] == books["in_graph"] == len(load.detections) >= 1
    assert sum(books["linked"].values()) == books["in_graph"]  # not reconciled here: linked to nothing
    assert all(code.startswith(("detection-", "no-detection")) for code in books["files_without_detections"]), books
    assert books["balanced"] is True
    # A detection that never reached the graph unbalances the books.
    g.remove_node(f"detection:{load.detections[0].id}")
    assert detection_books([load], g)[0]["balanced"] is False
