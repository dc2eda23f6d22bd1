"""Sigma rules → runnable queries in the SIEM languages a team chose, with pySigma.

A Sigma rule is a description of a search, not a search a SOC can paste; pySigma's
maintained backends (Kusto, Splunk, Elasticsearch) and their processing pipelines
(field and table mappings per product) turn it into one. This stage runs between the
graph and the renderers: `gather` converts every Sigma rule the build read into every
language of `[settings].query_languages` (default: Kusto for Microsoft Defender XDR),
through a cache keyed by the rule's text, the target and the versions of the code that
converts, and puts each result on the rule's graph node, so renderers only read.

A rule a backend cannot convert is a result too: its reason, as the backend words it,
counted per reason in the books. A hostile rule fails alone.
"""

from __future__ import annotations

from pipeline.convert.targets import DEFAULT_LANGUAGES, TARGETS, Target, target

__all__ = ["DEFAULT_LANGUAGES", "TARGETS", "Target", "target"]
