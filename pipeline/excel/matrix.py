"""The ATT&CK matrix as a sheet: a column per tactic (two where it has sub-techniques),
techniques sorted by name, each technique's sub-techniques beside it; the technique's
cell is merged down over its sub-techniques and the tactic header across its two
columns, as in attackToExcel's matrix sheets."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.model.attack import AttackRelease, Technique
from pipeline.excel.xlsx import Sheet, column_letter

MATRIX_COLUMN_WIDTH = 20.0
# The platform order of ATT&CK's matrices per domain (the order attackToExcel uses);
# `Cloud` stands for the cloud platforms together.
PLATFORM_ORDER = {
    "enterprise": (
        "PRE", "Windows", "macOS", "Linux", "Cloud", "Office Suite", "Identity Provider", "SaaS", "IaaS",
        "Network Devices", "Containers", "ESXi",
    ),
    "mobile": ("Android", "iOS"),
    "ics": (
        "Field Controller/RTU/PLC/IED", "Safety Instrumented System/Protection Relay", "Control Server",
        "Input/Output Server", "Windows", "Human-Machine Interface", "Engineering Workstation", "Data Historian",
    ),
}  # fmt: skip
PLATFORM_GROUPS = {"Cloud": ("Office Suite", "Identity Provider", "SaaS", "IaaS")}


@dataclass(frozen=True)
class Matrix:
    name: str
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]
    merges: tuple[str, ...]

    def sheet(self) -> Sheet:
        return Sheet(
            self.name,
            self.header,
            self.rows,
            widths=[MATRIX_COLUMN_WIDTH] * len(self.header),
            autofilter=False,
            merges=self.merges,
        )


def _by_name(items):
    return sorted(items, key=lambda t: (t.name, t.attack_id))


def build_matrix(release: AttackRelease, name: str, platforms: tuple[str, ...] | None = None) -> Matrix | None:
    """The matrix of the release, or of the techniques on any of `platforms` (None if
    no technique is). A technique whose sub-techniques are all on other platforms
    keeps an empty sub-technique cell, so the columns stay aligned."""
    wanted = {p.lower() for p in platforms} if platforms is not None else set()

    def on_platform(t: Technique) -> bool:
        return platforms is None or any(p.lower() in wanted for p in t.platforms)

    techniques = [t for t in release.of_kind("technique") if isinstance(t, Technique) and on_platform(t)]
    subs: dict[str, list[Technique]] = {}
    for t in techniques:
        if t.parent:
            subs.setdefault(t.parent, []).append(t)
    tactic_names = {t.attack_id: t.name for t in release.of_kind("tactic")}

    header: list[str] = []
    columns: list[list[str]] = []
    merges: list[str] = []
    for tactic in release.tactics:
        parents = _by_name(t for t in techniques if not t.parent and tactic in t.tactics)
        if not parents:
            if platforms is None:
                header.append(tactic_names.get(tactic, tactic))
                columns.append([])
            continue
        header.append(tactic_names.get(tactic, tactic))
        col = len(header)
        tech_col: list[str] = []
        sub_col: list[str] = []
        for parent in parents:
            tech_col.append(parent.name)
            children = _by_name(subs.get(parent.attack_id, ()))
            if not children:
                sub_col.append("")
                continue
            top = len(tech_col) + 1
            for i, child in enumerate(children):
                if i:
                    tech_col.append("")
                sub_col.append(child.name)
            bottom = len(tech_col) + 1
            if bottom != top:
                merges.append(f"{column_letter(col - 1)}{top}:{column_letter(col - 1)}{bottom}")
        columns.append(tech_col)
        if any(sub_col):
            header.append("")
            columns.append(sub_col)
            merges.append(f"{column_letter(col - 1)}1:{column_letter(col)}1")
    if not any(columns):
        return None
    height = max(len(c) for c in columns)
    rows = [tuple(c[r] if r < len(c) else "" for c in columns) for r in range(height)]
    return Matrix(name, tuple(header), rows, tuple(merges))


def platform_views(release: AttackRelease) -> list[tuple[str, tuple[str, ...]]]:
    """(name, platforms) of the per-platform matrices, in ATT&CK's platform order for
    the domain (with its `Cloud` group). Only ATT&CK's platforms: ICS techniques carry
    the platform `None`, which is no matrix. Views no technique is on are dropped."""
    return [(name, PLATFORM_GROUPS.get(name, (name,))) for name in PLATFORM_ORDER.get(release.domain, ())]


def matrix_sheet_name(name: str) -> str:
    """`<name> matrix`, with the characters a sheet name cannot hold replaced and long
    names shortened the way attackToExcel does (`/` → ` or `, 28 characters + `...`)."""
    sheet = f"{name} matrix"
    for ch in "\\/":
        sheet = sheet.replace(ch, " or ")
    for ch in "*[]:?":
        sheet = sheet.replace(ch, " ")
    return sheet if len(sheet) <= 31 else sheet[:28] + "..."
