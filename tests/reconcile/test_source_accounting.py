"""Nothing from a source is lost silently (real data, the default sources file).

For every mapping source (enabled or not) and every enabled detection corpus, the
books written to reports/reconcile/accounting.json must balance, and they are checked
against counts made here straight from the raw files and from the graph:

- a Mappings Explorer table's rows are its `mapping_objects`; a NIST TSV's rows are its
  non-blank data lines; a security-stack folder's rows are its score entries;
- every row of an enabled Mappings Explorer table is on an edge of the graph, or named
  by a warning that dropped it, or a mapping the graph kept out (non-mappable, unknown,
  revoked without successor), and the counts of each agree with the books;
- a corpus's rule files are counted by name here; every detection is one graph node.

The per-source table is printed at the end of the test.
"""

from __future__ import annotations

import csv
import io
import os
from collections import Counter
from pathlib import Path

import orjson
import pytest
import yaml

from pipeline.core.config import load_config
from testpaths import ROOT

RULE_FILES = {  # format → (suffixes, first folders or None for any)
    "sigma-yaml": ((".yml", ".yaml"), None),
    "elastic-toml": ((".toml",), ("rules", "rules_building_block", "hunting")),
    "splunk-yaml": ((".yml", ".yaml"), ("detections",)),
    "hunting-cards": ((".md", ".txt"), None),
}


def raw_rows(fmt: str, path: Path) -> int | None:
    """Rows of a mapping source counted from its raw file(s), independently of the adapters."""
    if fmt == "mapex-json":
        return len(orjson.loads(path.read_bytes())["mapping_objects"])
    if fmt == "nist-mappings-tsv":
        lines = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline=""), delimiter="\t"))
        return sum(1 for cells in lines[1:] if any(c.strip() for c in cells))
    if fmt == "security-stack-yaml":
        n = 0
        for f in sorted(path.iterdir()):
            if f.name.startswith(".") or not f.is_file():
                continue
            doc = yaml.load(f.read_bytes(), Loader=yaml.CSafeLoader)  # noqa: S506 - the C safe loader
            if not isinstance(doc, dict):
                continue  # an empty file holds no row (the adapter warns about it)
            techniques = doc.get("techniques") or []
            n += 0 if techniques else 1
            for t in techniques:
                n += len(t.get("technique-scores") or []) or 1
                for block in t.get("sub-techniques-scores") or []:
                    n += len(block["sub-techniques"]) * (len(block.get("scores") or []) or 1)
        return n
    return None  # the xlsx workbook: only its books are checked


def rule_files(fmt: str, root: Path) -> int:
    suffixes, folders = RULE_FILES[fmt]
    n = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        rel = Path(dirpath).relative_to(root)
        if folders is not None and (not rel.parts or rel.parts[0] not in folders):
            continue
        n += sum(1 for f in filenames if not f.startswith(".") and f.lower().endswith(suffixes) and f.lower() != "readme.md")
    return n


@pytest.fixture(scope="module")
def books(mirror, tmp_path_factory):
    from pipeline.gather import gather
    from pipeline.render.reconcile import render
    from pipeline.workspace import Workspace

    ws = Workspace.open(load_config(ROOT / "data" / "sources.toml"), mirror, None, ())
    g = ws.graph()
    out = tmp_path_factory.mktemp("accounting")
    render(gather(ws, g, renderers=("reconcile",), site_url="", options={}), out)
    doc = orjson.loads((out / "reports" / "reconcile" / "accounting.json").read_bytes())
    assert "Where every row went" in (out / "reports" / "reconcile" / "accounting.md").read_text()
    return ws, g, doc


@pytest.mark.realdata
def test_every_mapping_row_is_accounted_for(books, mirror, capsys):
    ws, g, doc = books
    by_id = {b["source"]: b for b in doc["mappings"]}
    mapping_sources = [s for s in ws.config.sources if s.kind == "mapping"]
    assert sorted(by_id) == sorted(s.id for s in mapping_sources)
    counted = 0
    for source in mapping_sources:
        b = by_id[source.id]
        # The two equations, from the numbers (not from the `balanced` flag).
        assert b["rows_read"] + b["expanded"] == b["mappings"] + sum(b["dropped_at_read"].values()), b
        assert b["mappings"] == b["in_graph"] + sum(b["not_in_graph"].values()), b
        assert b["balanced"] is True
        if not source.enabled:
            assert b["in_graph"] == 0 and b["not_in_graph"] == ({"source-disabled": b["mappings"]} if b["mappings"] else {})
        raw = raw_rows(source.format, ws.resolve(source).path)
        if raw is not None:
            assert b["rows_read"] == raw, (source.id, b["rows_read"], raw)
            counted += 1
    assert counted >= len(mapping_sources) - 1

    with capsys.disabled():
        print("\nmapping source | rows read | +pairs | dropped at read | mappings | in graph | not in graph")
        for b in doc["mappings"]:
            if b["enabled"] or b["dropped_at_read"] or b["expanded"]:
                print(f"  {b['source']} | {b['rows_read']} | {b['expanded']} | {b['dropped_at_read'] or '-'} | {b['mappings']} | "
                      f"{b['in_graph']} | {b['not_in_graph'] or '-'}")


@pytest.mark.realdata
def test_every_row_of_an_enabled_table_is_on_an_edge_or_named_with_its_reason(books):
    """Row by row, for the enabled Mappings Explorer tables: the graph's edges, the
    warnings that dropped rows and the mappings kept out cover every raw row once."""
    ws, g, doc = books
    by_id = {b["source"]: b for b in doc["mappings"]}
    edge_rows: dict[str, set] = {}
    for u, _v, d in g.edges(data=True):
        if g.nodes[u].get("kind") in ("control", "capability") and "source" in d:
            edge_rows.setdefault(d["source"], set()).update(d["rows"])
    tables = {rt.table.source_id: rt for rt in ws.controls().tables}
    for source in ws.config.enabled("mapping"):
        assert source.format == "mapex-json"
        rt = tables[source.id]
        b = by_id[source.id]
        raw = {f"mapping_objects[{i}]" for i in range(raw_rows(source.format, ws.resolve(source).path))}
        codes = set(b["dropped_at_read"])
        dropped = Counter(i.record for i in rt.table.issues if i.code in codes and i.problem.endswith(("skipped", "dropped")))
        kept_out = [r.mapping.row for r in rt.remapped if r.mapping.subject_id is None or r.technique_id is None]
        on_edges = edge_rows.get(source.id, set())
        assert len(on_edges) == b["in_graph"], source.id
        assert sum(dropped.values()) == sum(b["dropped_at_read"].values()), source.id
        assert len(kept_out) == sum(b["not_in_graph"].values()), source.id
        assert on_edges | set(dropped) | set(kept_out) == raw, source.id
        assert len(on_edges) + sum(dropped.values()) + len(kept_out) == len(raw), source.id


@pytest.mark.realdata
def test_every_detection_file_is_accounted_for(books, capsys):
    ws, g, doc = books
    by_id = {b["source"]: b for b in doc["detections"]}
    sources = ws.config.enabled("detection")
    assert sorted(by_id) == sorted(s.id for s in sources)
    nodes = Counter(d["source"] for _k, d in g.nodes(data=True) if d.get("kind") == "detection")
    ids = {load.info.source_id: load for load in ws.detections().loads}
    for source in sources:
        b = by_id[source.id]
        load = ids[source.id]
        assert b["files_read"] == rule_files(source.format, ws.resolve(source).path), source.id
        assert b["files_read"] == b["files_with_detections"] + sum(b["files_without_detections"].values()), b
        assert b["detections"] == b["in_graph"] == nodes[load.info.name], b
        assert len({d.id for d in load.detections}) == b["detections"]
        assert b["in_graph"] == sum(b["linked"].values())
        assert b["balanced"] is True
    with capsys.disabled():
        print("\ndetection source | files in folder | rule files | with detections | without (reason) | detections | graph nodes (technique/tactic only/unlinked)")
        for b in doc["detections"]:
            link = b["linked"]
            print(f"  {b['source']} | {b['files_in_folder']} | {b['files_read']} | {b['files_with_detections']} | "
                  f"{b['files_without_detections'] or '-'} | {b['detections']} | {b['in_graph']} "
                  f"({link['technique']}/{link['tactic_only']}/{link['unlinked']})")
