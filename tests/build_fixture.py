"""A small real build for the integrity and output-path tests: the page tests' mirror
(one ATT&CK release, one enabled mapping table, two folder sources of detections),
built through the command line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

import pages_fixture
from pipeline.build import sweep
from pipeline.cli import cli

TABLE_ID = "mapex/azure-test/enterprise"
TABLE = "mappings/azure.json"
AZURE_LAYER = "layers/enterprise/frameworks/azure/overview.json"


def run(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env or {}, catch_exceptions=False)


@dataclass
class Small:
    root: Path
    mirror: Path
    sources: Path
    out: Path

    @property
    def opts(self) -> list[str]:
        return ["--mirror", str(self.mirror), "--sources", str(self.sources), "--domain", "enterprise"]

    @property
    def builds(self) -> Path:
        return self.out.parent / f".{self.out.name}.builds"

    def build(self, *extra, out: Path | None = None):
        return run("build", *self.opts, "--out", out or self.out, *extra)

    def edit_rule(self, n: int) -> None:
        """A new input: one Sigma rule's description changes."""
        rule = self.mirror / "detections" / "sigma" / "rules" / "plain.yml"
        text = rule.read_text(encoding="utf-8")
        rule.write_text(re.sub(r"Detects a scanner[^\"]*", f"Detects a scanner ({n}).", text), encoding="utf-8")

    def folders(self) -> list[str]:
        sweep.wait(self.builds)  # older builds are deleted in the background
        return sorted(p.name for p in self.builds.iterdir() if p.is_dir())


def small_mirror(root: Path) -> Small:
    sources = pages_fixture.write_mirror(root)
    return Small(root, root / "mirror", sources, root / "out")


def same_size_edit(path: Path) -> bytes:
    """Change one byte of a file, keeping its size; returns the original bytes."""
    data = path.read_bytes()
    i = data.index(b"T1046")
    path.write_bytes(data[:i] + b"T1047" + data[i + 5 :])
    return data
