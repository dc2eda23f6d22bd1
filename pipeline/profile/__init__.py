"""Profile stage: an organisation's profile scored on the graph (coverage by what is
deployed, visibility by what is collected, ranked priorities, gaps per adversary) and
the CI gate on those results (`check`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # `check` imports this package on its fast path: no networkx at import
    import networkx as nx

    from pipeline.model.profile import Profile
    from pipeline.profile.threat import ThreatData


def results(g: "nx.MultiDiGraph", profile: "Profile", threat: "ThreatData") -> dict:
    """Everything the renderers and `check` read about one profile, as plain data."""
    # lazy: pipeline.profile.resolve would add 0.51 s (networkx, yaml) to every command's start-up (`--help` too)
    from pipeline.profile.resolve import resolve
    # lazy: pipeline.profile.score would add 0.49 s (networkx, yaml) to every command's start-up (`--help` too)
    from pipeline.profile.score import compute
    # lazy: pipeline.profile.threat would add 0.23 s (networkx) to every command's start-up (`--help` too)
    from pipeline.profile.threat import reconcile_ctid

    resolved = resolve(g, profile, threat)
    return compute(g, resolved, reconcile_ctid(g, threat.ctid), ctid_source=threat.ctid_file)
