"""Output paths that would break a build, a site or something else are refused with one
line before any work; a full disk is one line and leaves the previous outputs as they were."""

from __future__ import annotations

import errno
import os
import pathlib
import shutil
import subprocess

import pytest

from build_fixture import run, small_mirror


@pytest.fixture
def small(tmp_path):
    s = small_mirror(tmp_path)
    r = s.build()
    assert r.exit_code == 0, r.output
    return s


@pytest.fixture
def blocked(tmp_path):
    """A path no command can create: its parent is a file."""
    f = tmp_path / "a-file"
    f.write_text("")
    return f / "x"


def no_loading(monkeypatch):
    """Fail the test if a command starts loading sources."""
    from pipeline.workspace import Workspace

    def refuse(*_a, **_k):
        raise AssertionError("sources were loaded before the output path was checked")

    monkeypatch.setattr(Workspace, "graph", refuse)
    monkeypatch.setattr(Workspace, "releases", refuse)


def test_build_out_inside_a_source_folder_is_refused(small):
    out = small.mirror / "detections" / "sigma" / "outputs"
    r = small.build(out=out)
    assert (r.exit_code, r.stdout) == (1, "")
    assert r.stderr == (
        f"error: {out}: output path is inside the source folder {small.mirror / 'detections' / 'sigma'}, which every "
        "build reads: its outputs would become its input; give a folder outside the mirror\n"
    )
    assert sorted(p.name for p in (small.mirror / "detections" / "sigma").iterdir()) == ["rules"]
    assert "up to date" in small.build().stdout  # the sources are as they were


def test_build_out_dot_inside_the_output_folder_is_refused(small, monkeypatch):
    live = small.out.resolve()
    monkeypatch.chdir(small.out)
    r = small.build(out=".")
    assert r.exit_code == 1
    assert r.stderr == (
        f"error: {live}: output path is inside the build folder {live}; give the output link itself "
        f"(e.g. --out {small.out}), not a folder in a build\n"
    )
    monkeypatch.chdir(small.root)
    assert small.out.resolve() == live and not list(live.glob(".*.builds"))
    assert "up to date" in small.build().stdout


def test_build_out_in_a_folder_of_the_build_is_refused(small):
    live = small.out.resolve()
    r = small.build(out=small.out / "docs" / "mine")
    assert r.exit_code == 1 and r.stderr.startswith(f"error: {small.out / 'docs' / 'mine'}: output path is inside the build folder {live};")
    assert not (live / "docs" / ".mine.builds").exists()


def test_build_out_a_mount_point_is_refused(small, monkeypatch):
    point = small.root / "mnt"
    point.mkdir()
    real = os.path.ismount
    monkeypatch.setattr(os.path, "ismount", lambda p: os.fspath(p) == str(point) or real(p))
    no_loading(monkeypatch)
    r = small.build(out=point)
    assert r.exit_code == 1
    assert r.stderr == (
        f"error: {point}: output path is a mount point; a build replaces the output path with a link to the new "
        f"build, which a mount point cannot be: give a folder inside it (e.g. --out {point / 'outputs'})\n"
    )
    assert point.is_dir() and not point.is_symlink() and not (small.root / ".mnt.builds").exists()


def test_build_out_a_real_mount_point_is_refused(tmp_path):
    """With a real tmpfs where the machine allows mounting (root); the test above covers the rest."""
    point = tmp_path / "mnt"
    point.mkdir()
    if shutil.which("mount") is None or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(point)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        s = small_mirror(tmp_path / "src")
        r = s.build(out=point)
        assert r.exit_code == 1 and "output path is a mount point" in r.stderr
        assert os.path.ismount(point) and not (tmp_path / ".mnt.builds").exists()
    finally:
        subprocess.run(["umount", str(point)], check=True)


def test_build_out_an_unwritable_place_names_the_output_folder(small, blocked, monkeypatch):
    no_loading(monkeypatch)
    r = small.build(out=blocked)
    assert (r.exit_code, r.stderr) == (1, f"error: {blocked}: cannot create the output folder here: Not a directory\n")


def test_build_on_a_full_disk_is_one_line_and_keeps_the_outputs(small, monkeypatch):
    live = small.out.resolve()
    write_bytes = pathlib.Path.write_bytes

    def full(self, data):
        if ".out.builds" in str(self):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return write_bytes(self, data)

    monkeypatch.setattr(pathlib.Path, "write_bytes", full)
    r = small.build("--force")
    assert r.exit_code == 1
    assert r.stderr == (
        f"error: {small.out}: writing the new build into {small.builds} failed: No space left on device; "
        "the previous outputs are kept\n"
    )
    assert small.out.resolve() == live and not [p for p in small.builds.iterdir() if p.name.startswith(".new-")]
    monkeypatch.undo()
    assert "up to date" in small.build().stdout


def test_build_on_a_real_full_tmpfs(tmp_path):
    """A 64 kB tmpfs where the machine allows mounting (root); the test above injects the error."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if shutil.which("mount") is None or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        s = small_mirror(tmp_path / "src")
        out = disk / "outputs"
        r = s.build(out=out)
        assert (r.exit_code, r.stdout) == (1, "")
        assert r.stderr == (
            f"error: {out}: writing the new build into {disk / '.outputs.builds'} failed: No space left on device; "
            "the previous outputs are kept\n"
        )
        assert not out.exists() and list((disk / ".outputs.builds").iterdir()) == []
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_layer_out_an_unwritable_place_before_loading(small, blocked, monkeypatch):
    no_loading(monkeypatch)
    r = run("layer", *small.opts, "--framework", "azure", "--out", blocked / "l.json")
    assert (r.exit_code, r.stdout, r.stderr) == (1, "", f"error: {blocked / 'l.json'}: cannot write here: Not a directory\n")


def test_diff_out_an_unwritable_place_before_loading(tmp_path, blocked, monkeypatch):
    import stix_factory as f
    from pipeline.diff import run as diff_run

    mirror = tmp_path / "mirror"
    for version in ("17.0", "18.1"):
        f.write(mirror / "attack" / f"enterprise-attack-{version}.json.gz", f.small_bundle(), gz=True)
    sources = f.sources_file(tmp_path / "sources.toml", [("enterprise", "17.0"), ("enterprise", "18.1")])
    monkeypatch.setattr(diff_run, "compare", lambda *a, **k: pytest.fail("compared before the output path was checked"))
    r = run("diff", "17.0", "18.1", "--sources", sources, "--mirror", mirror, "--out", blocked)
    assert (r.exit_code, r.stdout, r.stderr) == (1, "", f"error: {blocked}: cannot write here: Not a directory\n")


@pytest.mark.parametrize("where", ["same", "inside", "around"])
def test_site_dir_and_build_output_apart(small, where):
    live = small.out.resolve()
    site = {"same": small.out, "inside": small.out / "site", "around": small.root}[where]
    word = {"same": "is the build output", "inside": "is inside the build output", "around": "holds the build output"}[where]
    r = run("site", "--out", small.out, "--site-dir", site)
    assert (r.exit_code, r.stdout) == (1, "")
    assert r.stderr == f"error: {site}: the site folder {word} {small.out}; give a folder of its own (e.g. --site-dir site)\n"
    assert small.out.resolve() == live and not list(small.root.glob(".*site*.builds"))


def test_site_dir_an_unwritable_place(small, blocked):
    r = run("site", "--out", small.out, "--site-dir", blocked)
    assert (r.exit_code, r.stderr) == (1, f"error: {blocked}: cannot create the site folder here: Not a directory\n")


def test_site_on_a_full_disk_is_one_line(small, monkeypatch):
    site = small.root / "site"
    copy = shutil.copyfile

    def full(src, dst, *a, **k):
        if ".site.builds" in str(dst):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(src))
        return copy(src, dst, *a, **k)

    monkeypatch.setattr(shutil, "copyfile", full)
    r = run("site", "--out", small.out, "--site-dir", site)
    assert (r.exit_code, r.stdout) == (1, "")
    assert r.stderr == f"error: {site}: writing the site failed: No space left on device; the previous site is kept\n"
    assert not site.exists() and not [p for p in (small.root / ".site.builds").iterdir() if p.name.startswith(".new-")]
