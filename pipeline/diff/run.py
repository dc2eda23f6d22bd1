"""Load a release pair, compare, and write `diff-OLD-NEW.{md,json}` and its layer.

Shared by the `diff` command and the build's `diff` renderer, so both write the same
files for the same pair. Other domains than Enterprise carry the domain in the file
name (`diff-mobile-17.1-18.1.md`) so one reports folder can hold every domain's diff.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pipeline.core.config import Config, version_key
from pipeline.core.errors import ConfigError
from pipeline.model.attack import AttackRelease
from pipeline.core.writing import write_json
from pipeline.diff.attack import diff_releases
from pipeline.diff.coverage import coverage_impact
from pipeline.diff.document import diff_document
from pipeline.diff.formats import layer
from pipeline.diff.formats import markdown
from pipeline.diff.tactics import as_document, tactic_changes

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class DiffResult:
    """One domain's diff: the report's name, its document and its layer. Small on
    purpose: a build makes it in a worker and keeps it in the diff cache, so it holds
    no release (the target release alone pickles to 21 MB, 0.4 s each way)."""

    stem: str
    document: dict
    layer: dict


def stem(domain: str, old: str, new: str) -> str:
    return f"diff-{old}-{new}" if domain == "enterprise" else f"diff-{domain}-{old}-{new}"


def previous_version(config: Config, domain: str, version: str, at_hand: Callable[[str], bool] | None = None) -> str | None:
    """The next-older release of `domain` listed in the sources (with `at_hand`, the
    next-older one it accepts: a listed release not fetched yet is passed over), or None."""
    older = [
        s.attack_version
        for s in config.attack_releases(domain)
        if s.attack_version and version_key(s.attack_version) < version_key(version)
        and (at_hand is None or at_hand(s.attack_version))
    ]
    return max(older, key=version_key) if older else None


def check_pair(config: Config, domain: str, old: str, new: str) -> None:
    """Both releases listed for the domain; else one ConfigError line."""
    for v in (old, new):
        if config.attack_release(domain, v) is None:
            listed = ", ".join(s.attack_version or "" for s in config.attack_releases(domain)) or "none"
            raise ConfigError(f"no {domain} ATT&CK release {v} in the sources (listed: {listed})", file=config.file)


def compare(old_ws, new_ws, domain: str, progress: Progress = lambda _m: None) -> DiffResult:
    """Diff of `domain` between two workspaces (each may hold other domains too)."""
    old_ws.share_parsed(new_ws)
    old_graph = old_ws.graph(progress)
    new_graph = new_ws.graph(progress)
    old_release = _release(old_ws, domain)
    new_release = _release(new_ws, domain)
    progress("comparing")
    diff = diff_releases(old_release, new_release)
    coverage = coverage_impact(diff, old_graph, new_graph)
    name = stem(domain, diff.old_version, diff.new_version)
    document = diff_document(diff, coverage)
    document["tactics"] = as_document(tactic_changes(old_release, new_release, old_graph, new_graph))
    return DiffResult(stem=name, document=document, layer=layer(diff, new_graph, name))


def _release(ws, domain: str) -> AttackRelease:
    for release in ws.releases():
        if release.domain == domain:
            return release
    raise ConfigError(f"no {domain} release {ws.attack_version} was loaded")


def write(result: DiffResult, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / f"{result.stem}.md"
    md.write_text(markdown(result.document), encoding="utf-8")
    return [
        md,
        write_json(out_dir / f"{result.stem}.json", result.document),
        write_json(out_dir / f"{result.stem}-layer.json", result.layer),
    ]
