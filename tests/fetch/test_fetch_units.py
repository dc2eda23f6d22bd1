"""Digests, archive extraction, the lock file and atomic cache writes (no network)."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fetch_support import mirror_data
from pipeline.core.config import load_config
from pipeline.core.errors import ConfigError, InputError
from pipeline.fetch.archive import UnsafeArchive, extract_folder, member_parts
from pipeline.fetch.cache import install_file, install_folder
from pipeline.fetch.hashing import Digest, file_digest, tree_digest
from pipeline.fetch.digest_lock import Lock, LockMismatch
from pipeline.fetch.official import official_sha256

ROOT = Path(__file__).resolve().parents[2]


def _write_tree(base: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return base


def _tar(path: Path, members: list[tuple[str, str, bytes]]) -> Path:
    """members: (name, type, data) with type file|dir|symlink|hardlink|chr|fifo."""
    types = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
             "hardlink": tarfile.LNKTYPE, "chr": tarfile.CHRTYPE, "fifo": tarfile.FIFOTYPE}
    with tarfile.open(path, "w:gz") as tar:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            info.type = types[kind]
            if kind == "file":
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                if kind in ("symlink", "hardlink"):
                    info.linkname = data.decode("latin-1") or "target"
                tar.addfile(info)
    return path


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- digests -------------------------------------------------------------------------


def test_tree_digest_depends_on_paths_and_bytes_not_on_creation_order(tmp_path):
    files = {"a.yml": b"one", "sub/b.yml": b"two", "sub/deeper/c.yml": b"three"}
    first = tree_digest(_write_tree(tmp_path / "x", files))
    second = tree_digest(_write_tree(tmp_path / "y", dict(reversed(list(files.items())))))
    assert first == second
    assert first.files == 3 and first.size == len(b"onetwothree")
    renamed = tree_digest(_write_tree(tmp_path / "z", {"a.yml": b"one", "sub/B.yml": b"two", "sub/deeper/c.yml": b"three"}))
    changed = tree_digest(_write_tree(tmp_path / "w", {**files, "sub/b.yml": b"twO"}))
    assert len({first.sha256, renamed.sha256, changed.sha256}) == 3


def test_tree_digest_refuses_symlinks(tmp_path):
    folder = _write_tree(tmp_path / "f", {"a": b"1"})
    (folder / "link").symlink_to(tmp_path)
    with pytest.raises(InputError, match="symbolic links"):
        tree_digest(folder)


def test_file_digest_matches_hashlib(tmp_path):
    import hashlib

    data = os.urandom(3 * (1 << 20) + 17)
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert file_digest(path) == Digest(sha256=hashlib.sha256(data).hexdigest(), size=len(data))


# -- archives ------------------------------------------------------------------------


def test_extract_folder_takes_only_the_named_folder_under_the_top_folder(tmp_path):
    archive = _tar(tmp_path / "a.tar.gz", [
        ("demo-abc123/", "dir", b""),
        ("demo-abc123/README.md", "file", b"readme"),
        ("demo-abc123/mappings/rules/a.yml", "file", b"a"),
        ("demo-abc123/mappings/rules/sub/b.yml", "file", b"b"),
        ("demo-abc123/mappings/rulesx/c.yml", "file", b"c"),
        ("demo-abc123/mappings/other/link", "symlink", b"/etc/passwd"),  # outside the folder: never written
    ])
    dest = tmp_path / "out"
    dest.mkdir()
    assert extract_folder(archive, dest, inner="mappings/rules", top_prefix="demo-") == 2
    assert _files(dest) == {"a.yml": b"a", "sub/b.yml": b"b"}
    assert oct((dest / "a.yml").stat().st_mode & 0o777) == oct(0o644)


@pytest.mark.parametrize(
    ("name", "kind", "data", "message"),
    [
        ("/etc/evil", "file", b"x", "absolute"),
        ("demo-1/rules/../../evil", "file", b"x", "'..'"),
        ("demo-1/rules/link", "symlink", b"/etc/passwd", "symbolic link"),
        ("demo-1/rules/hard", "hardlink", b"demo-1/rules/a", "hard link"),
        ("demo-1/rules/dev", "chr", b"", "device file"),
        ("demo-1/rules/pipe", "fifo", b"", "FIFO"),
        ("demo-1\\rules\\a", "file", b"x", "non-portable"),
        ("other-1/rules/a", "file", b"x", "outside the top folder"),
    ],
)
def test_extract_folder_refuses_unsafe_members(tmp_path, name, kind, data, message):
    archive = _tar(tmp_path / "a.tar.gz", [("demo-1/rules/a", "file", b"a"), (name, kind, data)])
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(UnsafeArchive, match=message) as info:
        extract_folder(archive, dest, inner="rules", top_prefix="demo-")
    assert str(archive) in info.value.one_line()
    assert not (tmp_path / "evil").exists()


def test_extract_folder_reports_damaged_and_empty_archives(tmp_path):
    good = _tar(tmp_path / "g.tar.gz", [("demo-1/rules/a", "file", b"a" * 5000)])
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(good.read_bytes()[:-40])
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(InputError, match="not a readable tar.gz"):
        extract_folder(cut, dest, inner="rules", top_prefix="demo-")
    with pytest.raises(InputError, match="no files under 'nothere'"):
        extract_folder(good, dest, inner="nothere", top_prefix="demo-")
    with pytest.raises(InputError, match="more than 100 bytes"):
        extract_folder(good, dest, inner="rules", top_prefix="demo-", max_bytes=100)


_part = st.sampled_from(["a", "b", "..", ".", "", "x y", "rules", "/", "\\", "c.yml"])


@given(st.lists(_part, min_size=1, max_size=6).map("/".join))
def test_member_parts_never_escapes(name):
    try:
        parts = member_parts(name)
    except UnsafeArchive:
        return
    assert ".." not in parts and "" not in parts and "." not in parts
    assert all("/" not in p and "\\" not in p for p in parts)
    assert not name.startswith("/")


_member = st.tuples(
    st.lists(st.sampled_from(["demo-1", "rules", "sub", "..", ".", "a", "/"]), min_size=1, max_size=5).map("/".join),
    st.sampled_from(["file", "file", "file", "dir", "symlink", "hardlink", "chr", "fifo"]),
    st.binary(max_size=20),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_member, min_size=1, max_size=8))
def test_extraction_writes_only_regular_files_inside_the_destination(tmp_path_factory, members):
    work = tmp_path_factory.mktemp("x")
    archive = _tar(work / "a.tar.gz", members)
    dest = work / "out" / "dest"
    dest.mkdir(parents=True)
    try:
        extract_folder(archive, dest, inner="rules", top_prefix="demo-")
    except InputError:
        pass  # refused (UnsafeArchive) or nothing to take: both are fine answers
    for path in (work / "out").rglob("*"):
        assert not path.is_symlink()
        assert path == dest or path.is_relative_to(dest)
        assert path.is_dir() or path.is_file()
    assert sorted(p.name for p in work.iterdir()) == ["a.tar.gz", "out"]


# -- the lock ------------------------------------------------------------------------

SHA_A = "a" * 64
SHA_B = "b" * 64


def test_lock_pins_on_first_use_then_verifies_then_refuses_a_change(tmp_path):
    lock = Lock(tmp_path / "sources.lock")
    first = Digest(sha256=SHA_A, size=10)
    assert lock.check("s/one", "url", {"url": "https://x/one"}, first) == "pinned"
    assert lock.check("s/one", "url", {"url": "https://x/one"}, first) == "verified"
    with pytest.raises(LockMismatch) as info:
        lock.check("s/one", "url", {"url": "https://x/one"}, Digest(sha256=SHA_B, size=11))
    line = info.value.one_line()
    assert "\n" not in line
    assert "source 's/one'" in line and f"expected {SHA_A}" in line and f"actual {SHA_B}" in line
    assert "fetch --update s/one" in line
    with pytest.raises(LockMismatch, match="now url=https://x/two"):
        lock.check("s/one", "url", {"url": "https://x/two"}, first)
    assert lock.check("s/one", "url", {"url": "https://x/two"}, Digest(sha256=SHA_B, size=11), update=True) == "updated"
    assert lock.check("s/one", "mirror", {"path": "one.gz"}, first) == "pinned"  # origins are pinned apart


def test_lock_without_pin_is_an_error_when_pinning_is_off(tmp_path):
    lock = Lock(tmp_path / "sources.lock")
    with pytest.raises(LockMismatch, match="--locked"):
        lock.check("s", "mirror", {"path": "p"}, Digest(sha256=SHA_A, size=1), may_pin=False)
    assert not lock.changed


def test_lock_file_is_sorted_deterministic_and_round_trips(tmp_path):
    path = tmp_path / "sources.lock"
    lock = Lock(path)
    lock.check("z/folder", "mirror", {"path": "z"}, Digest(sha256=SHA_B, size=5, files=2))
    lock.check("a/file", "url", {"url": "https://x/a"}, Digest(sha256=SHA_A, size=3))
    lock.save()
    first = path.read_bytes()
    again = Lock.load(path)
    assert again.pins == lock.pins
    again.changed = True
    again.save()
    assert path.read_bytes() == first
    text = first.decode()
    assert text.index('"a/file"') < text.index('"z/folder"')
    assert '"tree_sha256"' in text and '"files": 2' in text
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{", "not valid JSON"),
        (b'{"lock_version": 2, "sources": {}}', "version 1"),
        (b'{"lock_version": 1, "sources": {"s": {"ftp": {}}}}', "unknown origin"),
        (b'{"lock_version": 1, "sources": {"s": {"url": {"sha256": "xyz", "size": 1}}}}', "64 lower-case hex"),
        (b'{"lock_version": 1, "sources": {"s": {"url": {"size": 1}}}}', "exactly one of"),
        (b'{"lock_version": 1, "sources": {"s": {"url": {"sha256": "' + SHA_A.encode() + b'", "size": -1}}}}', "'size'"),
        (b'{"lock_version": 1, "sources": {"s": {"mirror": {"tree_sha256": "' + SHA_A.encode() + b'", "size": 1}}}}', "'files'"),
        (b'{"lock_version": 1, "sources": {"s": {"mirror": {"path": 3, "sha256": "' + SHA_A.encode() + b'", "size": 1}}}}', "'path' must be a string"),
    ],
)
def test_a_damaged_lock_is_a_one_line_error(tmp_path, content, message):
    path = tmp_path / "sources.lock"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message) as info:
        Lock.load(path)
    assert str(path) in info.value.one_line() and "\n" not in info.value.one_line()


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["", "x", SHA_A, "mirror", "url", "path"]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["lock_version", "sources", "url", "mirror", "sha256", "tree_sha256", "size", "files", "path", "s"]), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(_json, st.fixed_dictionaries({"lock_version": st.just(1), "sources": _json})))
def test_any_lock_content_loads_or_is_a_config_error(tmp_path, value):
    path = tmp_path / "sources.lock"
    path.write_bytes(orjson.dumps(value))
    try:
        lock = Lock.load(path)
    except ConfigError as exc:
        assert "\n" not in exc.one_line()
        return
    for origins in lock.pins.values():
        for pin in origins.values():
            assert len(pin.digest.sha256) == 64 and pin.digest.size >= 0


# -- atomic cache writes ---------------------------------------------------------------


def _refuse(_path: Path) -> Digest:
    raise LockMismatch("bad bytes")


def test_a_failed_check_or_an_interrupted_write_keeps_the_good_file(tmp_path):
    target = tmp_path / "cache" / "x.json"
    target.parent.mkdir()
    target.write_bytes(b"good")
    with pytest.raises(LockMismatch):
        install_file(target, lambda fh: fh.write(b"bad"), _refuse)

    def killed(fh):
        fh.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        install_file(target, killed, file_digest)
    assert target.read_bytes() == b"good"
    assert sorted(p.name for p in target.parent.iterdir()) == ["x.json"]
    assert install_file(target, lambda fh: fh.write(b"better"), file_digest).size == 6
    assert target.read_bytes() == b"better"


def test_a_folder_is_replaced_only_when_the_new_one_passes(tmp_path):
    target = tmp_path / "cache" / "rules"
    _write_tree(target, {"a.yml": b"old"})
    with pytest.raises(LockMismatch):
        install_folder(target, lambda tmp: _write_tree(tmp, {"a.yml": b"new"}), _refuse)
    assert _files(target) == {"a.yml": b"old"}
    install_folder(target, lambda tmp: _write_tree(tmp, {"b.yml": b"new"}), tree_digest)
    assert _files(target) == {"b.yml": b"new"}
    assert sorted(p.name for p in target.parent.iterdir()) == ["rules"]


def test_stale_temp_files_are_swept_and_never_read(tmp_path):
    target = tmp_path / "x.json"
    stale = tmp_path / ".x.json.abc.part"
    stale.write_bytes(b"half a download")
    os.utime(stale, (1, 1))
    install_file(target, lambda fh: fh.write(b"whole"), file_digest)
    assert not stale.exists() and target.read_bytes() == b"whole"


# -- settings and official hashes ---------------------------------------------------------


def test_base_url_setting_is_validated(tmp_path):
    text = (ROOT / "data" / "sources.toml").read_text()
    assert 'base_url = ""' in text
    bad = tmp_path / "sources.toml"
    bad.write_text(text.replace('base_url = ""', 'base_url = "ftp://example.org"'))
    with pytest.raises(ConfigError, match="base_url"):
        load_config(bad)
    good = tmp_path / "good.toml"
    good.write_text(text.replace('base_url = ""', 'base_url = "https://mirror.example.org/data/"'))
    assert load_config(good).base_url == "https://mirror.example.org/data"


def test_official_hashes_come_from_mitreattack_python():
    from mitreattack import release_info

    config = load_config(ROOT / "data" / "sources.toml")
    enterprise = config.attack_release("enterprise", "18.1")
    ics = config.attack_release("ics", "18.1")
    assert official_sha256(enterprise) == release_info.STIX20["enterprise"]["18.1"]
    assert official_sha256(ics) == release_info.STIX21["ics"]["18.1"]
    assert official_sha256(config.source("mapex/schema")) is None
    assert all(official_sha256(s) for s in config.attack_releases())  # every listed release is known


@pytest.mark.realdata
def test_the_mirror_ics_release_is_the_official_file(tmp_path):
    """The ICS bundle is stored byte-identical (gzip-compressed): its content hash is the official one."""
    config = load_config(ROOT / "data" / "sources.toml")
    ics = config.attack_release("ics", "18.1")
    raw = tmp_path / "ics-attack-18.1.json"
    raw.write_bytes(gzip.decompress((mirror_data() / "attack" / "ics-attack-18.1.json.gz").read_bytes()))
    assert file_digest(raw).sha256 == official_sha256(ics)
