"""The layout keeps its promises: every module of `pipeline/` against the parts and the
"never" rules of docs/architecture.json (a renderer never imports ingest, fetch or the
workspace; the model does no I/O; only the command line prints and exits).

The rules are read from the repository, not written here, so that the picture in the
docs and the test cannot drift apart. Imports are found by walking each module's syntax
tree, inside functions and conditional blocks too: a hidden import is still a
dependency. Calls are matched by the name they are made through (`print(...)`,
`sys.exit(...)`, `raise SystemExit`).

What breaks a rule today is listed in ALLOWED, which may only shrink: the test fails on
a new breach and on an allowed one that is gone (delete its line).

Three rules of shape hold too: every module belongs to a part; an import inside a
function says what it saves (a `# lazy:` comment on its line or the line above: a heavy
library or a module a quick command never needs, measured — docs/architecture.md); and
the imports that run when a module is imported (module level, `if TYPE_CHECKING:` left
out) form no cycle, so any module can be imported first.
"""

from __future__ import annotations

import ast
import json
from functools import cache
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "pipeline"
RULES = ROOT / "docs" / "architecture.json"

# Breaches of today, "<module> imports <module>" or "<module> calls <name>".
ALLOWED: frozenset[str] = frozenset()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The module an `ImportFrom` names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str, path: Path, tree: ast.AST) -> set[str]:
    """Every module `module` imports, at any depth of its code; `from a import b` counts
    as `a` and, where `b` is a module, `a.b`."""
    known = _modules()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, path.name == "__init__.py", node)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known)
    return found


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def calls_of(tree: ast.AST) -> set[str]:
    """Names called (`print`, `sys.exit`, `sys.stderr.write`) and `raise SystemExit`."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            found.add(_dotted(node.func))
        elif isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if _dotted(exc) == "SystemExit":
                found.add("SystemExit")
    found.discard("")
    return found


@cache
def rules() -> dict:
    return json.loads(RULES.read_text(encoding="utf-8"))


def part_of(module: str) -> str | None:
    for name, prefixes in rules()["parts"].items():
        if any(module == p or module.startswith(p + ".") or p == f"{module}.__init__" for p in prefixes):
            return name
    return None


def _in(module: str, prefixes: list[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _forbidden(names: list[str]) -> list[str]:
    """Module prefixes of the parts (and of the `io_modules`, `network_modules` lists) a rule names."""
    doc = rules()
    out: list[str] = []
    for name in names:
        if name in _LISTS:
            out += doc[name]
        else:
            out += doc["parts"][name]
    return out


_LISTS = ("io_modules", "network_modules")


def _applies(rule: dict, part: str | None) -> bool:
    if rule["part"] == "*":
        return part not in rule.get("except", ())
    return part == rule["part"]


@cache
def breaches() -> frozenset[str]:
    found: set[str] = set()
    for module, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        part = part_of(module)
        imports = calls = None
        for rule in rules()["never"]:
            if not _applies(rule, part):
                continue
            if "imports" in rule:
                imports = imports_of(module, path, tree) if imports is None else imports
                banned = _forbidden(rule["imports"])
                found.update(f"{module} imports {m}" for m in imports if _in(m, banned) and not _in(m, rules()["parts"].get(part or "", [])))
            if "calls" in rule:
                calls = calls_of(tree) if calls is None else calls
                found.update(f"{module} calls {c}" for c in calls if c in rule["calls"])
    return frozenset(found)


def test_the_rules_name_known_parts():
    doc = rules()
    for rule in doc["never"]:
        assert rule["part"] == "*" or rule["part"] in doc["parts"], rule
        for name in [*rule.get("imports", ()), *rule.get("except", ())]:
            assert name in _LISTS or name in doc["parts"], (rule["why"], name)
        assert rule["why"].strip()


def test_every_part_exists():
    modules = _modules()
    for name, prefixes in rules()["parts"].items():
        for prefix in prefixes:
            assert any(_in(m, [prefix.removesuffix(".__init__")]) for m in modules), f"part {name!r}: no module {prefix}"


def test_every_module_belongs_to_a_part():
    """A module of no part escapes every rule written for parts."""
    lost = sorted(m for m in _modules() if part_of(m) is None)
    assert not lost, "add to a part of docs/architecture.json:\n" + "\n".join(lost)


def lazy_without_reason(source: str) -> list[str]:
    """`line: statement` of each import inside a function that has no `# lazy:` comment
    on its line or on the line just above."""
    lines = source.splitlines()
    found = []

    def walk(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if in_function and isinstance(child, (ast.Import, ast.ImportFrom)):
                above = lines[child.lineno - 2].strip() if child.lineno > 1 else ""
                if "# lazy:" not in lines[child.lineno - 1] and not above.startswith("# lazy:"):
                    found.append(f"{child.lineno}: {ast.unparse(child)}")
            walk(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    walk(ast.parse(source), False)
    return found


def test_imports_inside_functions_say_what_they_save():
    """Imports belong at the top of the module, where a reader and the cycle check below
    see them; one inside a function must earn its place by saving measurable start-up
    time (a heavy library, or modules a quick command never needs) and say so."""
    found = [f"{path.relative_to(ROOT)}:{hit}" for path in _modules().values() for hit in lazy_without_reason(path.read_text(encoding="utf-8"))]
    assert not found, "move to module level, or say what it saves with `# lazy: ...`:\n" + "\n".join(found)


def _module_level_imports(tree: ast.Module):
    """The import statements that run when the module is imported: its body's, inside
    `if`, `try` and `with` too, except under `if TYPE_CHECKING:`."""

    def walk(body):
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                yield node
            elif isinstance(node, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(node.test):
                    yield from walk(node.body)
                yield from walk(node.orelse)
            elif isinstance(node, ast.Try):
                for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                    yield from walk(block)
            elif isinstance(node, ast.With):
                yield from walk(node.body)

    yield from walk(tree.body)


def runs_on_import(module: str, is_package: bool, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The modules of pipeline/ an import statement in `module` runs: the modules it names
    (`from a import b` names `a.b` where that is a module, else `a`) and their packages'
    `__init__`, except the packages `module` is itself inside (already being imported)."""
    known = _modules()
    if isinstance(node, ast.Import):
        named = [alias.name for alias in node.names]
    else:
        base = _absolute(module, is_package, node)
        subs = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known]
        named = subs + ([base] if len(subs) < len(node.names) else [])
    out = set()
    for name in named:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            step = ".".join(parts[:i])
            own_package = i < len(parts) and (module == step or module.startswith(step + "."))
            if step in known and step != module and not own_package:
                out.add(step)
    return out


@cache
def import_graph() -> nx.DiGraph:
    g = nx.DiGraph()
    for module, path in _modules().items():
        g.add_node(module)
        for node in _module_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
            for target in runs_on_import(module, path.name == "__init__.py", node):
                g.add_edge(module, target, line=node.lineno)
    return g


def test_module_level_imports_form_no_cycle():
    """A cycle works or fails by which module is imported first (`cannot import name ...
    from partially initialized module`); the fix is a better place for what both need,
    not an import hidden in a function."""
    g = import_graph()
    try:
        cycle = nx.find_cycle(g)
    except nx.NetworkXNoCycle:
        return
    pytest.fail("import cycle: " + " -> ".join(f"{a} (line {g.edges[a, b]['line']})" for a, b in cycle) + f" -> {cycle[0][0]}")


def test_no_new_breach():
    new = sorted(breaches() - ALLOWED)
    assert not new, "breaks docs/architecture.json:\n" + "\n".join(new)


def test_allowlist_only_shrinks():
    gone = sorted(ALLOWED - breaches())
    assert not gone, "no longer a breach, delete it from ALLOWED:\n" + "\n".join(gone)


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("def f():\n    from pipeline.ingest.bundle import read_bundle\n", "pipeline.render.x", {"pipeline.ingest.bundle"}),
        ("from ...fetch import cache\n", "pipeline.render.stix", {"pipeline.fetch", "pipeline.fetch.cache"}),
        ("from ..naming import report_stem\n", "pipeline.render.stix", {"pipeline.render.naming"}),
        ("if True:\n    import pipeline.workspace as w\n", "pipeline.render.x", {"pipeline.workspace"}),
    ],
)
def test_imports_are_found_at_any_depth(source, module, expected):
    path = PACKAGE / "render" / ("stix/__init__.py" if module.endswith("stix") else "x.py")
    assert imports_of(module, path, ast.parse(source)) == expected


def test_calls_are_found_at_any_depth():
    tree = ast.parse("import sys\ndef f():\n    print(1)\n    if x:\n        sys.exit(2)\n    raise SystemExit(3)\n")
    assert calls_of(tree) >= {"print", "sys.exit", "SystemExit"}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import os\ndef f():\n    import yaml\n", ["3: import yaml"]),
        ("def f():\n    # lazy: PyYAML costs 20 ms\n    import yaml\n", []),
        ("def f():\n    import yaml  # lazy: PyYAML costs 20 ms\n", []),
        ("def f():\n    # lazy: rich\n    import rich\n    import yaml\n", ["4: import yaml"]),
        ("class C:\n    def m(self):\n        if x:\n            from a import b\n", ["4: from a import b"]),
    ],
)
def test_lazy_imports_are_found(source, expected):
    assert lazy_without_reason(source) == expected


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("from pipeline.render.navigator.layer import Layer\n", "pipeline.diff.formats", {"pipeline.render", "pipeline.render.navigator", "pipeline.render.navigator.layer"}),
        ("from pipeline.render.naming import report_stem\n", "pipeline.render.stix", {"pipeline.render.naming"}),
        ("from pipeline.build import answers\n", "pipeline.cli.show", {"pipeline.build", "pipeline.build.answers"}),
        ("from pipeline.build import answers\n", "pipeline.build", {"pipeline.build.answers"}),
    ],
)
def test_an_import_runs_its_packages(source, module, expected):
    is_package = module in ("pipeline.render.stix", "pipeline.build")
    assert runs_on_import(module, is_package, ast.parse(source).body[0]) == expected


def test_type_checking_imports_are_not_edges():
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\nelse:\n    import b\ntry:\n    import c\nexcept ImportError:\n    import d\n")
    assert [ast.unparse(n) for n in _module_level_imports(tree)] == ["from typing import TYPE_CHECKING", "import b", "import c", "import d"]
