"""Detection content → `Detection` records: one small adapter module per published format.

An adapter module has `FORMAT`, `wanted(relpath) -> bool` (which files of a source
folder it reads) and `parse(data, ctx) -> list[Detection]`, raising only `InputError`
for a file it cannot read. `corpus.load_detections` walks the enabled sources, parses
on every core and caches what it parsed.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from pipeline.core.errors import ConfigError

# Format name in data/sources.toml → adapter module (imported on first use).
ADAPTERS: dict[str, str] = {
    "hunting-cards": "pipeline.ingest.detections.cards",
    "sigma-yaml": "pipeline.ingest.detections.sigma",
    "elastic-toml": "pipeline.ingest.detections.elastic",
    "splunk-yaml": "pipeline.ingest.detections.splunk",
}


def adapter(fmt: str) -> ModuleType:
    name = ADAPTERS.get(fmt)
    if name is None:
        raise ConfigError(f"no detection adapter for format {fmt!r} (known: {', '.join(sorted(ADAPTERS))})")
    return importlib.import_module(name)
