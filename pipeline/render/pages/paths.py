"""Where each page lives under `docs/`, and relative links between pages.

Page file names come from `pipeline.render.naming` (the id itself when plainly safe,
else a slug plus a hash of the id; unique ignoring case within a folder; never a
Windows device name). ATT&CK ids are checked and used as they are.
"""

from __future__ import annotations

from pipeline.render.naming import attack_id, stem as file_stem, stems

__all__ = ["file_stem", "stems", "technique_page", "tactic_page", "group_page", "is_attack_id", "framework_page", "relative"]


def technique_page(value: str) -> str:
    return f"techniques/{attack_id(value)}.md"


def tactic_page(value: str) -> str:
    return f"tactics/{attack_id(value)}.md"


def group_page(value: str) -> str:
    return f"groups/{attack_id(value)}.md"


def is_attack_id(value: str) -> bool:
    """Whether an id may name a page as it is (`attack_id` would accept it)."""
    try:
        attack_id(value)
    except ValueError:
        return False
    return True


def framework_page(framework: str) -> str:
    return f"frameworks/{file_stem(framework)}.md"


def relative(from_page: str, to_page: str) -> str:
    """The link from one page to another file, both given relative to the same root
    (normalised paths, no `..`): up to the root, then down; within a folder, the name.
    Tens of thousands of links per build, so no os.path work."""
    here, _, _ = from_page.rpartition("/")
    there, _, name = to_page.rpartition("/")
    if here == there:
        return name
    if not here or there.startswith(here + "/"):
        return to_page[len(here) + 1 if here else 0 :]
    return "../" * (here.count("/") + 1 if here else 0) + to_page
