"""The CI gate on a profile's results: what fails, and the same verdict as JUnit XML and
SARIF so that CI systems show it natively.

Three checks, each failure one line:

- `coverage-regression`: a technique whose coverage is lower than in the baseline's
  results (covered → partial or uncovered, partial → uncovered);
- `top-uncovered`: a technique of the profile's top N priorities that is uncovered;
- `stale-id`: a finding of severity `error` from resolving the profile: a deployed rule or
  a mapped control on a revoked, deprecated or unknown technique id, a control, rule,
  group or data component the release does not have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from pipeline.model.profile import STATUS_ORDER

CHECKS = {
    "coverage-regression": "Coverage of a technique is lower than in the baseline build",
    "top-uncovered": "A technique among the profile's top priorities is uncovered",
    "stale-id": "The profile deploys or names an id that is revoked, deprecated or unknown in the release",
}


@dataclass(frozen=True, slots=True)
class Failure:
    check: str
    subject: str
    message: str
    needle: str = ""  # text to find in the profile file for a line number


@dataclass(frozen=True)
class Verdict:
    profile: str
    file: str
    attack_version: str
    top_n: int
    failures: tuple[Failure, ...]
    summary: dict
    baseline: dict | None = None
    # check -> items examined (stale-id: findings that are warnings only)
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


def evaluate(results: dict, baseline: dict | None = None, top_n: int | None = None) -> Verdict:
    rows = results["techniques"]
    failures: list[Failure] = []
    checked = {name: 0 for name in CHECKS}
    if baseline is not None:
        for tid, before in sorted(baseline.get("techniques", {}).items()):
            now = rows.get(tid)
            if now is None:
                continue  # not a live technique of this release: the release diff reports it
            checked["coverage-regression"] += 1
            if STATUS_ORDER[now["status"]] < STATUS_ORDER.get(before.get("status", "uncovered"), 0):
                failures.append(
                    Failure("coverage-regression", tid, f"{tid} {now['name']}: {before['status']} in the baseline, {now['status']} now", tid)
                )
    n = top_n if top_n is not None else results["profile"]["top_n"]
    ranked = sorted((r for r in rows.values() if r["priority"]), key=lambda r: r["priority"]["rank"])[:n]
    for r in ranked:
        checked["top-uncovered"] += 1
        if r["status"] == "uncovered":
            failures.append(Failure("top-uncovered", r["id"], f"{r['id']} {r['name']} is uncovered and ranks {r['priority']['rank']} of the priorities", r["id"]))
    for f in results["findings"]:
        if f["severity"] != "error":
            checked["stale-id"] += 1  # warnings: reported in results.json, not failed on
        else:
            failures.append(Failure("stale-id", f["subject"], f"{f['subject']}: {f['problem']}", _needle(f)))
    return Verdict(
        profile=results["profile"]["id"],
        file=results["profile"]["file"],
        attack_version=results["attack_version"],
        top_n=n,
        failures=tuple(failures),
        summary=results["summary"],
        baseline=baseline.get("summary") if baseline else None,
        checked=checked,
    )


def _needle(f: dict) -> str:
    """The id a finding is about, as the profile writes it: the first quoted value of
    its problem, else its first word."""
    m = re.search(r"'([^']+)'", f["problem"])
    return m.group(1) if m else f["problem"].split(" ", 1)[0]


def junit_xml(v: Verdict) -> str:
    """One test case per failure, and one passing case per check that found nothing."""
    cases = []
    for name in CHECKS:
        mine = [f for f in v.failures if f.check == name]
        if not mine:
            cases.append(f'    <testcase classname="attack-pipeline.check.{name}" name={quoteattr(f"{name}: {v.checked[name]} checked")}/>')
        for f in mine:
            cases.append(
                f'    <testcase classname="attack-pipeline.check.{name}" name={quoteattr(f.subject)}>\n'
                f"      <failure type={quoteattr(name)} message={quoteattr(f.message)}>{escape(f.message)}</failure>\n"
                "    </testcase>"
            )
    tests = len(cases)
    suite = quoteattr(f"attack-pipeline check {v.profile}")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="attack-pipeline" tests="{tests}" failures="{len(v.failures)}" errors="0">\n'
        f'  <testsuite name={suite} tests="{tests}" failures="{len(v.failures)}" errors="0" skipped="0">\n'
        + "\n".join(cases)
        + "\n  </testsuite>\n</testsuites>\n"
    )


def sarif(v: Verdict, profile_text: str, uri: str, version: str) -> dict:
    """SARIF 2.1.0: one result per failure, located in the profile file where its id is
    written (else on line 1)."""
    lines = profile_text.splitlines()

    def line_of(needle: str) -> int:
        if needle:
            for i, line in enumerate(lines, 1):
                if needle in line:
                    return i
        return 1

    rules = [{"id": name, "name": name, "shortDescription": {"text": text}, "defaultConfiguration": {"level": "error"}} for name, text in CHECKS.items()]
    results = [
        {
            "ruleId": f.check,
            "ruleIndex": list(CHECKS).index(f.check),
            "level": "error",
            "message": {"text": f.message},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": line_of(f.needle)}}}],
            "partialFingerprints": {"attackPipeline/v1": f"{f.check}:{f.subject}"},
        }
        for f in v.failures
    ]
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "attack-pipeline", "version": version, "rules": rules}},
                "results": results,
            }
        ],
    }


def summary_lines(v: Verdict, shown: int = 5) -> list[str]:
    s = v.summary["status"]
    head = f"check {v.profile} (ATT&CK {v.attack_version}, {v.file}): {'passed' if v.ok else 'FAILED'}"
    out = [head, f"  coverage:     {s['covered']} covered, {s['partial']} partial, {s['uncovered']} uncovered of {v.summary['techniques']}"]
    if v.baseline is not None:
        b = v.baseline["status"]
        out[-1] += f" (baseline {b['covered']}, {b['partial']}, {b['uncovered']})"
    labels = {"coverage-regression": "regressions", "top-uncovered": f"top {v.top_n}", "stale-id": "stale ids"}
    for name, label in labels.items():
        mine = [f for f in v.failures if f.check == name]
        if name == "coverage-regression" and v.baseline is None:
            out.append(f"  {label + ':':<13} not checked (no --baseline)")
            continue
        if not mine and name == "stale-id":
            warned = v.checked[name]
            out.append(f"  {label + ':':<13} none" + (f" ({warned} warning(s) in results.json)" if warned else ""))
            continue
        if not mine:
            out.append(f"  {label + ':':<13} none ({v.checked[name]} checked)")
            continue
        out.append(f"  {label + ':':<13} {len(mine)}")
        out.extend(f"    {f.message}" for f in mine[:shown])
        if len(mine) > shown:
            out.append(f"    … and {len(mine) - shown} more (--junit or --sarif for all)")
    return out
