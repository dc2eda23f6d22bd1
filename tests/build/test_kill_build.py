"""`attack-pipeline build` killed with SIGKILL at many points of a real (small) build.

The build is a real subprocess (`python -m pipeline build`) over a small copy of the
mirror: ATT&CK Mobile and ICS 18.1, the VERIS 1.4.0 tables of both domains and the
hunting card — about one second, some 570 files. Each round changes an input (the card's
text) and alternates `--include-attack`, so every round really rebuilds; the process
is killed at a seeded point spread over the whole build (start-up included), and then:

- `outputs` points at a complete build: a manifest, every listed artifact present with
  its size and sha256, nothing in the folder the manifest does not list, no temp file;
- that build is the previous one, or the killed one only if it had already been
  published whole;
- the next build, finding the lock file the killed process left, takes it (the dead
  process's flock is gone) and succeeds, leaving no abandoned folder, link or lock.

The summary (kill points per stage the build had reached) is printed at the end.
Set ATTACK_PIPELINE_KILL_POINTS to try more points than the default.

Random times land mostly where a build spends its time (start-up, graph, renderers); the
manifest and publish steps last milliseconds. So every named point of
`pipeline/build/killpoints.py` is killed too, deterministically (ATTACK_PIPELINE_KILL_AT:
the build kills itself there), with the same checks: each stage — start-up, lock, inputs,
graph, queries, every renderer, manifest, publish — gets at least one kill that landed in it.
"""

from __future__ import annotations

import collections
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from pipeline.build import sweep

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261124
KILL_POINTS = int(os.environ.get("ATTACK_PIPELINE_KILL_POINTS", "50"))
MARKER = ".attack-pipeline-output"
CARD = "T1046 Network Service Scanning.md"
VERIS = "mappings/mappings-explorer/veris/attack-16.1/veris-1.4.0"
# Top folders of a build in the order the renderers create them (reports, reconcile and
# diff share reports/).
RENDER_ORDER = ("reports", "layers", "stix", "tables", "docs")

SOURCES = """
[settings]
site_url = ""

[attack]
mirror = "attack/{domain}-attack-{version}.json"
url_stix20 = "https://raw.githubusercontent.com/mitre/cti/ATT%26CK-v{version}/{domain}-attack/{domain}-attack.json"
url_stix21 = "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/{domain}-attack/{domain}-attack-{version}.json"
releases = [
  { domain = "mobile", version = "18.1", stix = "2.0" },
  { domain = "ics", version = "18.1", stix = "2.1" },
]

[repositories.mappings-explorer]
github = "center-for-threat-informed-defense/mappings-explorer"
commit = "2911162ca45dc34971f3a9fbc9892d1c7fa07b99"
root = "mappings"
mirror = "mappings/mappings-explorer"

[repositories.mdatp-cards]
github = "alexverboon/MDATP"
commit = "b1bc150"
root = "AdvancedHunting"
mirror = "detections/cards"
""" + "".join(
    f"""
[[source]]
id = "mapex/veris-1.4.0/attack-16.1/{d}"
kind = "mapping"
format = "mapex-json"
repository = "mappings-explorer"
path = "veris/attack-16.1/veris-1.4.0/{d}/veris-1.4.0_attack-16.1-{d}.json"
framework = "veris"
framework_version = "1.4.0"
domain = "{d}"
attack_version = "16.1"
"""
    for d in ("ics", "mobile")
) + """
[[source]]
id = "detections/cards"
kind = "detection"
format = "hunting-cards"
repository = "mdatp-cards"
path = ""
folder = true
"""


@dataclass
class Small:
    root: Path
    mirror: Path
    sources: Path
    out: Path
    env: dict

    @property
    def builds(self) -> Path:
        return self.root / ".out.builds"

    @property
    def lock(self) -> Path:
        return self.root / ".out.lock"

    def command(self, include_attack: bool) -> list[str]:
        cmd = [sys.executable, "-m", "pipeline", "build", "--sources", str(self.sources), "--mirror", str(self.mirror),
               "--out", str(self.out), "--attack-version", "18.1", "--domain", "mobile", "--domain", "ics"]
        return cmd + (["--include-attack"] if include_attack else [])

    def run(self, include_attack: bool) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(include_attack), env=self.env, cwd=self.root, capture_output=True, text=True, timeout=120)

    def start(self, include_attack: bool) -> subprocess.Popen:
        return subprocess.Popen(self.command(include_attack), env=self.env, cwd=self.root,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def edit_card(self, n: int) -> None:
        """A real change of an input: the card's text (its parsed description changes)."""
        card = self.mirror / "detections" / "cards" / CARD
        base = card.read_text(encoding="utf-8").split("\n<!-- round")[0]
        card.write_text(base + f"\n<!-- round {n} -->\n", encoding="utf-8")


@pytest.fixture
def small(tmp_path, mirror) -> Small:
    m = tmp_path / "mirror"
    for rel in ("attack/mobile-attack-18.1.json.gz", "attack/ics-attack-18.1.json.gz",
                f"{VERIS}/ics/veris-1.4.0_attack-16.1-ics.json", f"{VERIS}/mobile/veris-1.4.0_attack-16.1-mobile.json",
                f"detections/cards/{CARD}"):
        (m / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(mirror / rel, m / rel)
    sources = tmp_path / "sources.toml"
    sources.write_text(SOURCES, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTACK_PIPELINE_")}
    env.update(ATTACK_PIPELINE_CACHE=str(tmp_path / "cache"), ATTACK_PIPELINE_OFFLINE="1", PYTHONPATH=str(ROOT))
    env.pop("CI", None)
    return Small(tmp_path, m, sources, tmp_path / "out", env)


def check_live(small: Small) -> dict:
    """`outputs` is a link to one complete build whose every byte the manifest vouches for."""
    out = small.out
    assert out.is_symlink(), "outputs is not the build link"
    folder = out.resolve()
    assert folder.parent == small.builds.resolve() and folder.is_dir(), f"outputs points at {folder}"
    assert not folder.name.startswith(".new-")
    doc = orjson.loads((folder / "manifest.json").read_bytes())
    listed = {a["path"]: a for a in doc["artifacts"]}
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir()}
    assert present - set(listed) == {"manifest.json", MARKER}, f"unlisted files: {sorted(present - set(listed))[:5]}"
    assert set(listed) <= present, f"missing files: {sorted(set(listed) - present)[:5]}"
    for rel, a in listed.items():
        data = (folder / rel).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (a["size"], a["sha256"]), f"{rel} differs from the manifest"
    strays = [p for p in present if ".part" in p or "/.new-" in p or p.rsplit("/", 1)[-1].startswith((".tmp", "tmp"))]
    assert strays == []
    return doc


def build_folders(small: Small) -> list[str]:
    """The folders beside the outputs (the build history and signatures are files there),
    once the background deletion of the pruned ones has finished."""
    sweep.wait(small.builds)
    return sorted(p.name for p in small.builds.iterdir() if p.is_dir())


def stage_reached(small: Small, started_ns: int, before: str) -> str:
    """What the killed build had done, read from what it left on disk."""
    if small.out.resolve().name != before:
        return "published"
    if list(small.root.glob(".out.link-*")):
        return "publishing: link made"
    fresh = [p for p in small.builds.iterdir() if p.is_dir() and not p.name.startswith(".new-") and p.name != before
             and p.stat().st_mtime_ns >= started_ns]
    new = [p for p in small.builds.iterdir() if p.name.startswith(".new-")]
    if fresh and not new:
        return "publishing: renamed"
    if new:
        tmp = new[0]
        if (tmp / "manifest.json").exists():
            return "manifest written"
        tops = [t for t in RENDER_ORDER if (tmp / t).exists()]
        return f"rendering: {tops[-1]}/" if tops else "rendering: empty folder"
    if small.lock.exists():
        return "lock held: inputs, graph"
    return "start-up (no lock yet)"


def points(n: int, span: float) -> list[float]:
    """n kill times, one at a random place in each of n equal slices of [0, span]."""
    rng = random.Random(SEED)
    times = [(i + rng.random()) * span / n for i in range(n)]
    rng.shuffle(times)
    return times


@pytest.mark.realdata
def test_a_build_killed_anywhere_leaves_the_previous_build_whole(small, capsys):
    first = small.run(False)
    assert first.returncode == 0, first.stderr
    check_live(small)
    # The length of one real rebuild, start-up included, from outside the process.
    small.edit_card(-1)
    started = time.perf_counter()
    timed = small.run(True)
    duration = time.perf_counter() - started
    assert timed.returncode == 0 and "up to date" not in timed.stdout, timed.stderr
    span = duration * 1.15  # a few points past the end: a kill after a finished build is harmless too

    stages: collections.Counter = collections.Counter()
    stale_locks = 0
    unlocked: list[str] = []
    for n, at in enumerate(points(KILL_POINTS, span)):
        include_attack = n % 2 == 0  # the live build has the other setting
        small.edit_card(n)
        before_doc = check_live(small)
        before = small.out.resolve().name
        started_ns = time.time_ns()
        t0 = time.perf_counter()
        proc = small.start(include_attack)
        time.sleep(max(0.0, at - (time.perf_counter() - t0)))
        finished = proc.poll() is not None
        if not finished:
            proc.send_signal(signal.SIGKILL)
        code = proc.wait(timeout=60)
        stage = "finished before the kill" if finished else stage_reached(small, started_ns, before)
        stages[stage] += 1
        if finished:
            assert code == 0

        after = check_live(small)
        published = small.out.resolve().name != before
        if published:
            assert stage in ("published", "finished before the kill")
        else:
            assert after == before_doc
        stale_locks += small.lock.exists()
        if not small.lock.exists() and not published and not stage.startswith("start-up"):
            unlocked.append(f"{stage} at {at:.3f}s: {build_folders(small)}")

        # The next build takes the lock the dead process left and finishes the job.
        again = small.run(include_attack)
        assert again.returncode == 0, f"kill point {n} at {at:.3f}s ({stage}): {again.stderr}"
        assert ("up to date" in again.stdout) == published, again.stdout
        check_live(small)
        assert not small.lock.exists()
        left = build_folders(small)
        assert len(left) <= 2 and not [p for p in left if p.startswith(".new-")], left
        assert list(small.root.glob(".out.link-*")) == []

    cache_parts = sorted(p.name for p in (small.root / "cache").rglob("*.part"))
    with capsys.disabled():
        print(f"\nkill points: {sum(stages.values())} over {span:.2f}s (one rebuild {duration:.2f}s), seed {SEED}")
        for stage, count in sorted(stages.items(), key=lambda kv: -kv[1]):
            print(f"  {count:3d}  {stage}")
        print(f"  lock files left by killed builds (free at once): {stale_locks}; temp files left in the cache by killed runs: {len(cache_parts)}")
    assert sum(stages.values()) == KILL_POINTS
    in_build = sum(c for s, c in stages.items() if s.startswith(("lock held", "rendering", "manifest", "publishing")))
    assert in_build >= KILL_POINTS // 4, stages  # most points must land inside the build proper
    assert unlocked == []  # every kill inside the build left its lock behind for the next build to take over


def named_points() -> list[tuple[str, str]]:
    """(stage, point) for every kill point of a build, in build order."""
    from pipeline.render.registry import RENDERERS

    return (
        [("start-up", "start"), ("lock", "lock"), ("inputs", "inputs"), ("graph", "graph"), ("queries", "queries")]
        + [("render", f"render:{name}") for name in RENDERERS]
        + [("manifest", "manifest"), ("manifest", "manifest:written")]
        + [("publish", p) for p in ("publish:renamed", "publish:linked", "publish:flipped")]
    )


@pytest.mark.realdata
def test_a_build_killed_at_every_named_point_leaves_a_whole_build(small, capsys):
    """One kill at each named point of every stage: the process dies there (exit by
    SIGKILL, so the point was reached), `outputs` is whole, the build it shows is the
    previous one unless the kill came after the link flip, and the next build recovers."""
    assert small.run(False).returncode == 0
    landed: collections.Counter = collections.Counter()
    points_hit = []
    for n, (stage, point) in enumerate(named_points()):
        include_attack = n % 2 == 0
        small.edit_card(1000 + n)
        before_doc = check_live(small)
        before = small.out.resolve().name
        proc = subprocess.run(small.command(include_attack), env=small.env | {"ATTACK_PIPELINE_KILL_AT": point}, cwd=small.root,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == -signal.SIGKILL, f"{point}: the build was not killed there ({proc.returncode}): {proc.stderr[-500:]}"
        landed[stage] += 1
        points_hit.append(point)
        after = check_live(small)
        published = small.out.resolve().name != before
        assert published == (point == "publish:flipped"), point
        if not published:
            assert after == before_doc, point
        if point != "start":  # killed before it took the lock: there is none to take over
            assert small.lock.exists(), f"{point}: the killed build left no lock for the next one to take over"

        again = small.run(include_attack)
        assert again.returncode == 0, f"after a kill at {point}: {again.stderr}"
        assert ("up to date" in again.stdout) == published, (point, again.stdout)
        check_live(small)
        assert not small.lock.exists()
        left = build_folders(small)
        assert len(left) <= 2 and not [p for p in left if p.startswith(".new-")], (point, left)
        assert list(small.root.glob(".out.link-*")) == [], point
    with capsys.disabled():
        print("\nnamed kill points: " + ", ".join(f"{stage} {count}" for stage, count in landed.items()))
    assert set(landed) == {"start-up", "lock", "inputs", "graph", "queries", "render", "manifest", "publish"}
    assert all(count >= 1 for count in landed.values())
    assert len(points_hit) == len(named_points())


@pytest.mark.realdata
def test_a_second_build_is_refused_while_one_runs(small):
    assert small.run(False).returncode == 0
    small.edit_card(1)
    proc = small.start(True)
    try:
        # Freeze the first build as soon as it holds the lock (with its owner written).
        deadline = time.monotonic() + 30
        while not (small.lock.exists() and small.lock.read_text().strip()):
            assert proc.poll() is None and time.monotonic() < deadline, "the build never took the lock"
            time.sleep(0.002)
        proc.send_signal(signal.SIGSTOP)
        second = small.run(False)
        assert second.returncode == 1
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert lines[0].startswith("error: ") and f"another build (pid {proc.pid} on " in lines[0]
        assert str(small.lock) in lines[0]
    finally:
        proc.send_signal(signal.SIGCONT)
    assert proc.wait(timeout=60) == 0
    check_live(small)
    assert not small.lock.exists()


@pytest.mark.realdata
def test_what_a_kill_inside_publish_leaves_is_recovered(small):
    """The publish steps last milliseconds, so random kill points rarely land there;
    the states such a kill leaves are made here on purpose: the new build renamed into
    place but not linked, the new link made but not moved over `outputs`, a finished
    folder with its manifest not yet renamed. The next build must repair each."""
    assert small.run(False).returncode == 0
    previous = small.out.resolve()
    small.edit_card(1)
    assert small.run(True).returncode == 0
    new = small.out.resolve()
    assert new != previous
    # Killed between renaming the build into place and flipping the link:
    tmp_link = small.root / ".out.link-999999"
    os.symlink(os.path.relpath(previous, small.root), tmp_link)
    os.replace(tmp_link, small.out)
    # ... and another kill left its own link and a finished, unrenamed folder.
    os.symlink(os.path.relpath(new, small.root), small.root / ".out.link-999998")
    shutil.copytree(new, small.builds / ".new-killed")
    assert check_live(small)["fingerprint"] != orjson.loads((new / "manifest.json").read_bytes())["fingerprint"]

    again = small.run(True)
    assert again.returncode == 0 and "up to date" not in again.stdout, again.stderr
    doc = check_live(small)
    assert small.out.resolve().name == new.name
    assert doc == orjson.loads((small.out / "manifest.json").read_bytes())
    assert build_folders(small) == sorted([previous.name, new.name])
    assert list(small.root.glob(".out.link-*")) == []
    # A kill during the pruning of a no-op build's leftovers: the no-op sweeps them too.
    shutil.copytree(new, small.builds / ".new-killed-again")
    assert "up to date" in small.run(True).stdout
    assert build_folders(small) == sorted([previous.name, new.name])
