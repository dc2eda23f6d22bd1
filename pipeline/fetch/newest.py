"""Which ATT&CK release a command works on when none is named: the newest one at hand.

On release day the sources list a release before anyone has fetched it; offline, in CI
or on an air-gapped network it is not there at all. Failing every command for that would
punish listing it early, so the default target is the newest listed release that the
mirror or the cache already holds, and each newer listed release is named in one notice
with the command that fetches it. Nothing here touches the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.core.config import Config, version_key
from pipeline.fetch.resolver import Resolver


@dataclass(frozen=True, slots=True)
class DefaultRelease:
    version: str
    # Newer listed releases of the domain that no copy is at hand for (newest first).
    missing: tuple[str, ...] = ()

    @property
    def notice(self) -> str | None:
        """One line for the user, or None when the newest listed release is used."""
        if not self.missing:
            return None
        newest = self.missing[0]
        return (
            f"ATT&CK {newest} is listed but not available offline; using {self.version} "
            f"(run `attack-pipeline fetch --attack-version {newest}` to get it)"
        )


def available(config: Config, mirror: Path | None, domain: str, version: str, resolver: Resolver | None = None) -> bool:
    """True when the mirror or the cache holds this release of `domain`."""
    source = config.attack_release(domain, version)
    if source is None:
        return False
    resolver = resolver or Resolver.for_config(config, mirror)
    return resolver.available(source) is not None


def default_release(config: Config, mirror: Path | None, domain: str = "enterprise") -> DefaultRelease:
    """The newest listed release of `domain` at hand; the newest listed one when none is
    (it will then be downloaded, or fail naming where it was looked for)."""
    listed = sorted(
        {s.attack_version or "" for s in config.attack_releases(domain)}, key=version_key, reverse=True
    )
    if not listed:
        return DefaultRelease(version=config.newest_attack_version(domain))  # raises: none listed
    resolver = Resolver.for_config(config, mirror)
    for i, version in enumerate(listed):
        if available(config, mirror, domain, version, resolver):
            return DefaultRelease(version=version, missing=tuple(listed[:i]))
    return DefaultRelease(version=listed[0])
