"""Tests for the feedback reports (HTML, Markdown, plain text) and the class summary.

Results are built by hand here; `showcase_result` and `showcase_plots` (drawn by
test_plots.py) are also used by test_report_browser.py.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from html.parser import HTMLParser

import pytest
from conftest import FUNCTIONS
from test_plots import showcase_plots

from autograder import report
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
        local = [r for r in refs if text is summary and re.fullmatch(r"[\w%.-]+/feedback\.html", r)]
        assert local or text is page, "the summary links each student's report, relative to it"
        assert all(r.startswith(("#", "data:image/")) for r in refs if r not in local), refs
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
    assert "The returned value has the wrong shape Check: m=4, n_in=3, n_out=2, float64" in page
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
    assert "The returned value has the wrong shape Check: grad_W has the shape of W." in page
    assert "grad_W has the shape of W (grad_W has the shape of W)" not in page


def test_hidden_failure_keeps_inputs_and_values_private():
    result = hidden_failure()
    page = report.render_feedback_html(result, SETTINGS, {"activations.softmax": showcase_plots()[
        "activations.relu_prime"]})
    md = report.render_feedback_md(result, SETTINGS)
    for text in (page, text_of(page), md, report.plain_summary(result, SETTINGS)):
        for secret in (str(SECRET_EXPECTED), str(SECRET_GOT), "41.5", "45.2", "(7, 3)",
                       "SECRET_TRACEBACK_LINE", "[3, 1]"):
            assert secret not in text
    assert f"Hidden check: {HIDDEN_LABEL}" in text_of(page) and HIDDEN_HINT in text_of(page)
    assert HIDDEN_LABEL in text_of(page) and "logits of +-1000" in md  # what kind of input broke it
    assert "<img" not in page, "a plot of a hidden case would show its values"
    assert f"Hidden check: {HIDDEN_LABEL}" in md and "subtract the row's maximum" in md


def test_start_here_box_of_a_hidden_failure_keeps_inputs_and_values_private():
    """The Start-here box names the function, the kind of input and the hint; nothing else."""
    result = hidden_failure()
    for text in (text_of(report.render_feedback_html(result, SETTINGS)),
                 report.render_feedback_md(result, SETTINGS), report.plain_summary(result, SETTINGS)):
        box = text.split("Start here", 1)[1][:600]
        assert "activations.softmax" in box and HIDDEN_HINT in box.replace("\\", "")
        for secret in (str(SECRET_EXPECTED), str(SECRET_GOT), "41.5", "45.2", "(7, 3)",
                       "SECRET_TRACEBACK_LINE", "[3, 1]", "largest error"):
            assert secret not in text


def test_hidden_failure_revealed_when_the_settings_say_so():
    result = hidden_failure()
    page = text_of(report.render_feedback_html(result, REVEALING))
    md = report.render_feedback_md(result, REVEALING)
    assert f"Hidden check: {HIDDEN_LABEL}" in page and str(SECRET_GOT) in page
    assert "SECRET_TRACEBACK_LINE" in page
    assert str(SECRET_EXPECTED) in md


def test_import_problem():
    result = import_problem()
    page = text_of(report.render_feedback_html(result, SETTINGS))
    md = report.render_feedback_md(result, SETTINGS)
    cause = ("could not be used, so every function in it scores 0: "
             "SyntaxError: invalid syntax (losses.py, line 3)")
    assert f"Start here losses.py : {cause}" in page
    assert "found exercises in a subfolder: my\\_work/" in page.replace("_", "\\_")
    assert "found exercises in a subfolder: my\\_work/" in md
    assert f"1. `losses.py`: {cause}" in md
    assert f"1. losses.py: {cause}" in report.plain_summary(result, SETTINGS)
    assert "| `losses.py` (5 functions) | ✗ could not be used | 0 of 10 | 0 / 5 |" in md
    assert "losses.mse" not in md and "the module could not be imported" not in md + page, "one line, not 5"


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
    assert report.plain_summary(result, SETTINGS).splitlines() == [
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
    assert report.plain_summary(hinted_failure(), SETTINGS).splitlines() == [
        "Submission bob: 18/19 points (94.7%)",
        "Start here:",
        "  1. linear.linear_backward: the returned value has the wrong shape "
        "(check: m=4, n_in=3, n_out=2, float64)",
        "     grad_W: expected shape (2, 3), got (3, 2)",
        f"     Likely mistake: {BACKWARD_HINT}",
        "Functions fully passed: 17 of 19",
        "Then fix: activations.relu_prime (0.5/1)"]
    assert report.plain_summary(full_marks(), SETTINGS).splitlines()[1:] == [
        "Functions fully passed: 19 of 19", "Every function passes."]
    assert report.plain_summary(import_problem(), SETTINGS).splitlines()[1:] == [
        "Start here:",
        "  1. losses.py: could not be used, so every function in it scores 0: SyntaxError: invalid syntax "
        "(losses.py, line 3)",
        "Functions fully passed: 14 of 19"]
    nothing = full_marks()
    nothing.cases = [dataclasses.replace(c, passed=False, score=0.0) for c in nothing.cases]
    assert report.plain_summary(nothing, SETTINGS).splitlines()[-1] == (
        "Then fix: linear.linear_backward (0/1), activations.relu (0/1), activations.relu_prime (0/1), "
        "activations.sigmoid (0/1), activations.sigmoid_prime (0/1), and 13 more")


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
    assert f"{BACKWARD_HINT} 2 bob , bob2 2 linear.linear_backward (2)" in words
    assert "wrong value that matches no known mistake 2 bob , bob2 2 activations.relu_prime (2)" in words
    assert "losses.py could not be used (see the files below) 1 dave 10 every function of the file" in words
    assert "import:" not in words, "counted where it starts, not as ten import failures"
    assert f"{HIDDEN_HINT} 1 carol 1" in words
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
