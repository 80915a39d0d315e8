"""Feedback that starts with the cause (issue 13): the Start-here box, untouched starter files in
one line, passed functions collapsed, headlines that name the kind of failure, and chain-graded
(knock-on) results, in feedback.html, feedback.md and summary.txt.

Results are built by hand (the engine's side of chain grading is built elsewhere: these render
against the contract of `CaseResult.upstream`), except the stub submission, which is graded.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from conftest import FUNCTIONS, MODULES
from test_report import (
    BACKWARD_HINT,
    SETTINGS,
    full_marks,
    hinted_failure,
    import_problem,
    text_of,
)

from autograder import report
from autograder.results import KIND_TEXT, SubmissionResult

ROOT = Path(__file__).resolve().parent.parent
SIGMOID_PRIME_HINT = "sigma' was applied to the sigmoid's output"
WITH_YOURS = {"kind": "shape", "message": "W1: expected shape (3, 2), got (2, 3)"}


#: Inline HTML elements: their tags are no space in the text a reader sees.
INLINE = re.compile(r"</?(?:a|code|strong|em|span)\b[^>]*>")


def renders(result: SubmissionResult) -> dict[str, str]:
    """The three student reports of `result`: the HTML page's visible text, Markdown, plain text."""
    return {"html": text_of(INLINE.sub("", report.render_feedback_html(result, SETTINGS))),
            "md": report.render_feedback_md(result, SETTINGS),
            "txt": report.plain_summary(result, SETTINGS)}


def flat(text: str) -> str:
    """Text without Markdown's code marks and escapes, its white space collapsed."""
    return " ".join(text.replace("\\", "").replace("`", "").split())


def start_here(text: str) -> str:
    """The Start-here box of a rendered report (its text up to the next heading or section)."""
    assert "Start here" in text, "no Start-here box"
    box = text.split("Start here", 1)[1]
    return re.split(r"\n## |Score per function|Functions fully passed|\n\n[A-Z]", box)[0]


def replace_cases(result: SubmissionResult, function: str, **changes) -> SubmissionResult:
    """`result` with every case of `function` changed (passed=False also zeroes its score)."""
    for c in result.cases:
        if c.function == function:
            for key, value in changes.items():
                setattr(c, key, value)
            if changes.get("passed") is False:
                c.score = 0.0
    return result


def knock_on() -> SubmissionResult:
    """activations.sigmoid_prime is wrong; xor.gradients is right given correct helpers (credited)
    and xor.train is wrong even given them."""
    result = full_marks()
    result.id = "kim"
    replace_cases(result, "activations.sigmoid_prime", passed=False, kind="value",
                  message="output: largest error 0.03", details={"hint": SIGMOID_PRIME_HINT})
    replace_cases(result, "xor.gradients", upstream=["activations.sigmoid_prime"],
                  details={"with_yours": dict(WITH_YOURS)})
    replace_cases(result, "xor.train", passed=False, kind="value", message="losses: largest error 0.2",
                  upstream=["activations.sigmoid_prime"])
    return result


# ---------------------------------------------------------------- the Start-here box


def test_start_here_opens_every_report_with_the_first_failing_function_and_its_hint():
    for name, text in renders(hinted_failure()).items():
        box = start_here(text)
        assert "linear.linear_backward" in box and "activations.relu_prime" not in box, name
        assert "wrong shape" in box and "dL/dW is transposed" in box.replace("\\", ""), name
        assert text.index("Start here") < text.index("activations.relu_prime"), name


def test_start_here_lists_files_timeouts_and_crashes_in_course_order():
    result = import_problem()
    replace_cases(result, "xor.train", passed=False, kind="timeout", message="xor.train took longer than 1 s")
    replace_cases(result, "activations.softmax", passed=False, kind="crash", hidden=True,
                  message="the process died: MemoryError at 0x7f")
    replace_cases(result, "network.classifier_loss", passed=False, kind="value", message="output: wrong",
                  details={"hint": "the loss was summed, not averaged"})
    for name, text in renders(result).items():
        box = start_here(text)
        order = ["activations.softmax", "losses.py", "network.classifier_loss", "xor.train"]
        assert [box.index(item) for item in order] == sorted(box.index(item) for item in order), name
        assert "line 3" in box and "took too long" in box and "crashed" in box, name
        assert "the loss was summed, not averaged" in box, name
        assert "xor.train took longer than 1 s" in box, f"{name}: a public case's message is shown"
        assert "0x7f" not in box, f"{name}: a hidden case's message is not"
        assert "losses.mse" not in box, f"{name}: the functions of an unusable file are not causes"


def test_a_submission_out_of_time_lists_a_few_timeouts_not_all():
    result = full_marks()
    for function in FUNCTIONS[3:]:
        replace_cases(result, function, passed=False, kind="timeout", message="skipped: out of time")
    for name, text in renders(result).items():
        box = start_here(text)
        shown = report.STOPPED_SHOWN + 1  # and then the first function to fix, which timed out too
        assert box.count("took too long") == shown, name
        assert name == "txt" or f"Then {len(FUNCTIONS) - 3 - shown} more" in text, name


def test_no_start_here_when_everything_passes():
    for name, text in renders(full_marks()).items():
        assert "Start here" not in text, name


# ---------------------------------------------------------------- untouched starter files


def not_started(result: SubmissionResult, module: str) -> SubmissionResult:
    """Every case of `module` fails as the starter file's stubs do."""
    for c in result.cases:
        if c.function.startswith(module + "."):
            c.passed, c.score, c.kind = False, 0.0, "not_implemented"
            c.message = f"{c.function} is not implemented yet (it raises NotImplementedError)"
    return result


NOT_STARTED = "linear.py: not started yet (every function still raises NotImplementedError)"


def test_an_untouched_starter_file_is_one_line():
    result = not_started(hinted_failure(), "linear")
    texts = renders(result)
    for name, text in texts.items():
        assert flat(text).count(NOT_STARTED) == 1, name
        assert "not implemented yet (the stub" not in text, f"{name}: no section per function"
    assert "### `linear.linear`" not in texts["md"]
    assert "activations.relu_prime" in start_here(texts["md"]), "the first function to fix comes next"


def test_a_partly_started_file_keeps_its_sections():
    result = not_started(full_marks(), "linear")
    replace_cases(result, "linear.linear", passed=True, kind="", message="")
    for c in result.cases:
        c.score = c.max_score if c.passed else 0.0
    md = renders(result)["md"]
    assert "not started" not in md and "### `linear.linear_backward`" in md


def test_a_stub_submission_gets_a_few_lines(grade):
    result = grade(ROOT / "examples" / "submissions" / "carol_untouched")
    md = report.render_feedback_md(result, SETTINGS)
    page = text_of(report.render_feedback_html(result, SETTINGS))
    assert len(md.encode()) < 2_500, f"{len(md.encode())} bytes of Markdown for an untouched stub"
    assert md.count("not started yet") == len(MODULES) and "###" not in md
    assert page.count("not started yet") == len(MODULES) and "Hidden check failed" not in page
    started = re.findall(r"(\w+)\.py: not started yet", report.plain_summary(result, SETTINGS))
    assert started == list(MODULES)


# ---------------------------------------------------------------- passed functions collapsed


def test_passed_functions_are_collapsed_and_failures_open():
    raw = report.render_feedback_html(hinted_failure(), SETTINGS)
    articles = re.findall(r'<(details|article)[^>]*\bid="fn-([\w-]+)"', raw)
    assert len(articles) == len(FUNCTIONS)
    failing = {a for tag, a in articles if tag == "article"}
    assert failing == {"linear-linear_backward", "activations-relu_prime"}
    assert not re.search(r'<details[^>]*\bopen', raw), "passed functions start closed"
    md = report.render_feedback_md(hinted_failure(), SETTINGS)
    assert md.count("| `activations.relu` |") == 0 and "`activations.relu`" in md
    assert md.count("\n| `") == 2, "the score table lists the functions that lost points only"


# ---------------------------------------------------------------- headlines name the kind


@pytest.mark.parametrize("kind", ["warning", "modified", "shape", "value", "type", "timeout", "exception"])
@pytest.mark.parametrize("hidden", [False, True])
def test_a_failure_is_headed_by_its_kind(kind, hidden):
    result = full_marks()
    replace_cases(result, "activations.sigmoid", passed=False, kind=kind, hidden=hidden,
                  message="the call raised a warning: RuntimeWarning: overflow encountered in exp",
                  details={"hint": "a warning means an intermediate overflowed"})
    raw = report.render_feedback_html(result, SETTINGS)
    headlines = [text_of(h) for h in re.findall(r"<h4[^>]*>.*?</h4>", raw, re.S)]
    want = KIND_TEXT[kind][:1].upper() + KIND_TEXT[kind][1:]
    assert headlines and all(h.startswith(f"✗ {want}") for h in headlines), headlines
    md = report.render_feedback_md(result, SETTINGS)
    bold = re.findall(r"^- \*\*(.*?)\*\*", md.split("## What to fix")[1], re.M)
    assert bold and all(b.replace("\\", "").startswith(f"✗ {want}") for b in bold), bold
    if kind != "value":
        assert "the returned value is wrong" not in text_of(raw) and "returned value is wrong" not in md


# ---------------------------------------------------------------- chain grading


CREDITED = ("xor.gradients is right given correct helpers; with yours it fails because "
            "activations.sigmoid_prime is wrong")
TOO = "wrong even given correct helpers (and activations.sigmoid_prime is wrong too)"


def test_a_knock_on_function_keeps_its_points_and_says_where_the_mistake_enters():
    result = knock_on()
    for name, text in renders(result).items():
        assert flat(text).count(CREDITED) == (0 if name == "txt" else 1), name
        box = start_here(flat(text))
        assert "activations.sigmoid_prime" in box and SIGMOID_PRIME_HINT in box, name
        assert "xor.train" not in box and box.count("xor.gradients") <= 1, name
    md = renders(result)["md"]
    assert "W1: expected shape (3, 2), got (2, 3)" in md, "a public case's own failure is shown"
    assert KIND_TEXT["shape"] in md
    # one count of the functions that pass, in the headline and in the list of those that do
    headline = re.search(r"(\d+) of (\d+) functions pass every check", md)
    listed = re.search(r"Every check passed \((\d+) of (\d+)\)", md)
    assert headline and listed and headline.groups() == listed.groups()


def test_a_knock_on_from_a_hidden_case_shows_its_kind_not_its_message():
    result = knock_on()
    replace_cases(result, "xor.gradients", hidden=True)
    for name, text in renders(result).items():
        assert "W1: expected shape" not in text, name
    assert KIND_TEXT["shape"] in renders(result)["md"]


def test_a_failure_given_correct_helpers_says_so():
    for name, text in renders(knock_on()).items():
        if name != "txt":
            assert TOO in flat(text), name


# ---------------------------------------------------------------- the class summary


class Links(HTMLParser):
    """Each link's href and text, and the text of each table row (a row's links included)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.rows: list[str] = []
        self._href: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href, self._text = dict(attrs).get("href") or "", ""
        elif tag == "tr":
            self.rows.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, self._text))
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text += data
        if self.rows:
            self.rows[-1] += data


def summary_of(results: list[SubmissionResult]) -> Links:
    parser = Links()
    parser.feed(report.render_summary_html(results, SETTINGS))
    return parser


ODD_IDS = ["a b#c?d", "%41&<b>", "javascript:alert(1)", "..x", "émile"]


def test_the_summary_links_each_student_to_their_report():
    results = []
    for sid in ODD_IDS:
        result = hinted_failure()
        result.id = sid
        results.append(result)
    links = summary_of(results).links
    for sid in ODD_IDS:
        href = next(h for h, text in links if text == sid and h.endswith("/feedback.html"))
        folder = href.removesuffix("/feedback.html")
        assert unquote(folder) == sid and "/" not in folder and ":" not in folder, href
        assert not re.search(r"[\s#?&<>\"']", folder), href


def test_a_report_that_could_not_be_written_is_not_linked():
    lost = hinted_failure()
    lost.status, lost.error, lost.unwritten = "error", "could not write out/bob: disk full", True
    assert not [h for h, _ in summary_of([lost, full_marks()]).links if h.startswith("bob/")]


def test_each_mistake_names_its_students():
    bob, bea = hinted_failure(), hinted_failure()
    bea.id = "bea"
    rows = summary_of([bob, bea, full_marks()]).rows
    row = next(r for r in rows if BACKWARD_HINT in r)
    assert "bob" in row and "bea" in row and "alice" not in row


def stub() -> SubmissionResult:
    result = full_marks()
    result.id = "carl"
    for module in MODULES:
        not_started(result, module)
    return result


def test_root_causes_are_counted_where_they_start():
    timed_out = replace_cases(full_marks(), "xor.train", passed=False, kind="timeout", message="took 1 s")
    timed_out.id = "tim"
    page = report.render_summary_html([stub(), import_problem(), knock_on(), timed_out], SETTINGS)
    words = text_of(page)
    assert "wrong value that matches no known mistake" not in words, "xor.train: a knock-on of sigmoid_prime"
    rows = summary_of([stub(), import_problem(), knock_on(), timed_out]).rows
    starts = ("linear.py not started", "losses.py could not be used", "activations.sigmoid_prime is wrong",
              "xor.train:")
    causes = {cause: next((r for r in rows if r.strip().startswith(cause)), "") for cause in starts}
    assert "carl" in causes["linear.py not started"] and "dave" in causes["losses.py could not be used"]
    assert "kim" in causes["activations.sigmoid_prime is wrong"]
    assert "xor.train (2)" in causes["activations.sigmoid_prime is wrong"]
    assert "tim" in causes["xor.train:"] and "took too long" in causes["xor.train:"]
    counted = [r for r in rows if "xor.gradients (" in r and not r.strip().startswith("xor.py not started")]
    assert counted == [], "a case right given correct helpers is no failure"
    assert not any(r.startswith("import:") for r in rows)


def test_checks_that_failed_the_same_way_are_named_by_their_labels(grade, make_submission):
    """A hidden failure's label says what kind of input broke it; when several failed the same
    way, the report names each of them (labels, never values), not only the first."""
    from autograder.config import load

    result = grade(make_submission(linear=[("grad_z.T @ x", "x.T @ grad_z")]))
    hidden = [c for c in result.cases if c.function == "linear.linear_backward" and c.hidden and not c.passed]
    assert len(hidden) > 2
    markdown = report.render_feedback_md(result, load())
    named = [c.label for c in hidden if c.label.replace("_", "\\_") in markdown or c.label in markdown]
    assert len(named) >= min(len(hidden), report.MORE_LABELS)
    assert "more hidden checks failed the same way:" in markdown


def test_the_three_texts_written_together_are_the_texts_written_one_by_one():
    """`render_reports` (what grade writes) builds the views and the context once for all three
    texts; each is still the text its own renderer gives, what was printed cut to each one's limit."""
    result = knock_on()
    result.output = "printed\n" * 5000
    together = report.render_reports(result, SETTINGS, {})
    assert together.html == report.render_feedback_html(result, SETTINGS, {})
    assert together.markdown == report.render_feedback_md(result, SETTINGS)
    assert together.text == report.plain_summary(result, SETTINGS)
