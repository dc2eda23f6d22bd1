"""Settings that stick: where the mirror and the cache are, the site and Navigator URLs.

Four levels, the first that gives a value wins:

    flag (--mirror)  >  environment (ATTACK_PIPELINE_MIRROR)
                     >  project file (./attack-pipeline.toml)
                     >  user config (<config dir>/attack-pipeline/config.toml)

The user config lives in the platform's configuration directory (XDG_CONFIG_HOME or
~/.config on Linux, ~/Library/Application Support on macOS, %APPDATA% on Windows), so
a mirror set once with `attack-pipeline init` serves every checkout. The project file
lets a repository pin its own values. For `site_url`, the `[settings]` of the sources
file is read after the project file (it was the only place before these files existed).

Resolution is a pure function of the flags, an environment mapping and two files, so
`attack-pipeline config` can show where each value came from.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from pipeline.core.errors import ConfigError

APP = "attack-pipeline"
USER_FILE = "config.toml"
PROJECT_FILE = "attack-pipeline.toml"
CONFIG_DIR_ENV = "ATTACK_PIPELINE_CONFIG_DIR"
DEFAULT_NAVIGATOR = "https://mitre-attack.github.io/attack-navigator/"


@dataclass(frozen=True, slots=True)
class Key:
    name: str
    env: str
    flag: str
    help: str
    url: bool = False
    path: bool = False


KEYS: tuple[Key, ...] = (
    Key("mirror", "ATTACK_PIPELINE_MIRROR", "--mirror", "offline mirror directory holding the sources", path=True),
    Key("cache", "ATTACK_PIPELINE_CACHE", "--cache", "cache directory (downloads, parsed files)", path=True),
    Key("site_url", "ATTACK_PIPELINE_SITE_URL", "--site-url", "address the docs site is published at", url=True),
    Key("navigator_url", "ATTACK_PIPELINE_NAVIGATOR_URL", "--navigator-url", "ATT&CK Navigator that opens the layers", url=True),
)
BY_NAME = {k.name: k for k in KEYS}
DEFAULTS = {"mirror": "", "cache": "", "site_url": "", "navigator_url": DEFAULT_NAVIGATOR}


@dataclass(frozen=True, slots=True)
class Value:
    value: str
    origin: str  # "flag --mirror", "environment ATTACK_PIPELINE_MIRROR", a file path, "default"


@dataclass(frozen=True, slots=True)
class Settings:
    values: dict[str, Value]
    user_file: Path
    project_file: Path

    def __getitem__(self, name: str) -> str:
        return self.values[name].value

    def get(self, name: str) -> str | None:
        """The value, or None where nothing set it (callers keep their own defaults)."""
        v = self.values[name]
        return None if v.origin == "default" and not v.value else v.value


def user_config_dir(env: Mapping[str, str] | None = None) -> Path:
    """`$ATTACK_PIPELINE_CONFIG_DIR`, else the platform's directory (platformdirs)."""
    env = os.environ if env is None else env
    if env.get(CONFIG_DIR_ENV):
        return Path(env[CONFIG_DIR_ENV]).expanduser()
    # lazy: platformdirs costs ~7 ms to import; only finding the user's config directory needs it (`--help` never does)
    from platformdirs import user_config_path

    return user_config_path(APP, appauthor=False)


def user_config_file(env: Mapping[str, str] | None = None) -> Path:
    return user_config_dir(env) / USER_FILE


def read_file(path: Path) -> dict[str, str]:
    """The settings of one file; a missing file is empty, a bad one is one clear error."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the settings file: {exc}", file=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=str(path)) from None
    out = {}
    for name, value in raw.items():
        if name not in BY_NAME:
            raise ConfigError(f"unknown setting {name!r} (known: {', '.join(BY_NAME)})", file=str(path), record=name)
        if not isinstance(value, str):
            raise ConfigError("must be a string", file=str(path), record=name)
        out[name] = check(name, value, str(path))
    return out


def check(name: str, value: str, where: str) -> str:
    if BY_NAME[name].url and value and not re.match(r"^https?://[^/?#]+", value):
        raise ConfigError(f"{name} must start with http:// or https://", file=where, record=name)
    return value


def resolve(
    flags: Mapping[str, str | None],
    env: Mapping[str, str] | None = None,
    *,
    cwd: Path | None = None,
    sources_site_url: tuple[str, str] | None = None,
) -> Settings:
    """Every setting with the level that gave it. `sources_site_url` is (value, file) of
    the sources file's `[settings].site_url`, read after the project file."""
    env = os.environ if env is None else env
    project = (cwd or Path.cwd()) / PROJECT_FILE
    user = user_config_file(env)
    project_values = read_file(project)
    user_values = read_file(user)
    values = {}
    for key in KEYS:
        flag = flags.get(key.name)
        if flag not in (None, ""):
            values[key.name] = Value(check(key.name, str(flag), key.flag), f"flag {key.flag}")
        elif env.get(key.env):
            values[key.name] = Value(check(key.name, env[key.env], key.env), f"environment {key.env}")
        elif project_values.get(key.name):
            values[key.name] = Value(project_values[key.name], str(project))
        elif key.name == "site_url" and sources_site_url and sources_site_url[0]:
            values[key.name] = Value(sources_site_url[0], f"{sources_site_url[1]} [settings]")
        elif user_values.get(key.name):
            values[key.name] = Value(user_values[key.name], str(user))
        else:
            values[key.name] = Value(DEFAULTS[key.name], "default")
    return Settings(values, user, project)


def dump(values: Mapping[str, str]) -> str:
    """TOML of string settings (the only type there is), in the order of KEYS."""
    lines = ["# attack-pipeline settings (attack-pipeline config shows where each value comes from)"]
    for key in KEYS:
        if values.get(key.name):
            escaped = values[key.name].replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f"# {key.help}")
            lines.append(f'{key.name} = "{escaped}"')
    return "\n".join(lines) + "\n"
