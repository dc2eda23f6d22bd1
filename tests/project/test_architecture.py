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
"""

from __future__ import annotations

import ast
import json
from functools import cache
from pathlib import Path

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
        if any(module == p or module.startswith(p + ".") for p in prefixes):
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
            assert any(_in(m, [prefix]) for m in modules), f"part {name!r}: no module {prefix}"


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
