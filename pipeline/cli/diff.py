"""`diff OLD NEW`: what changed in ATT&CK between two releases, and its impact on coverage."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import click

from pipeline.cli.common import CliError, emit_json, errors_as_exit, mirror_option, progress, report_issues, settings_applied, sources_file_option, strict_option
from pipeline.core.config import load_config, version_key

_RELEASE = re.compile(r"^\d+\.\d+$")


@click.command("diff")
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@click.option(
    "--domain",
    type=click.Choice(["enterprise", "mobile", "ics"]),
    default="enterprise",
    show_default=True,
    help="ATT&CK domain to compare.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("outputs-diff"),
    show_default=True,
    help="Directory for diff-OLD-NEW.md, diff-OLD-NEW.json and diff-OLD-NEW-layer.json.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the diff document (the JSON file's content) on stdout.")
@sources_file_option
@mirror_option
@strict_option
def command(old: str, new: str, domain: str, out: Path, as_json: bool, sources_file, mirror, strict: bool) -> None:
    """Compare two ATT&CK releases (e.g. 16.1 18.1) object by object, keyed by STIX
    id: added, revoked (with replacement), deprecated, renamed, moved between tactics,
    sub-technique conversions, version changes with the changed fields; and the
    impact on the controls and detections in the graph. Writes a Markdown report, the
    same content as JSON, and a Navigator layer colouring the changed techniques."""
    # lazy: pipeline.core.atomic would add 6 ms (tempfile, shutil) to every command's start-up (`--help` too)
    from pipeline.core.atomic import check_writable
    # lazy: pipeline.diff.run would add 0.29 s (networkx) to every command's start-up (`--help` too)
    from pipeline.diff import run
    # lazy: pipeline.fetch would add 20 ms to every command's start-up (`--help` too)
    from pipeline.fetch import resolve_mirror_dir
    # lazy: pipeline.workspace would add 50 ms to every command's start-up (`--help` too)
    from pipeline.workspace import Workspace

    for name, value in (("OLD", old), ("NEW", new)):
        if not _RELEASE.match(value):
            raise click.BadParameter(f"{value!r} is not an ATT&CK release (e.g. 16.1)", param_hint=name)
    if version_key(old) >= version_key(new):
        raise click.BadParameter(f"OLD ({old}) must be an older release than NEW ({new})", param_hint="OLD")

    with errors_as_exit():
        config = load_config(sources_file)
        run.check_pair(config, domain, old, new)
        check_writable(out, folder=True)  # before seconds of loading
        stack = contextlib.ExitStack()
        mirror_dir = resolve_mirror_dir(stack.enter_context(settings_applied({"mirror": mirror}, config)).get("mirror"))
        old_ws = Workspace.open(config, mirror_dir, old, (domain,))
        new_ws = Workspace.open(config, mirror_dir, new, (domain,))
        with progress(5) as step:
            with stack:
                result = run.compare(old_ws, new_ws, domain, step)
        try:
            written = run.write(result, out)
        except OSError as exc:
            raise CliError(f"{out}: cannot write the diff: {exc.strerror or exc}") from None
        report_issues(old_ws.issues + new_ws.issues, strict)
    if as_json:
        emit_json(result.document)
        return
    click.echo(_summary(result.document, written))


def _summary(doc: dict, written: list[Path]) -> str:
    # lazy: pipeline.diff.formats would add 0.30 s (networkx) to every command's start-up (`--help` too)
    from pipeline.diff.formats import KIND_TITLES, SHORT

    lines = [f"ATT&CK {doc['domain']} {doc['old']} → {doc['new']}"]
    for kind, counts in doc["counts"].items():
        parts = [f"{n} {SHORT[s]}" for s, n in counts.items() if n and s != "unchanged"]
        if parts:
            lines.append(f"  {KIND_TITLES[kind]:<22} {', '.join(parts)}")
    t = doc["techniques"]
    lines.append(
        f"  techniques renamed: {len(t['renamed'])}, moved between tactics: {len(t['moved_between_tactics'])}, "
        f"sub-technique conversions: {len(t['subtechnique_conversions'])}"
    )
    tactics = doc.get("tactics", {})
    if any(tactics.values()):
        renamed = ", ".join(f"{e['id']} {e['old_shortname']} → {e['shortname']}" for e in tactics["renamed"])
        added = ", ".join(f"{e['id']} {e['shortname']}" for e in tactics["added"])
        retired = ", ".join(f"{e['id']} {e['old_shortname']}" for e in tactics["retired"])
        lines.append(f"  tactics renamed: {renamed or 0}; added: {added or 0}; retired: {retired or 0}")
    todo = doc["coverage"]["new_techniques_without_control_or_detection"]
    lines.append(f"  new techniques with no control and no detection: {len(todo)}")
    lines += [f"wrote {p}" for p in written]
    return "\n".join(lines)
