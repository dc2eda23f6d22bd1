"""A profile → DeTT&CT administration files, for teams that keep DeTT&CT as well.

Files the profile imported are written back equal in content to what was read (see
`dettect.py`). A profile that lists ATT&CK data components instead gets a data-source
administration file made from them: one system, `all`, every component available for
analytics, no dates, products or quality scores (the profile does not know them).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.ingest.profiles import dettect
from pipeline.model.profile import DettectDataSource, DettectDataSourceDetail, DettectDataSources, DettectSystem, Kept, Profile


def data_sources_of(profile: Profile) -> DettectDataSources | None:
    if profile.data_sources is not None:
        return profile.data_sources
    if not profile.data_components:
        return None
    detail_keys = ("applicable_to", "products", "available_for_data_analytics", "comment")
    return DettectDataSources(
        name=profile.name,
        domain=profile.domain,
        systems=(DettectSystem("all", profile.platforms or ("all",)),),
        data_sources=tuple(
            DettectDataSource(name, (DettectDataSourceDetail(("all",), available_for_data_analytics=True, kept=Kept(detail_keys)),))
            for name in dict.fromkeys(profile.data_components)
        ),
    )


def export_files(profile: Profile, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    ds = data_sources_of(profile)
    if ds is not None:
        path = out / f"data-sources-{profile.slug}.yaml"
        dettect.write_dettect(path, dettect.data_sources_dict(ds))
        written.append(path)
    if profile.techniques is not None:
        path = out / f"techniques-administration-{profile.slug}.yaml"
        dettect.write_dettect(path, dettect.techniques_dict(profile.techniques))
        written.append(path)
    if profile.groups_file is not None:
        path = out / f"groups-{profile.slug}.yaml"
        dettect.write_dettect(path, dettect.groups_dict(profile.groups_file))
        written.append(path)
    return written
