"""Release diff: what changed in ATT&CK between two releases, and what that does to coverage.

    attack.py    two AttackReleases → ReleaseDiff (objects keyed by STIX id)
    coverage.py  two graphs + the diff → CoverageImpact (controls and detections)
    document.py  ReleaseDiff + CoverageImpact → one JSON-ready document
    render.py    the document → Markdown and a Navigator layer
    run.py       load a release pair, compute, write the three files
"""

from pipeline.diff.attack import ReleaseDiff, diff_releases

__all__ = ["ReleaseDiff", "diff_releases"]
