"""Classes, labels and colours of the pictures, from the same tables the Navigator
layers use (`pipeline.render.navigator`), so the site and the layers agree."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.graph.coverage import CLASS_LABELS, CLASSES
from pipeline.render.navigator.scoring import CATEGORY_COLORS, MIXED_COLOR, MIXED_LABEL
from pipeline.render.navigator.sets import CLASS_COLORS

# A technique the picture draws without a class (not used by the group, not mapped by
# the framework): pale, so the coloured cells stand out.
OUTSIDE_COLOR = "#ececec"


@dataclass(frozen=True, slots=True)
class Swatch:
    klass: str
    label: str
    color: str


@dataclass(frozen=True, slots=True)
class Palette:
    swatches: tuple[Swatch, ...]
    outside: str = ""  # legend label of OUTSIDE_COLOR cells; "" when every cell has a class

    def color(self, klass: str | None) -> str:
        for s in self.swatches:
            if s.klass == klass:
                return s.color
        return OUTSIDE_COLOR

    def label(self, klass: str | None) -> str:
        for s in self.swatches:
            if s.klass == klass:
                return s.label
        return self.outside


def text_color(background: str) -> str:
    """Black or white, whichever reads better on `background` (#rrggbb), by the
    relative luminance of WCAG 2."""

    def channel(h: str) -> float:
        c = int(h, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(background[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if luminance > 0.179 else "#ffffff"


def coverage_palette(outside: str = "") -> Palette:
    """The coverage classes of the coverage and group layers."""
    return Palette(tuple(Swatch(k, CLASS_LABELS[k], CLASS_COLORS[k]) for k in CLASSES), outside)


# Mapping categories in the order the control layers' legends give them.
CATEGORIES = tuple(CATEGORY_COLORS)
MIXED = "mixed"


def category_palette(outside: str = "not mapped") -> Palette:
    """The mapping categories of the control and capability layers, and their colour
    for a technique mapped in several categories."""
    swatches = [Swatch(k, k.capitalize(), CATEGORY_COLORS[k]) for k in CATEGORIES]
    swatches.append(Swatch(MIXED, MIXED_LABEL, MIXED_COLOR))
    return Palette(tuple(swatches), outside)
