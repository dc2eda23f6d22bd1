"""The query languages a Sigma rule can be converted into: backend, processing pipeline,
and how the pages, the STIX bundles and the query packs name each.

Names, not objects: importing pySigma and building a pipeline costs about a second, which
a build whose conversions are all cached never pays. `backend()` imports on demand.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from pipeline.core import packages


@dataclass(frozen=True, slots=True)
class Target:
    """`name` is the `[settings].query_languages` word; `fence` the Pygments lexer of the
    page's code block (`text` where Pygments has none); `pattern_type` STIX's word for the
    language (open vocabulary); `suffix` the query pack's file extension; `native` the
    languages of the corpora's own queries that run on the same product."""

    name: str
    label: str
    language: str
    backend_module: str
    backend_class: str
    pipeline_module: str
    pipeline_function: str
    pipeline_name: str
    packages: tuple[str, ...]
    fence: str
    pattern_type: str
    suffix: str
    comment: str
    native: tuple[str, ...] = ()

    def backend(self):
        """A fresh backend with its processing pipeline (pySigma backends keep state
        per conversion, so one per worker batch)."""
        module = importlib.import_module(self.backend_module)
        pipeline = getattr(importlib.import_module(self.pipeline_module), self.pipeline_function)()
        return getattr(module, self.backend_class)(processing_pipeline=pipeline)

    def versions(self) -> dict[str, str]:
        """Installed versions of pySigma and the backend package (a new version may
        convert differently, so it is part of every cache key)."""
        found = packages.versions(("pysigma", *self.packages))
        return {name: version or "missing" for name, version in found.items()}

    def converter(self) -> str:
        """One line naming what converted: `pySigma 1.5.1, kusto backend 1.0.1, microsoft_xdr`."""
        v = self.versions()
        return ", ".join([f"pySigma {v['pysigma']}", *(f"{p} {v[p]}" for p in self.packages), f"pipeline {self.pipeline_name}"])


_KUSTO = ("pySigma-backend-kusto",)
_ELASTIC = ("pySigma-backend-elasticsearch",)

TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target(
            "kusto", "Kusto (Microsoft Defender XDR)", "KQL",
            "sigma.backends.kusto", "KustoBackend", "sigma.pipelines.microsoftxdr", "microsoft_xdr_pipeline", "microsoft_xdr",
            _KUSTO, "kusto", "kql", ".kql", "//", ("kql",),
        ),
        Target(
            "sentinel", "Kusto (Microsoft Sentinel ASIM)", "KQL",
            "sigma.backends.kusto", "KustoBackend", "sigma.pipelines.sentinelasim", "sentinel_asim_pipeline", "sentinel_asim",
            _KUSTO, "kusto", "kql", ".kql", "//",
        ),
        Target(
            "splunk", "Splunk SPL", "SPL",
            "sigma.backends.splunk", "SplunkBackend", "sigma.pipelines.splunk", "splunk_windows_pipeline", "splunk_windows",
            ("pySigma-backend-splunk",), "text", "spl", ".spl", "```", ("spl",),
        ),
        Target(
            "esql", "Elasticsearch ES|QL", "ES|QL",
            "sigma.backends.elasticsearch", "ESQLBackend", "sigma.pipelines.elasticsearch", "ecs_windows", "ecs_windows",
            _ELASTIC, "sql", "esql", ".esql", "//", ("esql",),
        ),
        Target(
            "lucene", "Elasticsearch Lucene", "Lucene",
            "sigma.backends.elasticsearch", "LuceneBackend", "sigma.pipelines.elasticsearch", "ecs_windows", "ecs_windows",
            _ELASTIC, "text", "lucene", ".lucene", "#", ("lucene",),
        ),
    )
}
DEFAULT_LANGUAGES = ("kusto",)


def target(name: str) -> Target:
    try:
        return TARGETS[name]
    except KeyError:
        raise KeyError(f"no query language {name!r} (known: {', '.join(TARGETS)})") from None
