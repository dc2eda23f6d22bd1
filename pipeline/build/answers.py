"""The answers of a build: every node's `show` view and the graph's counts, in SQLite.

`show`, `stats` and name lookups used to load the whole graph from the sources (about 3 s
on the default inputs, growing with the corpora) to print one technique. A build has that
graph in memory anyway, so it writes each view once, keyed by node; a question then costs
one indexed read, whatever the size of the inputs. The file is keyed by the build's
fingerprint and lives in the cache (the pipeline's own state), never among the
artifacts. Views are JSON; the names table carries what lookups by name need.
"""

from __future__ import annotations

import difflib
import pickle
import re
import sqlite3
import textwrap
from dataclasses import asdict, dataclass, fields, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import orjson

from pipeline.core.atomic import atomic_path, write_atomic
from pipeline.core.perf import paused_gc

if TYPE_CHECKING:  # reading answers must not pay for importing networkx
    import networkx as nx

SCHEMA = "1"
# Node kinds `show` answers for, in the order a name shared by several is listed.
KINDS = ("technique", "tactic", "group", "software", "campaign", "mitigation", "control", "capability", "detection")
KEEP = 4  # answer files kept in the cache (the live build, the previous one, a little slack)
# Graphs kept beside them: `layer` needs the whole graph (about 45 MB pickled on the
# default inputs), so only the live build's and the previous one's.
KEEP_GRAPHS = 2
_TECHNIQUE_ID = re.compile(r"^T\d{4}(\.\d{3})?$")


def normalise_technique_id(text: str) -> str | None:
    """As pipeline.graph.query's, without importing the graph (answers stay fast to read)."""
    value = text.strip().removeprefix("technique:").upper().replace("/", ".")
    return value if _TECHNIQUE_ID.match(value) else None


def _json(value) -> bytes:
    return orjson.dumps(value, default=_plain, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def _plain(value):
    if is_dataclass(value):
        return asdict(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def node_view(g: nx.MultiDiGraph, key: str) -> dict:
    """Any node as plain data: a technique's full view, else the node's attributes and
    the techniques its edges reach (mitigates, uses, detects, mapped controls)."""
    # lazy: pipeline.graph.query would add 0.24 s (networkx) to every command's start-up (`--help` too)
    from pipeline.graph import query
    # lazy: pipeline.graph.views would add 0.27 s (networkx) to every command's start-up (`--help` too)
    from pipeline.graph.views import technique_view

    n = g.nodes[key]
    if n["kind"] == "technique":
        return technique_view(g, query.Lookup(key))
    view = {k: v for k, v in n.items() if k not in ("record",)}
    record = n.get("record")
    if record is not None and n["kind"] == "detection":
        view["queries"] = [asdict(q) for q in record.queries]
        view["description"] = record.description
        view["status"] = record.status
        view["source"] = record.source
        view["path"] = record.path
        view["references"] = list(record.references)
    elif record is not None and is_dataclass(record):
        # The few fields shown, not `asdict` of the whole record (it copies every field
        # deeply); the view is only ever serialised, which reads them as they are.
        for f in fields(record):
            if f.name in _RECORD_FIELDS:
                value = getattr(record, f.name)
                if value:
                    view.setdefault(f.name, value)
    techniques: dict[str, set] = {}
    nodes = g.nodes
    # The adjacency dicts directly: networkx's edge views cost most of the time on 12,000 nodes.
    for neighbours in (g.succ[key], g.pred[key]):
        for v, keyed in neighbours.items():
            if nodes[v]["kind"] == "technique":
                relations = techniques.setdefault(v, set())
                for d in keyed.values():
                    relations.add(d.get("relation", ""))
    view["techniques"] = sorted(
        ({"id": nodes[t]["id"], "name": nodes[t]["name"], "relations": sorted(r)} for t, r in techniques.items()),
        key=lambda t: t["id"],
    )
    return view


_RECORD_FIELDS = frozenset(("description", "text", "aliases", "platforms", "url", "attack_id"))



def revoked_view(g: nx.MultiDiGraph, key: str) -> dict:
    """A revoked technique id: where it leads, for a `show` of the old id."""
    rev = g.graph["revoked"][key]
    return {"revoked": rev.attack_id, "status": rev.status, "chain": list(rev.chain), "reason": rev.reason, "target": rev.target}


def write(g: nx.MultiDiGraph, path: Path, meta: dict, progress: Callable[[int, int], None] | None = None) -> None:
    """Every answerable node's view into a fresh SQLite file, swapped in atomically."""
    keys = sorted(k for k, d in g.nodes(data=True) if d.get("kind") in KINDS)
    revoked = sorted(k for k in g.graph.get("revoked", {}) if k.startswith("technique:") and k not in g)
    with atomic_path(path) as tmp:
        db = sqlite3.connect(tmp)
        with db:
            db.execute("CREATE TABLE meta (k TEXT PRIMARY KEY, v BLOB)")
            db.execute("CREATE TABLE nodes (key TEXT PRIMARY KEY, kind TEXT, id TEXT, name TEXT, view BLOB)")
            db.execute("CREATE INDEX nodes_id ON nodes (id COLLATE NOCASE)")
            db.execute("CREATE INDEX nodes_name ON nodes (name COLLATE NOCASE)")
            db.executemany("INSERT INTO meta VALUES (?, ?)", [(k, _json(v)) for k, v in {**meta, "schema": SCHEMA}.items()])
            rows = []
            for i, key in enumerate(keys):
                n = g.nodes[key]
                rows.append((key, n["kind"], n["id"], n["name"], _json(node_view(g, key))))
                if progress and i % 200 == 0:
                    progress(i, len(keys))
            db.executemany("INSERT INTO nodes VALUES (?, ?, ?, ?, ?)", rows)
            db.executemany(
                "INSERT INTO nodes VALUES (?, 'revoked', ?, '', ?)",
                [(k, g.graph["revoked"][k].attack_id, _json(revoked_view(g, k))) for k in revoked],
            )
        db.close()
    _prune(path.parent, keep=path)


def _prune(folder: Path, keep: Path) -> None:
    found = sorted(folder.glob("*.sqlite"), key=_mtime, reverse=True)
    for old in [p for p in found if p != keep][KEEP - 1 :]:
        old.unlink(missing_ok=True)
    graphs = sorted(folder.glob("*.graph.pickle"), key=_mtime, reverse=True)
    kept = {graph_file_for(keep)}
    for old in [p for p in graphs if p not in kept][KEEP_GRAPHS - 1 :]:
        old.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # pruned meanwhile by another build
        return 0.0


def file_for(cache: Path, fingerprint: str) -> Path:
    return cache / "parsed" / "answers" / f"{fingerprint[:32]}.sqlite"


def graph_file_for(answers_file: Path) -> Path:
    """The whole graph of the build whose answers are `answers_file`."""
    return answers_file.with_name(answers_file.name.removesuffix(".sqlite") + ".graph.pickle")


def write_graph(g: nx.MultiDiGraph, answers_file: Path) -> None:
    """The build's graph, pickled beside its answers, for questions a view cannot answer
    (`layer` selects mapping records across the whole graph): one load of ~0.3 s instead
    of reading every source. Written before the answers file, which is what readers check.

    Detection nodes go without their parsed rule (`record`: the rule's text, queries and
    references, which `show` has in its views and layers never read): on the default inputs
    that is a third of the file and more than half of its load time, and the share grows
    with the corpora. The records are put back on the build's graph afterwards."""
    kept = {k: d.pop("record") for k, d in g.nodes(data=True) if d.get("kind") == "detection" and "record" in d}
    try:
        write_atomic(graph_file_for(answers_file), lambda fh: pickle.dump(g, fh, protocol=pickle.HIGHEST_PROTOCOL))
    finally:
        for k, record in kept.items():
            g.nodes[k]["record"] = record


def read_graph(answers_file: Path) -> "nx.MultiDiGraph | None":
    """The pickled graph of a build (see write_graph), or None when it is missing or
    unreadable (pruned, written by other code): the caller reads the sources instead."""
    try:
        with open(graph_file_for(answers_file), "rb") as fh, paused_gc():
            g = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError, IndexError):
        return None
    # lazy: networkx costs ~0.35 s to import; reading answers needs it only for a graph
    import networkx as nx

    return g if isinstance(g, nx.MultiDiGraph) else None


@dataclass(frozen=True, slots=True)
class Match:
    key: str
    kind: str
    id: str
    name: str

    def line(self) -> str:
        return f"{self.id} {self.name} ({self.kind})".replace("  ", " ")


class Answers:
    """Read side of an answers file (read-only; a missing or foreign file is None)."""

    def __init__(self, db: sqlite3.Connection, meta: dict) -> None:
        self.db = db
        self.meta = meta

    @classmethod
    def open(cls, path: Path) -> "Answers | None":
        if not path.is_file():
            return None
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            meta = {k: orjson.loads(v) for k, v in db.execute("SELECT k, v FROM meta")}
        except (sqlite3.Error, orjson.JSONDecodeError):
            return None
        if meta.get("schema") != SCHEMA:
            db.close()
            return None
        return cls(db, meta)

    def close(self) -> None:
        self.db.close()

    def view(self, key: str) -> dict | None:
        row = self.db.execute("SELECT view FROM nodes WHERE key = ?", (key,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def by_id_or_name(self, text: str) -> list[Match]:
        rows = self.db.execute(
            "SELECT key, kind, id, name FROM nodes WHERE id = ? COLLATE NOCASE OR key = ? OR name = ? COLLATE NOCASE",
            (text, text, text),
        ).fetchall()
        return [Match(*r) for r in rows]

    def all_names(self) -> list[Match]:
        return [Match(*r) for r in self.db.execute("SELECT key, kind, id, name FROM nodes WHERE kind != 'revoked'")]


def graph_matches(g: nx.MultiDiGraph, text: str) -> list[Match]:
    """The same lookup as `Answers.by_id_or_name`, on a graph in memory."""
    low = text.lower()
    out = []
    for key, d in g.nodes(data=True):
        if d.get("kind") in KINDS and (key == text or d["id"].lower() == low or (d.get("name") or "").lower() == low):
            out.append(Match(key, d["kind"], d["id"], d["name"]))
    rev = g.graph.get("revoked", {})
    for key, r in rev.items():
        if key.startswith("technique:") and key not in g and (key == text or r.attack_id.lower() == low):
            out.append(Match(key, "revoked", r.attack_id, ""))
    return out


def graph_names(g: nx.MultiDiGraph) -> list[Match]:
    return [Match(k, d["kind"], d["id"], d["name"]) for k, d in g.nodes(data=True) if d.get("kind") in KINDS]


def order(matches: list[Match]) -> list[Match]:
    rank = {k: i for i, k in enumerate(KINDS)}
    return sorted(matches, key=lambda m: (rank.get(m.kind, len(KINDS)), m.id, m.key))


def did_you_mean(text: str, names: list[Match], n: int = 5) -> list[Match]:
    """Close ids and names (difflib), and for a technique id the technique it extends
    (T1046.001 → T1046) and its sub-techniques."""
    by_id: dict[str, list[Match]] = {}
    by_name: dict[str, list[Match]] = {}
    for m in names:
        by_id.setdefault(m.id.lower(), []).append(m)
        if m.name:
            by_name.setdefault(m.name.lower(), []).append(m)
    low = text.strip().lower()
    out: list[Match] = []
    parent = low.split(".")[0]
    family = [m for m in by_id.get(parent, []) if m.kind == "technique"] if parent != low else []
    if family:  # a sub-technique that is not there: the technique and its sub-techniques
        out.extend(family)
        out.extend(m for k, ms in sorted(by_id.items()) if k.startswith(parent + ".") for m in ms if m.kind == "technique")
        return out[:n]
    for found in difflib.get_close_matches(low, list(by_id), n=n, cutoff=0.75):
        out.extend(by_id[found])
    for found in difflib.get_close_matches(low, list(by_name), n=n, cutoff=0.6):
        out.extend(by_name[found])
    if len(low) >= 4:
        out.extend(m for k, ms in sorted(by_name.items()) if low in k for m in ms)
    seen, unique = set(), []
    for m in out:
        if m.key not in seen:
            seen.add(m.key)
            unique.append(m)
    return unique[:n]


def text_of(view: dict) -> str:
    """Any non-technique view as text (techniques have their own layout in `show`)."""
    kind = view["kind"]
    label = kind
    if view.get("framework"):
        label += f", {view['framework']} {view.get('framework_version') or ''}".rstrip()
    if view.get("source") and kind == "detection":
        label += f", {view['source']}"
    out = [f"{view['id']} {view.get('name') or ''}{' [deprecated]' if view.get('deprecated') else ''}  ({label})"]
    if view.get("url"):
        out.append(f"  {view['url']}")
    family = view.get("family_name") or view.get("group_name")
    if family:
        out.append(f"  {'family' if kind == 'control' else 'group'}: {view.get('family') or view.get('group')} {family}")
    if view.get("aliases"):
        out.append(f"  aliases: {', '.join(view['aliases'])}")
    if view.get("status"):
        out.append(f"  status: {view['status']}")
    if view.get("path"):
        out.append(f"  file: {view['path']}")
    body = (view.get("description") or view.get("text") or "").split("\n\n")[0]
    if body:
        out.append("")
        out.extend(textwrap.wrap(body, 100, initial_indent="  ", subsequent_indent="  "))
    techniques = view.get("techniques", [])
    out.append("")
    out.append(f"techniques ({len(techniques)}):")
    for t in techniques:
        out.append(f"  {t['id']} {t['name']} ({', '.join(r for r in t['relations'] if r)})".replace(" ()", ""))
    for q in view.get("queries", []):
        label = f" — {q['label']}" if q.get("label") else ""
        out.append("")
        out.append(f"query ({q['language']}){label}:")
        out.extend(f"  {line}" for line in (q.get("text") or "").rstrip().splitlines())
    return "\n".join(out)
