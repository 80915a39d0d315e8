"""Tests for the feedback reports (HTML, Markdown, plain text), the class summary and the plots.

Results are built by hand here; `showcase_result` and `showcase_plots` are also
used by test_report_browser.py.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import html
import io
import json
import os
import re
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from conftest import FUNCTIONS
from PIL import Image

from autograder import plots, report
from autograder.config import Settings, Tolerance
from autograder.results import CaseResult, SubmissionResult, dump_json

SETTINGS = Settings(
    seed=0, points={f: 1.0 for f in FUNCTIONS},
    tolerances={"float64": Tolerance(1e-7, 1e-9), "float32": Tolerance(1e-4, 1e-6)},
    call_timeout=5.0, call_timeouts={}, submission_timeout=90.0,
)
REVEALING = dataclasses.replace(SETTINGS, reveal_hidden_details=True)

# Marker strings of a hidden failure: none of them may reach the student by default. Its label
# says what kind of input it was, in the course's words, without values: that is shown.
HIDDEN_LABEL = "m=7, K=3, logits of +-1000"
SECRET_EXPECTED, SECRET_GOT = 0.918273, 42.4242
SECRET_MESSAGE = f"output: largest error 41.5 at index [3, 1] (expected {SECRET_EXPECTED}, got {SECRET_GOT})"
SECRET_TRACE = 'File "activations.py", line 12, in softmax\n    SECRET_TRACEBACK_LINE'
HIDDEN_HINT = "exp overflowed: subtract the row's maximum before exponentiating"
BACKWARD_HINT = "dL/dW is transposed: it must be grad_z.T @ x, shape (n_out, n_in) like W"


def case(function: str, label: str = "m=4, n_in=3, n_out=2, float64", *, passed: bool = True,
         hidden: bool = False, **failure) -> CaseResult:
    """A case worth 0.5 points; `failure` sets kind, message and details of a failed one."""
    return CaseResult(function, label, f"{function.split('.')[1]} compared with torch", 0.5 * passed,
                      0.5, passed, hidden, **failure)


def full_marks() -> SubmissionResult:
    """Every function passes two cases, one public and one hidden."""
    cases = [case(f, lbl, hidden=h) for f in FUNCTIONS for lbl, h in (("m=1", False), ("m=5", True))]
    return SubmissionResult("alice", cases, execution_time=1.25, meta={"name": "Alice A."})


def hinted_failure() -> SubmissionResult:
    """linear.linear_backward returns a transposed dL/dW in a public case."""
    result = full_marks()
    result.id = "bob"
    result.cases[2] = case(
        "linear.linear_backward", "m=4, n_in=3, n_out=2, float64", passed=False, kind="shape",
        message="grad_W: expected shape (2, 3), got (3, 2)",
        details={"expected_shape": (2, 3), "got_shape": (3, 2), "got_dtype": "float64", "what": "grad_W",
                 "hint": BACKWARD_HINT},
    )
    result.cases[6] = case(
        "activations.relu_prime", "z of shape (3, 4)", passed=False, kind="value",
        message="output: largest error 1 at index [0, 2] (expected 0, got 1; tolerance rtol=1e-07, "
                "atol=1e-09)",
        details={"expected_shape": (3, 4), "got_shape": (3, 4), "got_dtype": "bool", "what": "output",
                 "max_abs_error": 1.0, "max_rel_error": float("inf"), "worst_index": (0, 2),
                 "expected_at_worst": 0.0, "got_at_worst": 1.0, "hint": None},
    )
    return result


def hidden_failure() -> SubmissionResult:
    """activations.softmax fails a hidden case, with values, a traceback and a hint."""
    result = full_marks()
    result.id = "carol"
    index = FUNCTIONS.index("activations.softmax") * 2 + 1
    result.cases[index] = case(
        "activations.softmax", HIDDEN_LABEL, passed=False, hidden=True, kind="value",
        message=SECRET_MESSAGE,
        details={"expected_shape": (7, 3), "got_shape": (7, 3), "got_dtype": "float64",
                 "max_abs_error": 41.5, "max_rel_error": 45.2, "worst_index": (3, 1),
                 "expected_at_worst": SECRET_EXPECTED, "got_at_worst": SECRET_GOT, "hint": HIDDEN_HINT,
                 "detail": SECRET_TRACE},
    )
    return result


def import_problem() -> SubmissionResult:
    """losses.py has a syntax error: all its cases fail with kind "import"."""
    result = full_marks()
    result.id = "dave"
    why = "SyntaxError: invalid syntax (losses.py, line 3)"
    result.problems = {"losses": why}
    result.cases = [c if not c.function.startswith("losses.") else
                    case(c.function, c.label, passed=False, hidden=c.hidden, kind="import",
                         message=f"losses.py is unusable: {why}", details={"file_problem": True})
                    for c in result.cases]
    result.notes = ["found exercises in a subfolder: my_work/"]
    return result


def grading_error() -> SubmissionResult:
    """The grader could not run the submission at all."""
    return SubmissionResult("erin", status="error", error="SandboxUnavailable: Landlock is not available",
                            execution_time=0.01)


def showcase_result() -> SubmissionResult:
    """A bit of everything, for the browser and for eyes: failures, hints, a crash, output."""
    result = hinted_failure()
    hidden = hidden_failure().cases
    result.id = "showcase"
    result.cases = [h if h.function == "activations.softmax" else c for c, h in zip(result.cases, hidden,
                                                                                      strict=True)]
    result.cases[-1] = case("xor.train", "2000 epochs, lr=0.5", passed=False, kind="exception",
                            message="IndexError: index 2 is out of bounds for axis 0 with size 2",
                            details={"detail": 'File "xor.py", line 41, in train\n    W2 = params[2]'})
    result.notes = ["ignored __pycache__/ and .DS_Store"]
    result.output = "epoch 0 loss 0.693\n<script>alert(1)</script>\n" + "epoch 1 loss 0.69\n" * 30
    result.meta = {"name": "Sam Showcase", "user_id": "4711", "late": ""}
    result.isolation = ["landlock", "user+pid+net namespaces", "rlimits"]
    return result


def showcase_plots() -> dict[str, str]:
    """Real plots from autograder.plots for showcase_result (drawn once)."""
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
    return {"loss_curve": plots.loss_curve(reference * 1.15, reference),
            "decision_boundary": plots.decision_boundary(grid, xs, xs),
            "activations.relu_prime": plots.error_heatmap(expected, got)}


def text_of(page: str) -> str:
    """The visible text of an HTML page (no CSS), unescaped, whitespace collapsed."""
    body = re.sub(r"<style>.*?</style>", " ", page.replace("<wbr>", ""), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


# ---------------------------------------------------------------- structure and accessibility


class Outline(HTMLParser):
    """Counts of the tags and attributes the accessibility rules are about."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def outline(page: str) -> Outline:
    parser = Outline()
    parser.feed(page)
    return parser


@pytest.mark.parametrize("make", [full_marks, hinted_failure, hidden_failure, import_problem,
                                  grading_error, showcase_result])
def test_feedback_html_is_accessible(make):
    given = showcase_plots() if make is showcase_result else None
    page = report.render_feedback_html(make(), SETTINGS, given)
    parts = outline(page)
    assert page.startswith("<!DOCTYPE html>")
    assert parts.all("html") == [{"lang": "en"}]
    assert len(parts.all("h1")) == 1 and parts.all("h2")
    assert all(th.get("scope") in ("col", "row") for th in parts.all("th"))
    assert all(img.get("alt") for img in parts.all("img"))
    ids = [attrs["id"] for _, attrs in parts.tags if attrs.get("id")]
    assert len(ids) == len(set(ids))


def test_html_makes_no_external_reference():
    page = report.render_feedback_html(showcase_result(), SETTINGS, showcase_plots())
    summary = report.render_summary_html([showcase_result(), grading_error()], SETTINGS)
    for text in (page, summary):
        refs = re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]+)""", text, re.I)
        refs += re.findall(r"""url\(\s*["']?([^"')]+)""", text, re.I)
        assert all(r.startswith(("#", "data:image/")) for r in refs), refs
        assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", text, re.I)
        assert "<script" not in text.replace("&lt;script", "")
        assert "@import" not in text and "<link" not in text
    assert any(r.startswith("#") for r in re.findall(r'href="([^"]+)"', page)), "the in-page links"


def test_plots_are_embedded_as_images_with_alt_text():
    page = report.render_feedback_html(showcase_result(), SETTINGS, showcase_plots())
    images = outline(page).all("img")
    assert len(images) == 3
    assert all(i["src"].startswith("data:image/svg+xml;base64,") for i in images)
    assert any("loss" in i["alt"] for i in images) and any("XOR" in i["alt"] for i in images)


def test_unusable_plots_are_left_out():
    given = {"loss_curve": "", "decision_boundary": "<p>not an image</p>",
             "activations.relu_prime": "data:image/png;base64,@@@"}
    page = report.render_feedback_html(showcase_result(), SETTINGS, given)
    assert "<img" not in page


# ---------------------------------------------------------------- what the student sees


def test_full_marks():
    result = full_marks()
    page, md = report.render_feedback_html(result, SETTINGS), report.render_feedback_md(result, SETTINGS)
    assert f"{len(FUNCTIONS)} of {len(FUNCTIONS)} functions pass every check" in text_of(page)
    assert "✗" not in page and "Likely mistake" not in page
    assert "# Feedback: 19 / 19 points (100%)" in md
    assert "every function passes every check" in md
    assert "torch is not available" in text_of(page) and "torch is not available" in md


def test_hinted_failure_shows_details_and_hint():
    result = hinted_failure()
    raw = report.render_feedback_html(result, SETTINGS)
    page, md = text_of(raw), report.render_feedback_md(result, SETTINGS)
    assert "Likely mistake" in page and BACKWARD_HINT in page
    assert "Failed: m=4, n_in=3, n_out=2, float64" in page
    assert "shape (2, 3) (3, 2)" in page and "dtype floating point bool" in page
    assert ("Largest absolute error: <strong>1 at index [0, 2]</strong>; "
            "Largest relative error: <strong>inf</strong>.") in raw
    assert "value at index [0, 2] 0 1" in page
    assert "partly passed" in page and "failed" in page and "passed" in page
    assert "**Likely mistake:** dL/dW is transposed: it must be grad\\_z.T @ x" in md
    assert "Shape: expected `(2, 3)`, received `(3, 2)`" in md


def test_a_label_that_is_the_description_is_not_repeated():
    result = hinted_failure()
    result.cases[2].label = result.cases[2].checked = "grad_W has the shape of W"
    page = text_of(report.render_feedback_html(result, SETTINGS))
    assert "Failed: grad_W has the shape of W The returned value has the wrong shape." in page
    assert "grad_W has the shape of W: the returned value" not in page


def test_hidden_failure_keeps_inputs_and_values_private():
    result = hidden_failure()
    page = report.render_feedback_html(result, SETTINGS, {"activations.softmax": showcase_plots()[
        "activations.relu_prime"]})
    md = report.render_feedback_md(result, SETTINGS)
    for text in (page, text_of(page), md, report.plain_summary(result)):
        for secret in (str(SECRET_EXPECTED), str(SECRET_GOT), "41.5", "45.2", "(7, 3)",
                       "SECRET_TRACEBACK_LINE", "[3, 1]"):
            assert secret not in text
    assert "Hidden check failed" in text_of(page) and HIDDEN_HINT in text_of(page)
    assert HIDDEN_LABEL in text_of(page) and "logits of +-1000" in md  # what kind of input broke it
    assert "<img" not in page, "a plot of a hidden case would show its values"
    assert f"**✗ Hidden check failed: {HIDDEN_LABEL}**" in md and "subtract the row's maximum" in md


def test_hidden_failure_revealed_when_the_settings_say_so():
    result = hidden_failure()
    page = text_of(report.render_feedback_html(result, REVEALING))
    md = report.render_feedback_md(result, REVEALING)
    assert f"Failed (hidden check): {HIDDEN_LABEL}" in page and str(SECRET_GOT) in page
    assert "SECRET_TRACEBACK_LINE" in page
    assert str(SECRET_EXPECTED) in md


def test_import_problem():
    result = import_problem()
    page = text_of(report.render_feedback_html(result, SETTINGS))
    md = report.render_feedback_md(result, SETTINGS)
    assert "Files that could not be used" in page
    assert "losses.py SyntaxError: invalid syntax (losses.py, line 3)" in page
    assert "the module could not be imported" in page
    assert "found exercises in a subfolder: my\\_work/" in md
    assert "- `losses.py`: SyntaxError: invalid syntax (losses.py, line 3)" in md
    assert "0 / 1 points" in md and "Unusable file losses.py" in report.plain_summary(result)
    assert md.count("1 more check failed the same way.") == 5, "one block per function, not per case"


def test_results_read_back_from_json_render_the_same():
    result = hinted_failure()
    again = SubmissionResult.from_dict(json.loads(dump_json(result.to_dict())))
    assert report.render_feedback_html(again, SETTINGS) == report.render_feedback_html(result, SETTINGS)
    assert report.render_feedback_md(again, SETTINGS) == report.render_feedback_md(result, SETTINGS)


def test_grading_error():
    result = grading_error()
    page = text_of(report.render_feedback_html(result, SETTINGS))
    md = report.render_feedback_md(result, SETTINGS)
    assert "Grading could not finish" in page and "Landlock is not available" in page
    assert "Grading could not finish" in md and "Score per function" not in md
    assert report.plain_summary(result).splitlines() == [
        "Submission erin: 0/0 points (0%)", "Grading failed: SandboxUnavailable: Landlock is not available"]


def test_printed_output_is_escaped_truncated_and_collapsed():
    result = showcase_result()
    result.output += "x" * (report.OUTPUT_LIMIT + 50) + "\x00\x1b[31m"
    page = report.render_feedback_html(result, SETTINGS)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert re.search(r"<details>\s*<summary>Show the output \(\d+ lines, cut short\)</summary>", page)
    assert "more characters not shown" in page and "\x00" not in page and "\x1b" not in page
    md = report.render_feedback_md(result, SETTINGS)
    assert "<script>" in md.split("## What your code printed")[1].split("```text")[1]  # inside the fence
    assert len(md) < 12_000


def test_markdown_escapes_student_text():
    result = hinted_failure()
    result.cases[2].message = "got <b>bold</b> | `tick` and ``` fences"
    result.cases[2].label = "*not emphasis* [link](x)"
    md = report.render_feedback_md(result, SETTINGS)
    assert "\\*not emphasis\\* \\[link\\](x)" in md
    assert "  ````text\n  got <b>bold</b> | `tick` and ``` fences\n  ````" in md
    assert "<b>" not in md.replace("got <b>bold</b>", "")


def test_plain_summary():
    lines = report.plain_summary(hinted_failure()).splitlines()
    assert lines[0] == "Submission bob: 18/19 points (94.7%)"
    assert lines[1] == "Functions fully passed: 17 of 19"
    assert lines[2] == "To fix: linear.linear_backward (0.5/1), activations.relu_prime (0.5/1)"
    assert report.plain_summary(full_marks()).splitlines()[-1] == "Every function passes."
    assert report.plain_summary(import_problem()).splitlines()[2] == (
        "To fix: losses.mse (0/1), losses.mse_prime (0/1), losses.cross_entropy (0/1), "
        "losses.cross_entropy_prime (0/1), losses.softmax_cross_entropy_prime (0/1)")
    nothing = full_marks()
    nothing.cases = [dataclasses.replace(c, passed=False, score=0.0) for c in nothing.cases]
    assert report.plain_summary(nothing).splitlines()[2].endswith("activations.sigmoid (0/1), and 14 more")


# ---------------------------------------------------------------- the class summary


def test_summary_counts():
    results = [full_marks(), hinted_failure(), hidden_failure(), import_problem(), grading_error()]
    second = hinted_failure()
    second.id, second.execution_time = "bob2", 9.5
    results.append(second)
    page = report.render_summary_html(results, SETTINGS)
    words = text_of(page)
    assert "6 submissions: 5 graded, 1 could not be graded." in words
    assert "linear.linear_backward 3 of 5 (60%)" in words
    assert "losses.mse 4 of 5 (80%)" in words
    assert f"{BACKWARD_HINT} 2 2 linear.linear_backward (2)" in words
    assert "wrong value that matches no known mistake 2 2 activations.relu_prime (2)" in words
    assert "import: the module could not be imported 1 10" in words
    assert f"{HIDDEN_HINT} 1 1" in words
    assert "erin SandboxUnavailable: Landlock is not available" in words
    assert "dave losses.py SyntaxError" in words
    slowest = words.split("Slowest to grade")[1]
    assert slowest.index("bob2 9.5") < slowest.index("alice 1.25")


def test_summary_histogram_and_statistics():
    context = report._summary_context([full_marks(), hinted_failure(), import_problem()])
    assert [b["count"] for b in context["histogram"]] == [0] * 7 + [1, 0, 2]
    assert context["stats"] == {"mean": 89.5, "median": 94.7, "min": 73.7, "max": 100.0, "full": 1}
    assert report._summary_context([grading_error()])["stats"] == {}


def test_summary_of_nothing():
    words = text_of(report.render_summary_html([], SETTINGS))
    assert "0 submissions" in words and "No submission could be graded" in words


# ---------------------------------------------------------------- plots


def test_plots_are_small_svg():
    for svg in showcase_plots().values():
        assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
        assert len(svg) < 60_000
        assert "<script" not in svg


@pytest.mark.parametrize("call", [
    lambda: plots.loss_curve([], []),
    lambda: plots.loss_curve([np.nan, np.inf], [-1.0, 0.0]),
    lambda: plots.loss_curve("loss", None),
    lambda: plots.loss_curve([[1.0, 2.0]], [[1.0]]),
    lambda: plots.decision_boundary(np.ones((3, 3)), np.arange(4.0), np.arange(4.0)),
    lambda: plots.decision_boundary(np.full((4, 4), np.nan), np.arange(4.0), np.arange(4.0)),
    lambda: plots.decision_boundary(None, [0.0], [0.0]),
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
    assert "NaN/inf from epoch 51" in plots.loss_curve(diverged, np.linspace(0.7, 0.01, 60))
    assert plots.loss_curve([0.5, 0.4], []).startswith("<svg")
    grid = np.linspace(0, 1, 16).reshape(4, 4)
    grid[0, 0] = np.inf
    assert plots.decision_boundary(grid.ravel(), np.arange(4.0), np.arange(4.0)).startswith("<svg")
    got = np.ones((2, 3))
    got[0, 1] = np.nan
    assert "1 NaN/inf in grey" in plots.error_heatmap(np.zeros((2, 3)), got)
    assert "1 NaN/inf not shown" in plots.error_heatmap(np.zeros(3), [1.0, np.nan, 0.0])
    assert plots.error_heatmap(np.zeros((2, 2, 2)), np.ones((2, 2, 2))).startswith("<svg")


SVG_NS = "{http://www.w3.org/2000/svg}"


def _svg_tree(svg: str) -> ET.Element:
    """The plot parsed as XML (fails if it is not well-formed)."""
    assert svg.startswith("<svg")
    return ET.fromstring(svg)


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


@pytest.mark.parametrize("name, title, size, words", [
    ("loss_curve", "Training loss", (480, 307), ["epoch", "training loss (log scale)", "torch (reference)",
                                                 "your network"]),
    ("decision_boundary", "Decision boundary (white line: output 0.5)", (403, 346),
     ["input x1", "input x2", "network output", "XOR = 0", "XOR = 1"]),
    ("activations.relu_prime", "Absolute error per element", (442, 346),
     ["column", "row", "|expected − received|", "largest error"]),
])
def test_plots_are_well_formed_accessible_svg(name, title, size, words):
    svg = showcase_plots()[name]
    tree = _svg_tree(svg)
    assert tree.get("role") == "img"
    assert tree.get("viewBox") == f"0 0 {size[0]} {size[1]}"
    assert tree.get("font-family") == "DejaVu Sans, Liberation Sans, sans-serif"
    assert tree.find(SVG_NS + "title").text == title
    assert set(words) <= set(_texts(tree)) and title in _texts(tree)
    hrefs = [e.get("href") for e in tree.iter() if e.get("href") is not None]
    assert all(h.startswith("data:image/png;base64,") for h in hrefs)
    assert all(not k.endswith("href") or k == "href" for e in tree.iter() for k in e.attrib)


@pytest.mark.parametrize("call", [
    lambda: plots.loss_curve([1e-300, 1e300], [5e-324, 1.0]),
    lambda: plots.loss_curve([1e308, 1e308, np.inf], [1e-320, 1e-321]),
    lambda: plots.error_heatmap(np.ones((2, 2)), [[1e308, -1e308], [1e308, 1.0]]),
    lambda: plots.error_heatmap([1e308, -1e308], [-1e308, 1e308]),
    lambda: plots.error_heatmap(np.zeros(4), [1e-320, 0.0, 0.0, 0.0]),
    lambda: plots.error_heatmap(np.zeros((1, 200_000)), np.ones((1, 200_000))),
    lambda: plots.decision_boundary(np.r_[-1e308, np.zeros(14), 1e308], np.arange(4.0), np.arange(4.0)),
    lambda: plots.decision_boundary(np.linspace(0, 1, 16), [3.0, 0.0, 1.0, 2.0], [0.0, 0.1, 1.0, 30.0]),
    lambda: plots.decision_boundary(np.linspace(0, 1, 16), [0.0, 0.0, 1.0, 2.0], np.arange(4.0)),
])
def test_plots_survive_extreme_values(call):
    """Huge, tiny, overflowing, reversed or uneven inputs: a plot or "", no exception, no warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        svg = call()
    assert svg == "" or _svg_tree(svg) is not None


def test_scatter_is_well_formed_svg():
    tree = _svg_tree(plots.error_heatmap(np.arange(5.0), [0.0, 1.0, 2.0, np.inf, 9.0]))
    assert tree.find(SVG_NS + "title").text == "Expected vs received (1 NaN/inf not shown)"
    assert {"expected", "received", "received = expected", "your values"} <= set(_texts(tree))


def test_loss_curve_ticks_are_readable():
    """Powers of ten on the log axis, whole epochs on the x axis."""
    texts = _texts(_svg_tree(plots.loss_curve(np.geomspace(0.5, 0.001, 200), np.geomspace(0.4, 0.002, 200))))
    assert {"10⁻¹", "10⁻²"} <= set(texts)
    assert {"0", "100", "200"} <= set(texts) and "100.0" not in texts


# Draws one plot of each kind into `drawn`: run here and, for determinism, in fresh processes.
DRAW_ALL = """
import numpy as np
from autograder import plots
xs = np.linspace(-0.5, 1.5, 41)
grid = 1 / (1 + np.exp(-12 * (np.abs(np.subtract.outer(xs, xs)) - 0.45)))
losses = np.geomspace(0.7, 0.001, 200)
wrong = np.where(np.arange(640) % 7, 1.0, np.nan).reshape(64, 10)
drawn = {
    "loss": plots.loss_curve(np.r_[losses[:150] * 1.2, [np.nan] * 50], losses),
    "boundary": plots.decision_boundary(grid, xs, xs),
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
    for key, svg in here["drawn"].items():
        assert svg.startswith("<svg")
        assert first[key] == second[key] == svg, key


def _white_lines(svg: str) -> list[ET.Element]:
    return [e for e in _all(_svg_tree(svg), "polyline") if e.get("stroke") == "#ffffff"]


def test_decision_boundary_of_solved_xor_has_its_contour():
    """Two white 0.5 lines between the circles and the crosses; none when the output never reaches 0.5."""
    xs, grid = _solved_xor()
    svg = plots.decision_boundary(grid, xs, xs)
    lines = _white_lines(svg)
    assert len(lines) == 2 and all(len(line.get("points").split()) > 10 for line in lines)
    tree = _svg_tree(svg)
    assert len(_all(tree, "circle")) == 2 + 1  # two XOR = 0 points and the legend's sample
    assert _white_lines(plots.decision_boundary(np.full_like(grid, 0.2), xs, xs)) == []


def _png(svg: str) -> Image.Image:
    """The one raster image of a plot, decoded."""
    (image,) = _all(_svg_tree(svg), "image")
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
    image = _png(plots.decision_boundary(grid, xs, xs))
    assert image.size == (5, 5)
    assert image.getpixel((0, 0))[0] > 200 > 30 > image.getpixel((0, 4))[0]  # cividis: yellow over blue

