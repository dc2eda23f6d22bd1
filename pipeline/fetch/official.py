"""The published sha256 of official ATT&CK release files.

Two tables hold them and must agree (a test compares them): the `sha256` of each release
line in `data/sources.toml`, which lists a new release on release day without waiting
for a library upgrade, and mitreattack-python's (`mitreattack.release_info.STIX20` /
`STIX21`: domain → release → sha256 of `<domain>-attack.json` at mitre/cti tag
`ATT&CK-v<release>`, or of `<domain>-attack-<release>.json` in
mitre-attack/attack-stix-data). They pin the canonical download independently of our
own lock, so even the first download of a release is checked. They do not apply to a
mirror's copy, which is re-joined or compressed (other bytes, same content).
"""

from __future__ import annotations

from pipeline.core.config import Source


def published_sha256(source: Source) -> str | None:
    """mitreattack-python's hash of this release file, or None (not a release, or one it lacks)."""
    if source.kind != "attack" or not source.domain or not source.attack_version:
        return None
    try:
        # lazy: mitreattack-python costs ~0.6 s to import (it pulls in loguru); only asking MITRE for its releases needs it
        from mitreattack import release_info  # imported here: it pulls in loguru
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    table = release_info.STIX21 if source.stix_version == "2.1" else release_info.STIX20
    return table.get(source.domain, {}).get(source.attack_version)


def official_sha256(source: Source) -> str | None:
    """The published hash of this release file: the sources file's, else mitreattack-python's."""
    if source.kind != "attack":
        return None
    return source.sha256 or published_sha256(source)
