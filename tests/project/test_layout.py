"""The tests mirror the package: the tests of `pipeline/X/` are in `tests/X/`, those of
`pipeline/X/Y/` in `tests/X/Y/` where a group of them has its own folder (tests/README.md).

A test file at the top of tests/, or under a folder that names no package of `pipeline/`,
is one a newcomer would not find; only the few suites that are about no single package have
folders of their own, listed here with the reason. The test files' names are also unique
across the tree (pytest imports them by base name, tests/ having no `__init__.py`), and no
folder is one pytest skips (its default `norecursedirs` holds `build`: tests/build/ would
silently not run)."""

from __future__ import annotations

import tomllib
from collections import Counter
from fnmatch import fnmatch
from pathlib import Path

from testpaths import ROOT

TESTS = ROOT / "tests"
PACKAGE = ROOT / "pipeline"

# Folders about no single package of pipeline/, and why.
CROSS_CUTTING = {
    "fuzz": "property tests of every parser at once, the suite `make fuzz` runs with new inputs",
    "end_to_end": "whole runs through the command line over several stages (a new release's shape, a fresh clone)",
    "project": "the repository and the suite themselves: the architecture's rules, this layout, the markers, the hypothesis profiles",
}
# Folders of data the tests read, not tests.
DATA = {"golden"}


def _test_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if p.name.startswith("test_") or p.name.endswith("_test.py"))


def _is_package(parts: tuple[str, ...]) -> bool:
    return (PACKAGE.joinpath(*parts) / "__init__.py").is_file()


def test_every_test_file_is_under_a_package_folder_or_a_listed_suite():
    misplaced = []
    for path in _test_files():
        folders = path.relative_to(TESTS).parts[:-1]
        if not folders:
            misplaced.append(f"{path.relative_to(ROOT)}: at the top of tests/")
        elif folders[0] in CROSS_CUTTING:
            if len(folders) > 1:
                misplaced.append(f"{path.relative_to(ROOT)}: a sub-folder of the cross-cutting tests/{folders[0]}/")
        elif not _is_package(folders):
            misplaced.append(f"{path.relative_to(ROOT)}: pipeline/{'/'.join(folders)}/ is not a package")
    assert not misplaced, "tests/X/ holds the tests of pipeline/X/ (tests/README.md):\n" + "\n".join(misplaced)


def test_cross_cutting_folders_are_not_package_names():
    assert not [name for name in set(CROSS_CUTTING) | DATA if _is_package((name,))]


def test_test_file_names_are_unique():
    counts = Counter(p.name for p in _test_files())
    assert not [name for name, n in counts.items() if n > 1]


def test_pytest_recurses_into_every_folder_of_tests():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    patterns = config["norecursedirs"]
    folders = [d for d in TESTS.rglob("*") if d.is_dir() and not any(part.startswith((".", "__")) for part in d.relative_to(TESTS).parts)]
    skipped = [d.relative_to(ROOT).as_posix() for d in folders if any(fnmatch(d.name, pattern) for pattern in patterns)]
    assert not skipped, f"pytest would not collect these folders (norecursedirs in pyproject.toml): {skipped}"
