"""`data/sources.toml` → typed, validated configuration.

The sources file is data, not code: adding an ATT&CK release or a mapping table is an
edit there, never an `if` here. Everything is checked once on load so later stages can
trust ids, versions and paths.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
import difflib

from pipeline.core.errors import ConfigError, InputError
from pipeline.core.limits import Limits, from_environment, from_settings, read_limited
from pipeline.model.domains import DOMAINS
from pipeline.convert.targets import DEFAULT_LANGUAGES, TARGETS

SOURCES_ENV = "ATTACK_PIPELINE_SOURCES"
MIRROR_ENV = "ATTACK_PIPELINE_MIRROR"

KINDS = ("attack", "mapping", "catalog", "detection", "schema", "threat", "profile")
_VERSION = re.compile(r"^\d+\.\d+$")
# Parts of source ids that name no source in particular (never a short alias).
_GENERIC_PART = re.compile(r"^(enterprise|mobile|ics|mapex|attack|attack-\d+\.\d+|controls|rules)$")
_SOURCE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def version_key(version: str) -> tuple[int, ...]:
    """ATT&CK releases sort numerically: 9.0 < 10.1."""
    return tuple(int(p) for p in version.split("."))


@dataclass(frozen=True, slots=True, kw_only=True)
class Repository:
    name: str
    github: str
    commit: str
    root: str
    mirror: str
    license: str

    def raw_url(self, path: str) -> str:
        inner = "/".join(p for p in (self.root, path) if p)
        return f"https://raw.githubusercontent.com/{self.github}/{self.commit}/{inner}"

    @property
    def archive_url(self) -> str:
        return f"https://github.com/{self.github}/archive/{self.commit}.tar.gz"


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """One input: a file or a folder, with its canonical URL and its place in a mirror."""

    id: str
    kind: str
    format: str
    url: str
    mirror_path: str
    folder: bool = False
    domain: str | None = None
    attack_version: str | None = None
    framework: str | None = None
    framework_version: str | None = None
    stix_version: str | None = None
    repository: str | None = None
    enabled: bool = True
    license: str = ""
    # ATT&CK releases: the published sha256 of the canonical file (the digests table of
    # data/sources.toml, equal to mitreattack-python's), checked on every download.
    sha256: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    file: str
    sources: tuple[Source, ...]
    repositories: dict[str, Repository]
    site_url: str = ""
    base_url: str = ""
    # Languages every Sigma rule is converted into (pipeline.convert.targets), first the main one.
    query_languages: tuple[str, ...] = ("kusto",)
    limits: Limits = field(default_factory=Limits)
    _by_id: dict[str, Source] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update((s.id, s) for s in self.sources)

    def source(self, source_id: str, kind: str | None = None) -> Source:
        """A source by its id, or by a short alias where that is unambiguous: one part of
        the id (`nist_800_53-rev5`, `sigma`) or a framework (`nist_800_53`); among several
        matches, the only enabled one. Anything else is an error listing close matches."""
        found = self._by_id.get(source_id)
        if found is not None:
            return found
        matches = self.aliased(source_id, kind)
        enabled = [s for s in matches if s.enabled]
        if len(matches) == 1:
            return matches[0]
        if len(enabled) == 1:
            return enabled[0]
        hint = "; `attack-pipeline sources` lists them all"
        if matches:
            shown = ", ".join(s.id for s in matches[:6]) + (", …" if len(matches) > 6 else "")
            raise ConfigError(f"{source_id!r} matches {len(matches)} sources: {shown}; give the full id{hint}", file=self.file)
        close = self.close_matches(source_id, kind=kind)
        did = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"no source {source_id!r}{did}{hint}", file=self.file) from None

    def aliased(self, alias: str, kind: str | None = None) -> list[Source]:
        """Sources (of `kind`) that `alias` names by framework or by a distinctive part of the id."""
        text = alias.strip().strip("/").lower()
        if not text or _GENERIC_PART.match(text):
            return []
        return [
            s for s in self.sources
            if (kind is None or s.kind == kind)
            and (text == (s.framework or "").lower() or text in s.id.lower().split("/") or s.id.lower().endswith("/" + text))
        ]

    def close_matches(self, text: str, n: int = 5, kind: str | None = None) -> list[str]:
        """Source ids whose id, or one part of it, is close to `text` (difflib)."""
        text = text.strip().lower()
        names: dict[str, list[str]] = {}
        for s in self.sources:
            if kind is not None and s.kind != kind:
                continue
            for name in {s.id.lower(), *s.id.lower().split("/"), (s.framework or "").lower()} - {""}:
                names.setdefault(name, []).append(s.id)
        out: list[str] = []
        containing = sorted(name for name in names if text and text in name)
        for name in containing + difflib.get_close_matches(text, list(names), n=n, cutoff=0.6):
            out.extend(i for i in names[name] if i not in out)
        enabled = {s.id for s in self.sources if s.enabled}
        out.sort(key=lambda i: (i not in enabled, i))
        return out[:n]

    def attack_releases(self, domain: str | None = None) -> list[Source]:
        found = [s for s in self.sources if s.kind == "attack" and (domain is None or s.domain == domain)]
        return sorted(found, key=lambda s: (DOMAINS.index(s.domain or "enterprise"), version_key(s.attack_version or "0.0")))

    def attack_release(self, domain: str, version: str) -> Source | None:
        for s in self.attack_releases(domain):
            if s.attack_version == version:
                return s
        return None

    def newest_attack_version(self, domain: str = "enterprise") -> str:
        releases = self.attack_releases(domain)
        if not releases:
            raise ConfigError(f"no {domain} ATT&CK release is listed", file=self.file)
        return releases[-1].attack_version or ""

    def enabled(self, kind: str | None = None) -> list[Source]:
        return [s for s in self.sources if s.enabled and (kind is None or s.kind == kind)]


def default_sources_file() -> Path:
    """`$ATTACK_PIPELINE_SOURCES`, else `./data/sources.toml`, else the one beside the package."""
    env = os.environ.get(SOURCES_ENV)
    if env:
        return Path(env)
    local = Path("data/sources.toml")
    if local.is_file():
        return local
    return Path(__file__).resolve().parents[2] / "data" / "sources.toml"


def _need(table: dict, key: str, where: str, file: str, kind: type = str):
    value = table.get(key)
    if value is None:
        raise ConfigError(f"missing required key {key!r}", file=file, record=where)
    if not isinstance(value, kind):
        raise ConfigError(f"{key!r} must be a {kind.__name__}, not {type(value).__name__}", file=file, record=where)
    return value


def _opt(table: dict, key: str, where: str, file: str, default=None, kind: type = str):
    """An optional key: `default` when absent, else a value of type `kind` (a hostile or
    mistyped file must give one ConfigError, not a TypeError later)."""
    if key not in table:
        return default
    value = table[key]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(f"{key!r} must be a {kind.__name__}, not {type(value).__name__}", file=file, record=where)
    return value


def _check_relative(path: str, where: str, file: str) -> str:
    p = PurePosixPath(path)
    if p.is_absolute() or ".." in p.parts or "\\" in path:
        raise ConfigError(f"path {path!r} must be relative and stay inside the mirror", file=file, record=where)
    return path


def _fill(pattern: str, fill: dict[str, str], key: str, file: str) -> str:
    """A release's URL or mirror path from its pattern; only {domain} and {version} exist."""
    try:
        return pattern.format(**fill)
    except (KeyError, IndexError, AttributeError, ValueError) as exc:
        problem = f"unknown placeholder {{{exc.args[0]}}}" if isinstance(exc, KeyError) else str(exc)
        raise ConfigError(f"{key} {pattern!r}: {problem} (only {{domain}} and {{version}} may be used)", file=file, record="[attack]") from None


def _attack_sources(table: dict, file: str) -> list[Source]:
    where = "[attack]"
    mirror = _need(table, "mirror", where, file)
    urls = {"2.0": _need(table, "url_stix20", where, file), "2.1": _need(table, "url_stix21", where, file)}
    license_ = _opt(table, "license", where, file, "")
    out = []
    for i, rel in enumerate(_need(table, "releases", where, file, list)):
        rwhere = f"[attack].releases[{i}]"
        if not isinstance(rel, dict):
            raise ConfigError("each release must be a table {domain, version, stix}", file=file, record=rwhere)
        domain = _need(rel, "domain", rwhere, file)
        version = _need(rel, "version", rwhere, file)
        stix = _need(rel, "stix", rwhere, file)
        if domain not in DOMAINS:
            raise ConfigError(f"unknown domain {domain!r} (expected one of {', '.join(DOMAINS)})", file=file, record=rwhere)
        if not _VERSION.match(version):
            raise ConfigError(f"release {version!r} is not of the form MAJOR.MINOR", file=file, record=rwhere)
        if stix not in urls:
            raise ConfigError(f"stix must be \"2.0\" or \"2.1\", not {stix!r}", file=file, record=rwhere)
        sha256 = _opt(rel, "sha256", rwhere, file, "")
        if sha256 and not _SHA256.match(sha256):
            raise ConfigError(f"sha256 {sha256[:80]!r} is not 64 lower-case hex digits", file=file, record=rwhere)
        fill = {"domain": domain, "version": version}
        key = f"url_stix{stix.replace('.', '')}"
        out.append(
            Source(
                id=f"attack/{domain}-{version}",
                kind="attack",
                format=f"stix-{stix}",
                url=_fill(urls[stix], fill, key, file),
                mirror_path=_check_relative(_fill(mirror, fill, "mirror", file), rwhere, file),
                domain=domain,
                attack_version=version,
                stix_version=stix,
                license=license_,
                sha256=sha256,
            )
        )
    return out


def _repositories(table: dict, file: str) -> dict[str, Repository]:
    repos = {}
    for name, body in table.items():
        where = f"[repositories.{name}]"
        if not isinstance(body, dict):
            raise ConfigError("must be a table", file=file, record=where)
        repos[name] = Repository(
            name=name,
            github=_need(body, "github", where, file),
            commit=_need(body, "commit", where, file),
            root=_opt(body, "root", where, file, ""),
            mirror=_check_relative(_need(body, "mirror", where, file), where, file),
            license=_opt(body, "license", where, file, ""),
        )
    return repos


def _other_source(body: dict, index: int, repos: dict[str, Repository], file: str) -> Source:
    where = f"[[source]] #{index + 1}"
    sid = _need(body, "id", where, file)
    where = f"source {sid!r}"
    if not _SOURCE_ID.match(sid) or ".." in sid:
        raise ConfigError("id may hold letters, digits and . _ / - only", file=file, record=where)
    kind = _need(body, "kind", where, file)
    if kind not in KINDS:
        raise ConfigError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})", file=file, record=where)
    path = _check_relative(_opt(body, "path", where, file, ""), where, file)
    folder = _opt(body, "folder", where, file, False, bool)
    repo_name = _opt(body, "repository", where, file)
    if repo_name is not None:
        repo = repos.get(repo_name)
        if repo is None:
            raise ConfigError(f"unknown repository {repo_name!r}", file=file, record=where)
        url = _opt(body, "url", where, file, "") or (repo.archive_url if folder else repo.raw_url(path))
        mirror_path = "/".join(p for p in (repo.mirror, path) if p)
        license_ = _opt(body, "license", where, file, repo.license)
    else:
        url = _need(body, "url", where, file)
        mirror_path = _need(body, "mirror", where, file)
        license_ = _opt(body, "license", where, file, "")
    domain = _opt(body, "domain", where, file)
    if domain is not None and domain not in DOMAINS:
        raise ConfigError(f"unknown domain {domain!r}", file=file, record=where)
    version = _opt(body, "attack_version", where, file)
    if version is not None and not _VERSION.match(version):
        raise ConfigError(f"attack_version {version!r} is not of the form MAJOR.MINOR", file=file, record=where)
    return Source(
        id=sid,
        kind=kind,
        format=_need(body, "format", where, file),
        url=url,
        mirror_path=_check_relative(mirror_path, where, file),
        folder=folder,
        domain=domain,
        attack_version=version,
        framework=_opt(body, "framework", where, file),
        framework_version=_opt(body, "framework_version", where, file),
        repository=repo_name,
        enabled=_opt(body, "enabled", where, file, True, bool),
        license=license_,
    )


def load_config(path: Path | None = None) -> Config:
    path = Path(path) if path is not None else default_sources_file()
    file = str(path)
    try:
        raw = tomllib.loads(read_limited(path, file, limits=from_environment()).decode("utf-8"))  # its own [settings] are not read yet
    except FileNotFoundError:
        raise ConfigError("sources file not found (set --sources or ATTACK_PIPELINE_SOURCES)", file=file) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the sources file: {exc.strerror or exc}", file=file) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})", file=file) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=file) from None
    except InputError as exc:  # over the size limit
        raise ConfigError(exc.problem, file=file) from None
    except RecursionError:
        raise ConfigError("not valid TOML: nested too deeply", file=file) from None
    settings = raw.get("settings", {})
    if not isinstance(settings, dict):
        raise ConfigError("[settings] must be a table", file=file, record="[settings]")
    limits = from_settings(settings, file)
    repos = _repositories(_opt(raw, "repositories", "[repositories]", file, {}, dict), file)
    sources = _attack_sources(_need(raw, "attack", "[attack]", file, dict), file)
    for i, body in enumerate(_opt(raw, "source", "[[source]]", file, [], list)):
        if not isinstance(body, dict):
            raise ConfigError("each source must be a table", file=file, record=f"[[source]] #{i + 1}")
        sources.append(_other_source(body, i, repos, file))
    seen: dict[str, str] = {}
    frameworks: dict[str, str] = {}
    for s in sources:
        if seen.get(s.id.lower()) == s.id:
            raise ConfigError("duplicate source id", file=file, record=f"source {s.id!r}")
        # Ids and frameworks name files and folders: two that differ only by case would be
        # one file on macOS and Windows.
        if s.id.lower() in seen:
            raise ConfigError(f"id differs from source {seen[s.id.lower()]!r} only by case", file=file, record=f"source {s.id!r}")
        seen[s.id.lower()] = s.id
        if s.framework is not None:
            other = frameworks.setdefault(s.framework.lower(), s.framework)
            if other != s.framework:
                raise ConfigError(f"framework {s.framework!r} differs from framework {other!r} only by case", file=file, record=f"source {s.id!r}")
    site_url = _opt(settings, "site_url", "[settings]", file, "")
    if site_url and not re.match(r"^https?://", site_url):
        raise ConfigError("site_url must start with http:// or https://", file=file, record="[settings]")
    base_url = settings.get("base_url", "")
    if not isinstance(base_url, str) or (base_url and not re.match(r"^https?://[^/?#]+", base_url)):
        raise ConfigError("base_url must be empty or an http:// or https:// URL", file=file, record="[settings]")
    query_languages = _query_languages(settings, file)
    return Config(
        file=file,
        sources=tuple(sources),
        repositories=repos,
        site_url=site_url,
        base_url=base_url.rstrip("/"),
        query_languages=query_languages,
        limits=limits,
    )


def _query_languages(settings: dict, file: str) -> tuple[str, ...]:
    """`query_languages = ["kusto", "splunk"]`: known names, no repeats, at least one."""
    raw = settings.get("query_languages", list(DEFAULT_LANGUAGES))
    if not isinstance(raw, list) or not raw or not all(isinstance(x, str) for x in raw):
        raise ConfigError("query_languages must be a non-empty list of names", file=file, record="[settings]")
    unknown = [x for x in raw if x not in TARGETS]
    if unknown:
        raise ConfigError(f"unknown query language {unknown[0]!r} (known: {', '.join(TARGETS)})", file=file, record="[settings]")
    if len(set(raw)) != len(raw):
        raise ConfigError("query_languages names a language twice", file=file, record="[settings]")
    return tuple(raw)
