"""Fetch stage: turn a `Source` into a local path the ingest stage can read.

Resolution order: the offline mirror, the cache, then the source's URL (or a
`--base-url` server). `resolve` / `Resolver.resolve` is the fast path every command
uses; `Resolver.fetch` is the checked path of the `fetch` command (see resolver.py).
"""

from pipeline.fetch.mirror import Resolved, resolve_mirror_dir
from pipeline.fetch.resolver import Fetched, Resolver, resolve

__all__ = ["Fetched", "Resolved", "Resolver", "resolve", "resolve_mirror_dir"]
