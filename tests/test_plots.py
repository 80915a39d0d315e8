"""Tests for the report's plots (autograder.plots) and their drawing primitives (autograder.svg).

`training_loss` and `decision_boundary` draw the XOR course's two training figures
with the words and points it passes; `showcase_plots` (also used by test_report.py
and test_report_browser.py) draws one plot of each kind.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import os
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from autograder import plots, svg

XOR_POINTS = [plots.Points([(0.0, 0.0), (1.0, 1.0)], svg.circle, "XOR = 0"),
              plots.Points([(0.0, 1.0), (1.0, 0.0)], svg.cross, "XOR = 1")]


def training_loss(student: object, reference: object) -> str:
    """The XOR course's loss curve: the student's losses against torch's."""
    return plots.log_line_chart(
        [plots.Series(reference, "torch (reference)", plots.VERMILION, 2.7, "9.9,4.3"),
         plots.Series(student, "your network", nonfinite_note="your loss is NaN/inf from epoch {x}")],
        title="Training loss", xlabel="epoch", ylabel="training loss (log scale)")


def decision_boundary(values: object, xs: object, ys: object) -> str:
    """The XOR course's decision boundary: the network's output over a grid, and the four XOR points."""
    return plots.field_map(values, xs, ys, points=XOR_POINTS,
                           title="Decision boundary (white line: output 0.5)",
                           xlabel="input x1", ylabel="input x2", colourbar_label="network output")


def showcase_plots() -> dict[str, str]:
    """Real plots for test_report's showcase result (drawn once)."""
    return dict(_showcase_plots())


@functools.cache
def _showcase_plots() -> dict[str, str]:
    epochs = np.arange(1, 501)
    reference = 0.7 * np.exp(-epochs / 80) + 1e-3
    xs = np.linspace(-0.25, 1.25, 41)
    x1, x2 = np.meshgrid(xs, xs)
    grid = 1 / (1 + np.exp(-12 * (np.abs(x1 - x2) - 0.45)))
    expected = np.arange(12.0).reshape(4, 3)
    got = expected.copy()
    got[1, 2] += 3.0
    return {"loss_curve": training_loss(reference * 1.15, reference),
            "decision_boundary": decision_boundary(grid, xs, xs),
            "activations.relu_prime": plots.error_heatmap(expected, got)}


SVG_NS = "{http://www.w3.org/2000/svg}"


def _svg_tree(drawn: str) -> ET.Element:
    """The plot parsed as XML (fails if it is not well-formed)."""
    assert drawn.startswith("<svg")
    return ET.fromstring(drawn)


def _all(tree: ET.Element, tag: str) -> list[ET.Element]:
    """Every SVG element of this tag."""
    return list(tree.iter(SVG_NS + tag))


def _texts(tree: ET.Element) -> list[str]:
    """The text of every <text> element."""
    return ["".join(t.itertext()) for t in _all(tree, "text")]


def _solved_xor() -> tuple[np.ndarray, np.ndarray]:
    """Grid coordinates and the output of a network that solved XOR: above 0.5 where |x1 - x2| > 0.45."""
    xs = np.linspace(-0.5, 1.5, 41)
    return xs, 1 / (1 + np.exp(-12 * (np.abs(np.subtract.outer(xs, xs)) - 0.45)))


def test_plots_are_small_svg():
    for drawn in showcase_plots().values():
        assert drawn.startswith("<svg") and drawn.rstrip().endswith("</svg>")
        assert len(drawn) < 60_000
        assert "<script" not in drawn


@pytest.mark.parametrize("call", [
    lambda: training_loss([], []),
    lambda: training_loss([np.nan, np.inf], [-1.0, 0.0]),
    lambda: training_loss("loss", None),
    lambda: training_loss([[1.0, 2.0]], [[1.0]]),
    lambda: plots.log_line_chart([], title="t", xlabel="x", ylabel="y"),
    lambda: decision_boundary(np.ones((3, 3)), np.arange(4.0), np.arange(4.0)),
    lambda: decision_boundary(np.full((4, 4), np.nan), np.arange(4.0), np.arange(4.0)),
    lambda: decision_boundary(None, [0.0], [0.0]),
    lambda: plots.error_heatmap(np.ones((2, 3)), np.ones((3, 2))),
    lambda: plots.error_heatmap(1.0, 2.0),
    lambda: plots.error_heatmap([[1.0, 2.0], [3.0]], np.ones(2)),
    lambda: plots.error_heatmap(np.ones((2, 2)), np.full((2, 2), np.nan)),
    lambda: plots.error_heatmap(np.ones(3), [np.nan, np.inf, np.nan]),
    lambda: plots.error_heatmap(np.ones((2, 2)), "wrong"),
])
def test_plots_give_nothing_for_nonsense(call):
    assert call() == ""


def test_plots_survive_partial_nan():
    diverged = np.r_[np.linspace(0.7, 0.3, 50), [np.nan] * 10]
    assert "NaN/inf from epoch 51" in training_loss(diverged, np.linspace(0.7, 0.01, 60))
    assert training_loss([0.5, 0.4], []).startswith("<svg")
    grid = np.linspace(0, 1, 16).reshape(4, 4)
    grid[0, 0] = np.inf
    assert decision_boundary(grid.ravel(), np.arange(4.0), np.arange(4.0)).startswith("<svg")
    got = np.ones((2, 3))
    got[0, 1] = np.nan
    assert "1 NaN/inf in grey" in plots.error_heatmap(np.zeros((2, 3)), got)
    assert "1 NaN/inf not shown" in plots.error_heatmap(np.zeros(3), [1.0, np.nan, 0.0])
    assert plots.error_heatmap(np.zeros((2, 2, 2)), np.ones((2, 2, 2))).startswith("<svg")


@pytest.mark.parametrize("name, title, size, words", [
    ("loss_curve", "Training loss", (480, 307), ["epoch", "training loss (log scale)", "torch (reference)",
                                                 "your network"]),
    ("decision_boundary", "Decision boundary (white line: output 0.5)", (403, 346),
     ["input x1", "input x2", "network output", "XOR = 0", "XOR = 1"]),
    ("activations.relu_prime", "Absolute error per element", (442, 346),
     ["column", "row", "|expected − received|", "largest error"]),
])
def test_plots_are_well_formed_accessible_svg(name, title, size, words):
    drawn = showcase_plots()[name]
    tree = _svg_tree(drawn)
    assert tree.get("role") == "img"
    assert tree.get("viewBox") == f"0 0 {size[0]} {size[1]}"
    assert tree.get("font-family") == "DejaVu Sans, Liberation Sans, sans-serif"
    assert tree.find(SVG_NS + "title").text == title
    assert set(words) <= set(_texts(tree)) and title in _texts(tree)
    hrefs = [e.get("href") for e in tree.iter() if e.get("href") is not None]
    assert all(h.startswith("data:image/png;base64,") for h in hrefs)
    assert all(not k.endswith("href") or k == "href" for e in tree.iter() for k in e.attrib)


@pytest.mark.parametrize("call", [
    lambda: training_loss([1e-300, 1e300], [5e-324, 1.0]),
    lambda: training_loss([1e308, 1e308, np.inf], [1e-320, 1e-321]),
    lambda: plots.error_heatmap(np.ones((2, 2)), [[1e308, -1e308], [1e308, 1.0]]),
    lambda: plots.error_heatmap([1e308, -1e308], [-1e308, 1e308]),
    lambda: plots.error_heatmap(np.zeros(4), [1e-320, 0.0, 0.0, 0.0]),
    lambda: plots.error_heatmap(np.zeros((1, 200_000)), np.ones((1, 200_000))),
    lambda: decision_boundary(np.r_[-1e308, np.zeros(14), 1e308], np.arange(4.0), np.arange(4.0)),
    lambda: decision_boundary(np.linspace(0, 1, 16), [3.0, 0.0, 1.0, 2.0], [0.0, 0.1, 1.0, 30.0]),
    lambda: decision_boundary(np.linspace(0, 1, 16), [0.0, 0.0, 1.0, 2.0], np.arange(4.0)),
])
def test_plots_survive_extreme_values(call):
    """Huge, tiny, overflowing, reversed or uneven inputs: a plot or "", no exception, no warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        drawn = call()
    assert drawn == "" or _svg_tree(drawn) is not None


def test_scatter_is_well_formed_svg():
    tree = _svg_tree(plots.error_heatmap(np.arange(5.0), [0.0, 1.0, 2.0, np.inf, 9.0]))
    assert tree.find(SVG_NS + "title").text == "Expected vs received (1 NaN/inf not shown)"
    assert {"expected", "received", "received = expected", "your values"} <= set(_texts(tree))


def test_line_chart_ticks_are_readable():
    """Powers of ten on the log axis, whole numbers on the x axis."""
    texts = _texts(_svg_tree(training_loss(np.geomspace(0.5, 0.001, 200), np.geomspace(0.4, 0.002, 200))))
    assert {"10⁻¹", "10⁻²"} <= set(texts)
    assert {"0", "100", "200"} <= set(texts) and "100.0" not in texts


# ---------------------------------------------------------------- what the caller decides


def _legend_rows(tree: ET.Element) -> list[str]:
    """The texts that start at a legend sample (left-anchored), top to bottom."""
    return [t.text for t in _all(tree, "text") if t.get("text-anchor") == "start"]


def _is_number(text: str) -> bool:
    """Whether `text` is a tick label's number."""
    try:
        float(text.replace("−", "-"))
    except ValueError:
        return False
    return True


def _words(tree: ET.Element) -> set[str]:
    """The texts that are not tick labels."""
    return {t for t in _texts(tree) if not _is_number(t)}


def test_line_chart_draws_any_series_in_order_and_marks_where_each_breaks():
    """Three series, two of them with a note: lines in the given order and colours, then one mark each."""
    rising = np.geomspace(0.01, 1.0, 40)
    series = [plots.Series(rising, "first", "#111111"),
              plots.Series(np.r_[rising[:9], np.nan, rising[10:]], "second", "#222222", dash="3,2",
                           nonfinite_note="second breaks at step {x}"),
              plots.Series(np.r_[rising[:30], [np.inf] * 10], "third", "#333333",
                           nonfinite_note="third breaks at step {x}")]
    tree = _svg_tree(plots.log_line_chart(series, title="Three runs", xlabel="step", ylabel="size"))
    assert [line.get("stroke") for line in _all(tree, "polyline")] == ["#111111", "#222222", "#333333"]
    assert _all(tree, "polyline")[1].get("stroke-dasharray") == "3,2"
    assert _legend_rows(tree) == ["first", "second", "third", "second breaks at step 10",
                                  "third breaks at step 31"]
    assert {"Three runs", "step", "size"} <= set(_texts(tree))


def test_a_chinese_text_is_measured_one_em_a_character():
    """A course's figure in zh_CN: its legend's box, its margins and its title's place are sized from
    the widths of its texts, in which a Chinese character (drawn by a CJK font, one em wide; DejaVu
    Sans, which the widths are measured on, has none) takes one em."""
    assert svg.text_width("训练损失") == 4 * svg.FONT
    assert svg.text_width("你的损失从第 61 轮起") == pytest.approx(8 * svg.FONT + svg.text_width(" 61 "))


def test_other_courses_figures_carry_their_own_words_only():
    """Nothing of the XOR course appears in figures drawn with another course's words and points."""
    xs = np.linspace(-2.0, 2.0, 21)
    field = 1 / (1 + np.exp(-np.add.outer(xs, xs)))
    drawn = [plots.log_line_chart([plots.Series(np.geomspace(2.0, 0.1, 30), "validation error",
                                                nonfinite_note="diverged at {x}")],
                                  title="Validation", xlabel="step", ylabel="error"),
             plots.field_map(field, xs, xs, points=[plots.Points([(1.5, 1.5)], svg.cross, "class A")],
                             title="Classifier", xlabel="feature 1", ylabel="feature 2",
                             colourbar_label="probability of A")]
    words = {"validation error", "Validation", "step", "error", "Classifier", "feature 1", "feature 2",
             "probability of A", "class A"}
    texts = [text for figure in drawn for text in _texts(_svg_tree(figure))]
    assert words <= set(texts)
    for text in texts:
        assert not any(word in text.lower() for word in ("xor", "loss", "network", "epoch", "torch", "your"))


def test_field_map_draws_its_contour_at_the_given_level():
    """A field equal to x has its contour at x = level: a vertical white line that moves with the level."""
    xs = np.linspace(0.0, 1.0, 11)
    field = np.tile(xs, (11, 1))

    def contour_x(level: float) -> float:
        drawn = plots.field_map(field, xs, xs, points=[], title="t", xlabel="x", ylabel="y",
                                colourbar_label="v", level=level)
        (line,) = [e for e in _all(_svg_tree(drawn), "polyline") if e.get("stroke") == "#ffffff"]
        columns = {float(point.split(",")[0]) for point in line.get("points").split()}
        assert len(columns) == 1
        return columns.pop()

    assert contour_x(0.2) < contour_x(0.5) < contour_x(0.8)


def test_field_map_shows_its_points_and_value_range():
    """Axes reach every marked point; the colour bar spans value_range; no legend without points."""
    xs = np.linspace(0.0, 1.0, 5)
    field = np.full((5, 5), 0.5)
    far = plots.field_map(field, xs, xs, points=[plots.Points([(4.0, -3.0)], svg.circle, "far")],
                          title="t", xlabel="x", ylabel="y", colourbar_label="v", value_range=(0.0, 10.0))
    texts = _texts(_svg_tree(far))
    assert {"4", "−3", "10", "far"} <= set(texts)
    bare = _svg_tree(plots.field_map(field, xs, xs, points=[], title="t", xlabel="x", ylabel="y",
                                     colourbar_label="v"))
    assert _all(bare, "circle") == [] and _words(bare) == {"t", "x", "y", "v"}


# ---------------------------------------------------------------- determinism and raster cells


# Draws one plot of each kind into `drawn`: run here and, for determinism, in fresh processes.
DRAW_ALL = """
import numpy as np
from autograder import plots, svg
xs = np.linspace(-0.5, 1.5, 41)
grid = 1 / (1 + np.exp(-12 * (np.abs(np.subtract.outer(xs, xs)) - 0.45)))
values = np.geomspace(0.7, 0.001, 200)
wrong = np.where(np.arange(640) % 7, 1.0, np.nan).reshape(64, 10)
drawn = {
    "lines": plots.log_line_chart([plots.Series(values, "a", plots.VERMILION),
                                   plots.Series(np.r_[values[:150] * 1.2, [np.nan] * 50], "b",
                                                nonfinite_note="b breaks at {x}")],
                                  title="lines", xlabel="x", ylabel="y"),
    "field": plots.field_map(grid, xs, xs, points=[plots.Points([(0, 0), (1, 1)], svg.circle, "c"),
                                                   plots.Points([(0, 1), (1, 0)], svg.cross, "d")],
                             title="field", xlabel="x", ylabel="y", colourbar_label="z"),
    "heatmap": plots.error_heatmap(np.arange(640.0).reshape(64, 10), wrong),
    "scatter": plots.error_heatmap(np.arange(30.0), np.arange(30.0) ** 1.1),
}
"""
REPORT_DRAWN = """
import json, sys
print(json.dumps({**drawn, "modules": sorted(m for m in sys.modules if m.startswith("matplotlib"))}))
"""


def _draw_all_in_new_process(hash_seed: str) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run([sys.executable, "-c", DRAW_ALL + REPORT_DRAWN], capture_output=True, text=True,
                          env=env, cwd=Path(__file__).resolve().parents[1], timeout=120, check=True)
    return json.loads(done.stdout)


def test_plots_are_deterministic_and_need_no_figures():
    """Same input, same bytes: in this process, and in fresh ones with other hash seeds; no pyplot."""
    first, second = _draw_all_in_new_process("1"), _draw_all_in_new_process("2")
    assert "matplotlib.pyplot" not in first["modules"] and "matplotlib.figure" not in first["modules"]
    here: dict = {}
    exec(DRAW_ALL, here)
    for key, drawn in here["drawn"].items():
        assert drawn.startswith("<svg")
        assert first[key] == second[key] == drawn, key


def _white_lines(drawn: str) -> list[ET.Element]:
    return [e for e in _all(_svg_tree(drawn), "polyline") if e.get("stroke") == "#ffffff"]


def test_decision_boundary_of_solved_xor_has_its_contour():
    """Two white 0.5 lines between the circles and the crosses; none when the output never reaches 0.5."""
    xs, grid = _solved_xor()
    drawn = decision_boundary(grid, xs, xs)
    lines = _white_lines(drawn)
    assert len(lines) == 2 and all(len(line.get("points").split()) > 10 for line in lines)
    tree = _svg_tree(drawn)
    assert len(_all(tree, "circle")) == 2 + 1  # two XOR = 0 points and the legend's sample
    assert _white_lines(decision_boundary(np.full_like(grid, 0.2), xs, xs)) == []


def _png(drawn: str) -> Image.Image:
    """The one raster image of a plot, decoded."""
    (image,) = _all(_svg_tree(drawn), "image")
    assert image.get("style") == "image-rendering:pixelated"
    data = base64.b64decode(image.get("href").removeprefix("data:image/png;base64,"))
    return Image.open(io.BytesIO(data)).convert("RGB")


def test_heatmap_cells_grey_for_nan_and_brightest_for_the_largest_error():
    got = np.zeros((2, 3))
    got[0, 1], got[1, 2] = np.nan, 5.0
    image = _png(plots.error_heatmap(np.zeros((2, 3)), got))
    assert image.size == (3, 2)
    assert image.getpixel((1, 0)) == (0x9E, 0x9E, 0x9E)
    assert image.getpixel((2, 1)) == (253, 231, 37)  # viridis' top
    assert image.getpixel((0, 0)) == (68, 1, 84)  # viridis' bottom


def test_decision_boundary_cells_follow_the_grid():
    """Row 0 of the image is the top of the plot: the largest y."""
    xs = np.linspace(0, 1, 5)
    grid = np.tile(np.linspace(0, 1, 5)[:, None], (1, 5))  # output = y
    image = _png(decision_boundary(grid, xs, xs))
    assert image.size == (5, 5)
    assert image.getpixel((0, 0))[0] > 200 > 30 > image.getpixel((0, 4))[0]  # cividis: yellow over blue


def test_a_lines_points_are_written_as_each_coordinate_is():
    """`coord_pairs` writes a whole line in one pass; each number must read as `coord` writes it."""
    from autograder import svg

    points = [[x / 7, -x / 3] for x in range(-300, 300)]
    points += [[0.0, -0.0], [10.0, 0.96], [-0.04, 0.05], [float("nan"), float("inf")], [1e21, -2.5],
               [3.0, 4.0]]  # the last number whole: the end of the text is a place too
    assert svg.coord_pairs(points) == " ".join(f"{svg.coord(x)},{svg.coord(y)}" for x, y in points)
