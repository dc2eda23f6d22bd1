"""`tables/coverage.xlsx`: every live technique with its controls and detections.

The coverage classes and colours are the Navigator layers' (`pipeline.graph.coverage`,
`CLASS_COLORS`), so the workbook and the layers of one build read the same way. The
matrix sheets lay techniques out as ATT&CK's matrix does (tactics as columns in matrix
order, each technique followed by its sub-techniques) with cells filled by class.
"""

from __future__ import annotations

import networkx as nx

from pipeline.graph.coverage import CLASS_LABELS, CLASSES, Coverage, coverage_by_technique
from pipeline.graph.query import tactic_order, techniques_of_tactic
from pipeline.excel.xlsx import Sheet, Styled
from pipeline.render.navigator.sets import CLASS_COLORS

TECHNIQUE_HEADER = ("Domain", "ATT&CK ID", "ATT&CK Name", "Sub-technique Of", "Tactics", "Platforms")


def _colors() -> dict[str, str]:
    return {k: v.lstrip("#") for k, v in CLASS_COLORS.items()}


def column_sets(g: nx.MultiDiGraph, cov: dict[str, Coverage], frameworks: set[str]) -> tuple[list[str], list[str]]:
    """Framework and detection-source columns: every enabled framework and detection
    source of the graph, even one that covers nothing (a column of zeros says so)."""
    fws = set(frameworks)
    sources = {n["source"] for _, n in g.nodes(data=True) if n["kind"] == "detection" and n.get("source")}
    for c in cov.values():
        fws.update(c.controls)
        sources.update(c.detections)
    return sorted(fws), sorted(sources)


def technique_sheet(g: nx.MultiDiGraph, cov: dict[str, Coverage], fws: list[str], sources: list[str], tactics: dict[str, str]) -> Sheet:
    colors = _colors()
    header = list(TECHNIQUE_HEADER)
    header += [f"Controls: {f}" for f in fws] + ["Controls"]
    header += [f"Detections: {s}" for s in sources] + ["Detections", "Coverage Class"]
    rows = []
    keys = sorted(cov, key=lambda k: (g.nodes[k]["domains"][0], g.nodes[k]["id"]))
    for key in keys:
        n = g.nodes[key]
        rec = n["record"]
        c = cov[key]
        rows.append(
            [
                ", ".join(n["domains"]),
                n["id"],
                n["name"],
                rec.parent or "",
                ", ".join(tactics.get(t, t) for t in rec.tactics),
                ", ".join(rec.platforms),
                *[c.controls.get(f, 0) for f in fws],
                c.n_controls,
                *[c.detections.get(s, 0) for s in sources],
                c.n_detections,
                Styled(CLASS_LABELS[c.klass], fill=colors[c.klass]),
            ]
        )
    return Sheet("techniques", header, rows)


def matrix_sheet(g: nx.MultiDiGraph, domain: str, cov: dict[str, Coverage]) -> Sheet:
    colors = _colors()
    order = tactic_order(g, domain)
    columns = []
    for t in order:
        cells = []
        for key in techniques_of_tactic(g, t, include_subtechniques=True):
            c = cov.get(key)
            if c is None:
                continue
            n = g.nodes[key]
            cells.append(Styled(f"{n['id']} {n['name']}", fill=colors[c.klass]))
        columns.append(cells)
    header = [g.nodes[f"tactic:{t}"]["name"] if f"tactic:{t}" in g else t for t in order]
    depth = max((len(c) for c in columns), default=0)
    rows = [[col[i] if i < len(col) else None for col in columns] for i in range(depth)]
    return Sheet(f"matrix {domain}", header, rows, widths=[32.0] * len(header), autofilter=False)


def legend_sheet() -> Sheet:
    colors = _colors()
    rows = [[Styled(CLASS_LABELS[k], fill=colors[k]), k, f"#{colors[k]}"] for k in CLASSES]
    return Sheet("legend", ("Coverage Class", "Key", "Colour"), rows, autofilter=False)


def coverage_sheets(g: nx.MultiDiGraph, domains: tuple[str, ...], frameworks: set[str], tactics: dict[str, str]) -> tuple[list[Sheet], int]:
    """The sheets of the workbook and the number of technique rows."""
    cov: dict[str, Coverage] = {}
    per_domain = {}
    for d in domains:
        per_domain[d] = coverage_by_technique(g, d)
        cov.update(per_domain[d])
    fws, sources = column_sets(g, cov, frameworks)
    sheets = [technique_sheet(g, cov, fws, sources, tactics)]
    sheets += [matrix_sheet(g, d, per_domain[d]) for d in domains]
    sheets.append(legend_sheet())
    return sheets, len(cov)
