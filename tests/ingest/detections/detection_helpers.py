"""Helpers of the detection tests: small source folders and contexts written by the tests."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.core.config import Source
from pipeline.ingest.detections.common import FileContext, SourceInfo

REPO = Path(__file__).resolve().parents[3]


def ctx_for(fmt: str, relpath: str = "rules/x.yml", name: str = "test") -> FileContext:
    return FileContext(source=SourceInfo(name=name, source_id=f"detections/{name}", format=fmt, license="MIT"), relpath=relpath, file=relpath)


def source_for(fmt: str, name: str = "test") -> Source:
    return Source(id=f"detections/{name}", kind="detection", format=fmt, url="https://example.org/x.tar.gz", mirror_path=f"detections/{name}", folder=True, license="MIT")


def write(root: Path, relpath: str, content: str | bytes) -> Path:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def corpus_files(root: Path, suffixes: tuple[str, ...], tops: tuple[str, ...] | None = None) -> list[Path]:
    """Files of a corpus found by walking it here, independently of the loader."""
    out = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.suffix.lower() in suffixes and (tops is None or rel.split("/")[0] in tops):
                out.append(path)
    return sorted(out)


def native_ids(records) -> dict:
    """Work beside the parse, for the tests (`corpus.Alongside`): the batch's records'
    native ids and the process that parsed them."""
    return {"ids": sorted(r.native_id for r in records), "pid": os.getpid()}


def failing_work(records) -> dict:
    raise RuntimeError("the work beside the parse failed")


def unsendable_work(records) -> object:
    return {"records": {object()}}
