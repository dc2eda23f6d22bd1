"""`reports/diff-OLD-NEW.*`: the release diff from the previous release in the sources.

A build against release V compares each domain's V with the next-older release of that
domain listed in the sources, so regenerating on a new release also says what changed.
An older release listed but not at hand (mirror or cache) is passed over for the next
one that is, so that a build never downloads for its report. A domain without an older release is skipped, and `reports/diffs.json` says so (a note,
not a warning: a first release is not bad input, and `--strict` must not fail on it).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core.writing import write_json
from pipeline.diff.run import write


def render(ctx, out: Path) -> list[Path]:
    reports = out / "reports"
    index: dict[str, dict] = {}
    written: list[Path] = []
    for d in ctx.part("diffs"):  # compared while gathering (pipeline.gather.diffs)
        if d.result is None:
            index[d.domain] = {"skipped": d.skipped}
            continue
        files = write(d.result, reports)
        index[d.domain] = {"old": d.previous, "new": ctx.attack_version, "files": [p.name for p in files]}
        written.extend(files)
    written.append(write_json(reports / "diffs.json", index))
    return written
