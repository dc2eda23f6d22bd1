"""The pictures of the site (heatmap, bar charts, strip): the Navigator layers' colours,
one cell per technique, links where given, and any text — hostile or not — kept as text
(a parsed picture holds only the elements the drawing code writes)."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.render.navigator.scoring import CATEGORY_COLORS, MIXED_COLOR
from pipeline.render.navigator.sets import CLASS_COLORS
from pipeline.render.pictures import charts
from pipeline.render.pictures.heatmap import heatmap
from pipeline.render.pictures.matrix import Cell, Column, Matrix
from pipeline.render.pictures.palette import OUTSIDE_COLOR, category_palette, coverage_palette, text_color

HOSTILE = '</title><script>window.__pwned=1</script><img src=x onerror=alert(1)>"\'&amp;'
DRAWN = {"figure", "div", "p", "a", "span", "details", "summary", "b", "svg", "title", "text", "rect", "g"}


class Parsed(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(fragment: str) -> Parsed:
    p = Parsed()
    p.feed(fragment)
    p.close()
    return p


def _matrix(name: str = "Network Service Discovery") -> Matrix:
    t1 = Cell("technique:T1046", "T1046", name)
    t2 = Cell("technique:T1003", "T1003", "OS Credential Dumping")
    s1 = Cell("technique:T1003.001", "T1003.001", "LSASS Memory")
    return Matrix(
        domain="enterprise",
        label="Enterprise",
        columns=(
            Column(Cell("tactic:TA0007", "TA0007", "Discovery"), ((t1, ()),)),
            Column(Cell("tactic:TA0006", "TA0006", f"Credential {name}"), ((t2, (s1,)),)),
        ),
    )


def _href(key: str) -> str | None:
    return None if key.startswith("tactic:") else f"../techniques/{key.split(':')[1]}.md"


def _cells(fragment: str) -> list[dict]:
    return [a for tag, a in parse(fragment).tags if "atk-cell" in (a.get("class") or "")]


def test_heatmap_cells_carry_the_layer_colours_and_links():
    classes = {"technique:T1046": "both", "technique:T1003": "controls", "technique:T1003.001": "neither"}
    out = heatmap(_matrix(), classes, coverage_palette(), _href)
    cells = _cells(out)
    assert [c["data-technique"] for c in cells] == ["T1046", "T1003", "T1003.001"]
    for c in cells:
        klass = classes[f"technique:{c['data-technique']}"]
        assert c["data-class"] == klass
        assert c["style"].startswith(f"background:{CLASS_COLORS[klass]};")
        assert c["href"] == f"../techniques/{c['data-technique']}.md"
    # The sub-technique is folded under its technique.
    assert "<details" in out and out.index("<details") < out.index('data-technique="T1003.001"')
    legend = [t for t in parse(out).text if t.strip()]
    assert "controls and detections " in legend and "1" in legend


def test_heatmap_only_classified_leaves_the_rest_out_and_unknown_is_pale():
    classes = {"technique:T1003.001": "detections"}
    only = heatmap(_matrix(), classes, coverage_palette("not used by the group"), _href, only_classified=True)
    assert [c["data-technique"] for c in _cells(only)] == ["T1003", "T1003.001"]  # the parent stays as the fold
    assert "TA0007" not in only  # a tactic without a used technique is left out
    full = heatmap(_matrix(), classes, coverage_palette("not used"), _href)
    pale = [c for c in _cells(full) if c["data-class"] == ""]
    assert {c["data-technique"] for c in pale} == {"T1046", "T1003"}
    assert all(c["style"].startswith(f"background:{OUTSIDE_COLOR};") for c in pale)


def test_category_palette_is_the_control_layers_one():
    p = category_palette()
    assert {s.klass: s.color for s in p.swatches} == {**CATEGORY_COLORS, "mixed": MIXED_COLOR}


def test_text_colour_reads_on_every_class_colour():
    assert text_color("#000000") == "#ffffff" and text_color("#ffffff") == "#000000"
    assert text_color(CLASS_COLORS["detections"]) == "#000000"  # orange: dark text
    assert text_color(CLASS_COLORS["controls"]) == "#ffffff"  # blue: light text


def _inert(fragment: str, hostile: str) -> None:
    parsed = parse(fragment)
    assert {tag for tag, _ in parsed.tags} <= DRAWN
    assert not [k for _, attrs in parsed.tags for k in attrs if k.lower().startswith("on")]
    assert not [v for _, attrs in parsed.tags for k, v in attrs.items() if k == "href" and v and v.lower().startswith("javascript")]
    if hostile.strip():
        assert any(hostile.strip() in t or " ".join(hostile.split()) in " ".join(t.split()) for t in parsed.text) or any(
            hostile in (attrs.get("title") or "") for _, attrs in parsed.tags
        )


def test_hostile_names_stay_text_in_every_picture():
    out = heatmap(_matrix(HOSTILE), {"technique:T1046": "both"}, coverage_palette(), _href, caption=HOSTILE)
    _inert(out, HOSTILE)
    bars = [charts.Bar(label=HOSTILE, href="../x.md", counts={"both": 2, "neither": 1}, value=3, total=5)]
    _inert(charts.stacked_bars(bars, coverage_palette(), HOSTILE), HOSTILE)
    _inert(charts.bars(bars, "#4575b4", HOSTILE), HOSTILE)
    _inert(charts.strip([(HOSTILE, "#4575b4", "../y.md")], HOSTILE), HOSTILE)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.text(min_size=1, max_size=60))
def test_any_name_stays_text(name):
    out = heatmap(_matrix(name), {"technique:T1046": "neither"}, coverage_palette(), _href, caption=name)
    parsed = parse(out)
    assert {tag for tag, _ in parsed.tags} <= DRAWN
    assert not [k for _, attrs in parsed.tags for k in attrs if k.lower().startswith("on")]
    svg = charts.bars([charts.Bar(label=name, value=1)], "#000000", name)
    assert {tag for tag, _ in parse(svg).tags} <= DRAWN


def test_stacked_bars_are_shares_of_each_row():
    bars = [charts.Bar(label="Discovery", counts={"both": 3, "controls": 1, "detections": 0, "neither": 4})]
    svg = charts.stacked_bars(bars, coverage_palette(), "per tactic")
    rects = [a for tag, a in parse(svg).tags if tag == "rect" and "data-class" in a]
    assert [r["data-class"] for r in rects] == ["both", "controls", "neither"]
    widths = [float(r["width"]) for r in rects]
    assert abs(sum(widths) - (charts.WIDTH - charts.LABEL - charts.NUMBER)) < 0.5
    assert [r["fill"] for r in rects] == [CLASS_COLORS["both"], CLASS_COLORS["controls"], CLASS_COLORS["neither"]]
