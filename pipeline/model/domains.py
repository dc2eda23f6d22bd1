"""The ATT&CK domains, in the order every listing uses.

A module of its own because the configuration reader needs the names on every
command's start: `pipeline.model.attack` would cost it the creation of eighteen
record classes (about 50 ms, a sixth of a build that has nothing to do).
"""

from __future__ import annotations

DOMAINS: tuple[str, ...] = ("enterprise", "mobile", "ics")
