"""Everything the page builders share, gathered once per build: which pages exist and
where, coverage, source metadata, ATT&CK citations, and the links between them.

Pages exist for: every live technique, tactic and group of the graph, every control or
capability with at least one mapping, every detection node (deprecated ones flagged),
every framework with a mapping table in the build, one list per detection source and
the index. A link to a node without a page degrades to its plain label, so a page can
never link to a file that was not written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import networkx as nx

from pipeline.graph.coverage import Coverage, coverage_by_technique
from pipeline.model.attack import AttackTexts
from pipeline.model.frameworks import framework as framework_info
from pipeline.render.pages import paths
from pipeline.core.escape import Md, local, text

CONTROL_KINDS = ("control", "capability")
# A table row or list item handed to a template: attribute access is what templates do
# most (half a million times a build), and Jinja2 reads a namespace's attributes directly
# where a dict costs it a failed attribute lookup first.
Row = SimpleNamespace


@dataclass(frozen=True, slots=True)
class DetectionSource:
    """A detection corpus as the pages present it: label, licence, upstream location."""

    name: str
    label: str
    license: str = ""
    github: str = ""  # owner/name
    commit: str = ""
    folder: str = ""  # the source's folder inside the repository

    def _url(self, how: str, path: str) -> str:
        inner = "/".join(p for p in (self.folder, path) if p)
        return f"https://github.com/{self.github}/{how}/{self.commit}" + (f"/{quote(inner)}" if inner else "")

    def file_url(self, path: str) -> str:
        return self._url("blob", path) if self.github and path else ""

    @property
    def tree_url(self) -> str:
        return self._url("tree", "") if self.github else ""

    @property
    def upstream(self) -> str:
        """`SigmaHQ/sigma@8eaafff`: where and at which commit the corpus was taken."""
        return f"{self.github}@{self.commit[:7]}" if self.github else ""


@dataclass(frozen=True, slots=True)
class MappingSource:
    """A mapping table of the build, for framework pages."""

    id: str
    framework: str
    framework_version: str
    domain: str
    attack_version: str
    url: str = ""
    license: str = ""
    mappings: int = 0


FORMAT_LABELS = {
    "hunting-cards": "Hunting queries (KQL)",
    "sigma-yaml": "Sigma",
    "elastic-toml": "Elastic",
    "splunk-yaml": "Splunk",
}


@dataclass
class Site:
    g: nx.MultiDiGraph
    out: Path
    attack_version: str
    texts: AttackTexts = field(default_factory=AttackTexts)
    detection_sources: dict[str, DetectionSource] = field(default_factory=dict)
    mapping_sources: list[MappingSource] = field(default_factory=list)
    pages: dict[str, str] = field(default_factory=dict)
    coverage: dict[str, Coverage] = field(default_factory=dict)
    by_kind: dict[str, list[str]] = field(default_factory=dict)
    # Markdown rendered once and reused by several pages (a detection's queries), by node key.
    memo: dict[str, Md] = field(default_factory=dict)
    # Where the build is published (settings.site_url); "" when it is not.
    site_url: str = ""
    # The matrix of each domain as the pictures draw it (`pictures.matrix`), made once.
    matrices: dict = field(default_factory=dict)
    # The ATT&CK Navigator the "Open in Navigator" links open (settings.navigator_url).
    navigator: str = "https://mitre-attack.github.io/attack-navigator/"
    # Names other renderers give their files (layers), worked out once when a page first links one.
    names: dict = field(default_factory=dict)
    # Technique node key -> one line per organisation profile of the build (its status and rank).
    profile_badges: dict[str, tuple[Md, ...]] = field(default_factory=dict)

    @classmethod
    def gather(cls, g: nx.MultiDiGraph, out: Path, attack_version: str, **kwargs) -> "Site":
        site = cls(g=g, out=out, attack_version=attack_version, **kwargs)
        site._plan()
        site.coverage = coverage_by_technique(g)
        return site

    def _plan(self) -> None:
        """Decide every page's path before any is written, so links are known up front."""
        g = self.g
        by_kind: dict[str, list[str]] = {}
        for key, n in g.nodes(data=True):
            by_kind.setdefault(n["kind"], []).append(key)
        for keys in by_kind.values():
            keys.sort()
        self.by_kind = by_kind
        pages = self.pages
        for key in by_kind.get("technique", []) + by_kind.get("tactic", []):
            n = g.nodes[key]
            if not n["deprecated"]:
                pages[key] = (paths.technique_page if n["kind"] == "technique" else paths.tactic_page)(n["id"])
        for key in by_kind.get("group", []):
            n = g.nodes[key]
            if not n["deprecated"] and not n.get("revoked") and paths.is_attack_id(n["id"]):
                pages[key] = paths.group_page(n["id"])
        folders: dict[str, list[str]] = {}
        for key in by_kind.get("control", []) + by_kind.get("capability", []):
            if any("source" in d for _, _, d in g.out_edges(key, data=True)):
                folders.setdefault(self._control_folder(key), []).append(key)
        for folder, keys in folders.items():
            names = paths.stems(g.nodes[k]["id"] for k in keys)
            for k in keys:
                pages[k] = f"{folder}/{names[g.nodes[k]['id']]}.md"
        sources: dict[str, list[str]] = {}
        for key in by_kind.get("detection", []):
            sources.setdefault(g.nodes[key]["source"], []).append(key)
        source_names = paths.stems(sources)  # one folder each, even for names that differ only by case
        for source, keys in sources.items():
            folder = f"detections/{source_names[source]}"
            names = paths.stems(g.nodes[k]["record"].native_id for k in keys)
            for k in keys:
                pages[k] = f"{folder}/{names[g.nodes[k]['record'].native_id]}.md"
            pages[f"detection_source:{source}"] = f"{folder}.md"
        for fw in self.frameworks():
            pages[f"framework:{fw}"] = paths.framework_page(fw)
        pages["index"] = "index.md"

    def _control_folder(self, key: str) -> str:
        """`controls/<framework>`; a framework present in several versions gets one
        sub-folder per version (AC-4 of rev4 and rev5 are different controls)."""
        n = self.g.nodes[key]
        folder = f"controls/{paths.file_stem(n['framework'])}"
        if n["kind"] == "control" and len(self.framework_versions(n["framework"])) > 1:
            folder += f"/{paths.file_stem(n['framework_version'])}"
        return folder

    def framework_versions(self, framework: str) -> list[str]:
        return sorted({s.framework_version for s in self.mapping_sources if s.framework == framework})

    def frameworks(self) -> list[str]:
        return sorted({s.framework for s in self.mapping_sources})

    def framework_label(self, framework: str) -> str:
        return framework_info(framework).label

    # --- links ------------------------------------------------------------------------------

    def link(self, from_page: str, key: str, label: Md | None = None) -> Md:
        """A relative link to the page of a node, or its plain label when it has none."""
        if label is None:
            n = self.g.nodes[key]
            label = text(n["id"])
        target = self.pages.get(key)
        return local(label, paths.relative(from_page, target)) if target else label

    def href(self, from_page: str, key: str) -> str | None:
        target = self.pages.get(key)
        return paths.relative(from_page, target) if target else None

    def named_link(self, from_page: str, key: str) -> Md:
        """`[T1046](…) Network Service Discovery`: id linked, name as text."""
        n = self.g.nodes[key]
        return Md(f"{self.link(from_page, key)} {text(n['name'])}".rstrip())

    def artifact(self, from_page: str, rel: str) -> str | None:
        """A link to another artifact of this build (layers/, reports/, stix/) if it exists."""
        if (self.out / rel).is_file():
            return paths.relative(f"docs/{from_page}", rel)
        return None
