"""Installed package versions from dist-info folder names (pipeline/core/packages.py)
agree with importlib.metadata, which they replace on every build's start."""

from __future__ import annotations

from importlib import metadata

from pipeline.core import packages


def test_every_installed_distribution_has_importlib_metadatas_version():
    names = sorted({d.metadata["Name"] for d in metadata.distributions()})
    assert len(names) > 50  # the whole environment, pySigma and its backends among them
    found = packages.versions(names)
    assert found == {n: metadata.version(n) for n in names}
    assert {"pySigma", "pySigma-backend-kusto"} <= set(found)


def test_names_are_compared_normalised(tmp_path):
    (tmp_path / "pysigma_backend_kusto-9.8.7.dist-info").mkdir()
    assert packages.versions(["pySigma-Backend.Kusto"], [str(tmp_path)]) == {"pySigma-Backend.Kusto": "9.8.7"}


def test_the_first_entry_of_the_path_wins(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    (first / "demo-1.0.dist-info").mkdir(parents=True)
    (second / "demo-2.0.dist-info").mkdir(parents=True)
    assert packages.versions(["demo"], [str(first), str(second)]) == {"demo": "1.0"}
    assert packages.versions(["demo"], [str(second), str(first)]) == {"demo": "2.0"}


def test_a_package_not_found_by_folder_name_is_asked_of_importlib_metadata(tmp_path):
    (tmp_path / "unrelated-1.0.dist-info").mkdir()
    (tmp_path / "not-a-folder-listing").write_text("")
    found = packages.versions(["click", "no-such-package-here"], [str(tmp_path), str(tmp_path / "missing"), str(tmp_path / "not-a-folder-listing")])
    assert found == {"click": metadata.version("click"), "no-such-package-here": None}
