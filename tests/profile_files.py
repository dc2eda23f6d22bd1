"""Helpers of the profile tests."""

from __future__ import annotations

from pathlib import Path


def write_profile(folder: Path, text: str, name: str = "profile.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
