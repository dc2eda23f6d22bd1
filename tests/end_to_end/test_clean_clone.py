"""A fresh clone stays clean: after a build and a site into the default paths (outputs/,
site/, the cache in data/cache/), `git status --porcelain` lists nothing (the ignore rules
match the links, the build folders, the locks and the cache)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from testpaths import ROOT


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_fresh_clone_stays_clean_after_a_build_and_a_site(mirror, tmp_path):
    if subprocess.run(["git", "rev-parse", "--git-dir"], cwd=ROOT, capture_output=True).returncode:
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTACK_PIPELINE_")}
    env.pop("CI", None)
    env.update(PYTHONPATH=str(clone), ATTACK_PIPELINE_OFFLINE="1", ATTACK_PIPELINE_CONFIG_DIR=str(tmp_path / "user-config"))
    for args in (["build", "--mirror", str(mirror)], ["site"]):
        done = subprocess.run([sys.executable, "-m", "pipeline", *args, "--quiet"], cwd=clone, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert (clone / "outputs").is_symlink() and (clone / "site").is_symlink()
    assert (clone / ".outputs.builds").is_dir() and (clone / "data" / "cache").is_dir()
    assert git("status", "--porcelain", "--ignored=no", cwd=clone) == ""
    # `make clean` keeps the current builds and removes the older ones.
    old = clone / ".outputs.builds" / "0000000000000000"
    old.mkdir()
    subprocess.run(["make", "clean"], cwd=clone, env=env, capture_output=True, check=True)
    assert not old.exists() and (clone / "outputs" / "manifest.json").is_file() and (clone / "site" / "index.html").is_file()
    assert git("status", "--porcelain", cwd=clone) == ""
