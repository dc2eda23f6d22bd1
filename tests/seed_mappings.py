"""The seed Mappings Explorer page of T1046 (../shared/seeds/mappings-page-T1046.txt) as rows."""

from __future__ import annotations

import re
from pathlib import Path

SEED = Path(__file__).resolve().parents[1].parent / "shared" / "seeds" / "mappings-page-T1046.txt"
# Score of each seed row of the 2021 Azure table, in seed order (from the brief).
SEED_AZURE_SCORES = [("protect", "partial"), ("detect", "partial"), ("protect", "partial"), ("detect", "partial"), ("protect", "partial"), ("detect", "significant")]
_ROW = re.compile(r"^(?:.*®)?(\S+) \| (.+?) \| (\w+) \| (T\d{4}(?:\.\d{3})?) \| (.+?) \|")


def parse_seed(path: Path = SEED) -> list[dict]:
    """One dict per table row: id, description, type, technique, name, and the comments
    printed under it."""
    rows = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        m = _ROW.match(line)
        if not m or m.group(1) == "Capability":
            continue
        row = dict(zip(("id", "description", "type", "technique", "name"), m.groups()))
        row["comments"] = ""
        if i + 1 < len(lines) and lines[i + 1] == "Comments":
            end = lines.index("References", i + 1)
            row["comments"] = " ".join(lines[i + 2:end])
        rows.append(row)
    return rows
