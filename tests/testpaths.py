"""Where the repository and the offline mirror are, for tests and their helpers."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "data" / "sources.toml"
# The two Azure tables of the default sources: the 2025 one is enabled, the 2021 one is the
# seed page's (tests/conftest.py `azure2021_workspace` swaps them).
AZURE_2021 = "mapex/azure-06.29.2021/attack-8.2/enterprise"
AZURE_2025 = "mapex/azure-04.26.2025/attack-16.1/enterprise"
# The hypothesis profile tests/conftest.py loads ("fixed" unless this names another). Here
# rather than in conftest.py: `from conftest import` meets tests/render/stix/conftest.py first in
# a whole run.
HYPOTHESIS_PROFILE_ENV = "ATTACK_PIPELINE_HYPOTHESIS"


def mirror_dir() -> Path | None:
    """ATTACK_PIPELINE_MIRROR, else ../shared/data beside the repository; None if absent."""
    env = os.environ.get("ATTACK_PIPELINE_MIRROR")
    path = Path(env) if env else ROOT.parent / "shared" / "data"
    return path.resolve() if (path / "attack").is_dir() else None
