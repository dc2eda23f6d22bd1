"""Where the repository and the offline mirror are, for tests and their helpers."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def mirror_dir() -> Path | None:
    """ATTACK_PIPELINE_MIRROR, else ../shared/data beside the repository; None if absent."""
    env = os.environ.get("ATTACK_PIPELINE_MIRROR")
    path = Path(env) if env else ROOT.parent / "shared" / "data"
    return path.resolve() if (path / "attack").is_dir() else None
