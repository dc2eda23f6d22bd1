"""Fixtures for the detection tests: the real mirror, one shared load of every corpus,
and helpers that write small source folders of their own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.config import Source, load_config
from pipeline.ingest.detections.common import FileContext, SourceInfo

REPO = Path(__file__).resolve().parents[2]


def mirror_dir() -> Path:
    return Path(os.environ.get("ATTACK_PIPELINE_MIRROR") or REPO.parent / "shared" / "data")


@pytest.fixture(scope="session")
def mirror() -> Path:
    path = mirror_dir()
    if not (path / "detections").is_dir():
        pytest.skip(f"offline mirror not found at {path} (set ATTACK_PIPELINE_MIRROR)")
    return path


@pytest.fixture(scope="session")
def config():
    return load_config(REPO / "data" / "sources.toml")


@pytest.fixture(scope="session")
def workspace(mirror, config):
    from pipeline.workspace import Workspace

    return Workspace.open(config, mirror)


@pytest.fixture(scope="session")
def detection_set(workspace, tmp_path_factory):
    """Every enabled source plus ATT&CK's analytics, parsed once for the session."""
    from pipeline.ingest.detections.load import load_detections

    return load_detections(workspace, cache_dir=tmp_path_factory.mktemp("parsed"), jobs=2)


@pytest.fixture(scope="session")
def by_source(detection_set):
    out: dict[str, list] = {}
    for d in detection_set.detections:
        out.setdefault(d.source, []).append(d)
    return out


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
