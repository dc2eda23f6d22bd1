"""Unpack one folder of a downloaded tar.gz, refusing anything that could escape it.

An archive is untrusted input. Every member name is checked (no absolute paths,
no `..`, no backslashes) before anything is written, only regular files are
written, and they are written by this module with fixed permissions: tarfile's
own extraction (even with `filter="data"`) is not relied on, so its defaults
and version differences cannot widen what an archive may do. Links, devices and
FIFOs inside the selected folder make the whole archive refused.
"""

from __future__ import annotations

import gzip
import shutil
import tarfile
import zlib
from pathlib import Path

from pipeline.core.errors import InputError

MAX_BYTES = 4 << 30  # a decompression bomb stops here, long before the disk fills


class UnsafeArchive(InputError):
    """An archive member that must not be unpacked."""


def member_parts(name: str) -> tuple[str, ...]:
    """The path components of a member name, or `UnsafeArchive` if it could escape."""
    if not name or name.startswith("/") or "\\" in name or "\0" in name:
        raise UnsafeArchive(f"member {name!r} has an absolute or non-portable path")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise UnsafeArchive(f"member {name!r} climbs out of the archive with '..'")
    return parts


def _kind(member: tarfile.TarInfo) -> str:
    if member.issym():
        return "symbolic link"
    if member.islnk():
        return "hard link"
    if member.ischr() or member.isblk():
        return "device file"
    if member.isfifo():
        return "FIFO"
    return "special member"


def extract_folder(
    archive: Path,
    dest: Path,
    *,
    inner: str,
    top_prefix: str | None = None,
    max_bytes: int = MAX_BYTES,
) -> int:
    """Write the regular files under `inner` into `dest` (which must exist); return their count.

    `top_prefix` set: every member must sit in one top folder whose name starts with
    it (GitHub archives: `<repo>-<commit>/`), which is stripped first. `inner` is the
    folder inside (`root/path` of a repository, empty for everything).
    """
    want = member_parts(inner) if inner else ()
    top: str | None = None
    count = 0
    total = 0
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for member in tar:
                parts = member_parts(member.name)
                if top_prefix is not None:
                    if not parts:
                        continue
                    if top is None:
                        if not parts[0].startswith(top_prefix):
                            raise UnsafeArchive(f"top folder {parts[0]!r} does not start with {top_prefix!r}")
                        top = parts[0]
                    elif parts[0] != top:
                        raise UnsafeArchive(f"member {member.name!r} is outside the top folder {top!r}")
                    parts = parts[1:]
                if parts[: len(want)] != want:
                    continue
                rel = parts[len(want) :]
                if member.isdir():
                    continue
                if not member.isreg():
                    raise UnsafeArchive(f"member {member.name!r} is a {_kind(member)}; links and device files are refused")
                if not rel:
                    raise InputError(f"{inner!r} is a file in the archive, not a folder", file=str(archive))
                total += member.size
                if total > max_bytes:
                    raise InputError(f"the folder unpacks to more than {max_bytes} bytes; refused", file=str(archive))
                _write(tar, member, dest, rel)
                count += 1
    except UnsafeArchive as exc:
        raise UnsafeArchive(exc.problem, file=str(archive)) from None
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(f"not a readable tar.gz archive ({exc or type(exc).__name__})", file=str(archive)) from None
    if count == 0:
        raise InputError(f"the archive holds no files under {inner or '(its top folder)'!r}", file=str(archive))
    return count


def _write(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path, rel: tuple[str, ...]) -> None:
    target = dest.joinpath(*rel)
    # Names were checked part by part; this guards against a parent that is not a plain folder.
    if not target.resolve().is_relative_to(dest.resolve()):
        raise UnsafeArchive(f"member {member.name!r} would be written outside the folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        source = tar.extractfile(member)
        if source is None:
            raise UnsafeArchive(f"member {member.name!r} has no file data")
        with source, open(target, "wb") as out:
            shutil.copyfileobj(source, out)
        target.chmod(0o644)
    except (IsADirectoryError, NotADirectoryError, FileExistsError) as exc:
        raise UnsafeArchive(f"member {member.name!r} clashes with another member ({exc.strerror})") from None
