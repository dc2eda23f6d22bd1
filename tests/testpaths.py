"""Where the repository and the offline mirror are, for tests and their helpers."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The hypothesis profile tests/conftest.py loads ("fixed" unless this names another). Here
# rather than in conftest.py: `from conftest import` meets tests/stix/conftest.py first in
# a whole run.
HYPOTHESIS_PROFILE_ENV = "ATTACK_PIPELINE_HYPOTHESIS"


def mirror_dir() -> Path | None:
    """ATTACK_PIPELINE_MIRROR, else ../shared/data beside the repository; None if absent."""
    env = os.environ.get("ATTACK_PIPELINE_MIRROR")
    path = Path(env) if env else ROOT.parent / "shared" / "data"
    return path.resolve() if (path / "attack").is_dir() else None
