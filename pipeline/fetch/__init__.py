"""Fetch stage: turn a `Source` into a local path the ingest stage can read."""

from pipeline.fetch.mirror import Resolved, resolve, resolve_mirror_dir

__all__ = ["Resolved", "resolve", "resolve_mirror_dir"]
