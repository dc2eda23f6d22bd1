"""The build: versioned folders behind a link, manifest, no-op, lock, failure safety."""

from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest
from click.testing import CliRunner

import stix_factory as f
from pipeline.build.lock import BuildLock, BuildLocked
from pipeline.build import manifest, sweep
from pipeline.cli import cli


def run(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env or {}, catch_exceptions=False)


def files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def tiny(tmp_path):
    mirror = tmp_path / "mirror"
    f.write(mirror / "attack" / "enterprise-attack-99.0.json.gz", f.small_bundle(), gz=True)
    sources = f.sources_file(tmp_path / "sources.toml", [("enterprise", "99.0")])
    return ["--mirror", str(mirror), "--sources", str(sources)], mirror


def test_build_manifest_link_and_no_op(tiny, tmp_path):
    opts, mirror = tiny
    out = tmp_path / "out"
    r = run("build", *opts, "--out", str(out))
    assert r.exit_code == 0, r.output
    assert out.is_symlink() and out.resolve().parent == tmp_path / ".out.builds"
    doc = orjson.loads((out / "manifest.json").read_bytes())
    assert [i["source"] for i in doc["inputs"]] == ["attack/enterprise-99.0"]
    assert doc["inputs"][0]["origin"] == "mirror" and len(doc["inputs"][0]["sha256"]) == 64
    listed = {a["path"] for a in doc["artifacts"]}
    assert "reports/summary.json" in listed and "manifest.json" not in listed
    for a in doc["artifacts"]:
        assert (out / a["path"]).stat().st_size == a["size"]
    # Nothing changed: nothing is done.
    again = run("build", *opts, "--out", str(out))
    assert again.exit_code == 0 and "up to date" in again.stdout
    assert f"{len(doc['artifacts'])} files in {out}" in again.stdout
    assert out.resolve() == (tmp_path / ".out.builds" / doc["fingerprint"][:16])
    # What a no-op returns: the live manifest's entries, made records as they are read.
    listed = manifest.Listed(doc["artifacts"])
    records = [manifest.Artifact.from_dict(a) for a in doc["artifacts"]]
    assert len(listed) == len(records) and list(listed) == records
    assert listed[-1] == records[-1] and listed[1:3] == records[1:3]


def test_forced_rebuild_is_byte_identical_and_prunes(tiny, tmp_path):
    opts, _ = tiny
    out = tmp_path / "out"
    assert run("build", *opts, "--out", str(out)).exit_code == 0
    first = files(out.resolve())
    for _ in range(3):
        assert run("build", *opts, "--out", str(out), "--force").exit_code == 0
        assert files(out.resolve()) == first
    sweep.wait(tmp_path / ".out.builds")  # older builds are deleted in the background
    assert len([p for p in (tmp_path / ".out.builds").iterdir() if p.is_dir()]) == 2  # the live build and one before it


def test_changed_input_rebuilds_and_failure_keeps_the_old_build(tiny, tmp_path):
    opts, mirror = tiny
    out = tmp_path / "out"
    assert run("build", *opts, "--out", str(out)).exit_code == 0
    first = files(out)
    doc = f.small_bundle()
    doc["objects"][3]["name"] = "Network Service Scanning"
    f.write(mirror / "attack" / "enterprise-attack-99.0.json.gz", doc, gz=True)
    r = run("build", *opts, "--out", str(out))
    assert r.exit_code == 0 and "up to date" not in r.stdout
    second = files(out)
    assert second != first
    (mirror / "attack" / "enterprise-attack-99.0.json.gz").write_bytes(b"garbage")
    r = run("build", *opts, "--out", str(out))
    assert r.exit_code == 1 and "not valid JSON" in r.stderr
    assert files(out) == second
    assert not [p for p in (tmp_path / ".out.builds").iterdir() if p.name.startswith(".new-")]
    assert not (tmp_path / ".out.lock").exists()


def test_a_plain_output_folder_of_an_older_build_is_taken_over(tiny, tmp_path):
    opts, _ = tiny
    out = tmp_path / "out"
    out.mkdir()
    (out / ".attack-pipeline-output").write_text("old")
    (out / "old.txt").write_text("old build")
    assert run("build", *opts, "--out", str(out)).exit_code == 0
    assert out.is_symlink() and (out / "manifest.json").is_file() and not (out / "old.txt").exists()


def test_foreign_link_is_refused(tiny, tmp_path):
    opts, _ = tiny
    target = tmp_path / "elsewhere"
    target.mkdir()
    (tmp_path / "out").symlink_to(target)
    r = run("build", *opts, "--out", str(tmp_path / "out"))
    assert r.exit_code == 1 and "symbolic link that a build did not make" in r.stderr


def test_concurrent_build_is_refused_and_stale_lock_recovered(tiny, tmp_path):
    opts, _ = tiny
    lock_path = tmp_path / ".out.lock"
    with BuildLock(lock_path):
        r = run("build", *opts, "--out", str(tmp_path / "out"))
        assert r.exit_code == 1 and "another build (pid" in r.stderr and str(lock_path) in r.stderr
        with pytest.raises(BuildLocked):
            BuildLock(lock_path).acquire()
    assert not lock_path.exists()
    # A lock left by a process that is gone is taken over.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    import socket

    lock_path.write_text(f"{dead.stdout.strip()} {socket.gethostname()}\n")
    assert run("build", *opts, "--out", str(tmp_path / "out")).exit_code == 0
    assert not lock_path.exists()


def test_strict_no_op_still_fails_on_the_previous_warnings(tiny, tmp_path):
    opts, mirror = tiny
    doc = f.small_bundle()
    doc["objects"].append({"type": "x-vendor-thing", "id": "x-vendor-thing--1"})
    f.write(mirror / "attack" / "enterprise-attack-99.0.json.gz", doc, gz=True)
    out = tmp_path / "out"
    assert run("build", *opts, "--out", str(out)).exit_code == 0
    r = run("build", *opts, "--out", str(out), "--strict")
    assert r.exit_code == 1 and "up to date" in r.stdout and "--strict is set" in r.stderr


@pytest.fixture(scope="module")
def default_build(mirror, tmp_path_factory):
    """The default build (Enterprise, Mobile, ICS 18.1, every enabled table and corpus)."""
    out = tmp_path_factory.mktemp("default") / "outputs"
    first = run("build", "--mirror", str(mirror), "--out", str(out))
    assert first.exit_code == 0, first.output
    return out


@pytest.mark.realdata
def test_real_default_build_file_names_are_portable(default_build):
    """Every file and folder name of the default build is valid on Windows (no device
    name such as CON or LPT9 with any extension, no trailing dot or space, no character
    Windows refuses) and no two paths are equal ignoring case (macOS, Windows)."""
    from portable_names import portable_problems, tree

    paths = tree(default_build.resolve())
    assert len(paths) > 10_000
    assert portable_problems(paths) == []
    # The VERIS actions that differ only by case have a layer each.
    veris = [p for p in paths if p.startswith("layers/enterprise/frameworks/veris/controls/action.malware.vector.")]
    assert len([p for p in veris if p.lower().startswith("layers/enterprise/frameworks/veris/controls/action.malware.vector.remote-injection")]) == 2


@pytest.mark.realdata
def test_real_default_build_is_reproducible(default_build, mirror):
    """The default build, twice: every artifact byte-identical, the manifest included."""
    out = default_build
    before = files(out.resolve())
    assert len(before) > 200 and "manifest.json" in before
    second = run("build", "--mirror", str(mirror), "--out", str(out), "--force")
    assert second.exit_code == 0, second.output
    after = files(out.resolve())
    assert sorted(after) == sorted(before)
    assert [k for k in before if before[k] != after[k]] == []
    doc = orjson.loads(after["manifest.json"])
    kinds = {i["kind"] for i in doc["inputs"]}
    assert kinds == {"attack", "mapping", "catalog", "detection", "schema", "threat"}


def test_a_no_op_build_imports_no_record_class_and_no_renderer(tiny, tmp_path):
    """A build with nothing to do hashes its inputs and stops: it must not pay for the
    ATT&CK records (eighteen classes, 30-65 ms), importlib.metadata, networkx or the
    renderers at start-up (docs/benchmarks.md, the no-op)."""
    opts, _ = tiny
    out = tmp_path / "out"
    assert run("build", *opts, "--out", str(out)).exit_code == 0
    probe = (
        "import sys\n"
        "from pipeline.cli import cli\n"  # not `main`, which ends the process at once
        f"sys.argv = ['attack-pipeline', 'build', *{opts!r}, '--out', {str(out)!r}]\n"
        "try:\n    cli(prog_name='attack-pipeline')\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "heavy = ['pipeline.model.attack', 'importlib.metadata', 'networkx', 'pipeline.render.registry', 'pipeline.gather']\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"
