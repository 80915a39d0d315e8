"""Feedback that teaches: per-student HTML and Markdown reports, and the instructor's class summary.

Templates live in the repository's top-level ``templates/`` folder and are
rendered by one Jinja2 environment (HTML autoescaped). Everything a template
shows is prepared here first, so the privacy rule lives in one place: a failed
hidden case shows as "hidden check failed" with its hint, never its inputs,
message values or details, unless ``settings.reveal_hidden_details``.
"""

from __future__ import annotations

import base64
import re
import statistics
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from autograder import course as courses
from autograder import i18n
from autograder.config import Settings
from autograder.i18n import N_, gettext
from autograder.results import KIND_TEXT, UNKNOWN_KIND, CaseResult, SubmissionResult
from autograder.text import printable

__all__ = ["plain_summary", "render_feedback_html", "render_feedback_md", "render_summary_html"]

TEMPLATES = next(
    (p for p in (Path(__file__).resolve().parents[1] / "templates",  # a checkout or editable install
                 Path(sys.prefix) / "share" / "nn-autograder" / "templates")  # a wheel install
     if p.is_dir()),
    Path(__file__).resolve().parents[1] / "templates",
)
#: Characters of the student's printed output kept in the HTML and Markdown reports.
OUTPUT_LIMIT, MD_OUTPUT_LIMIT = 20_000, 2_000
#: Characters of one message or traceback kept in the Markdown report.
MD_MESSAGE_LIMIT = 600
SLOWEST, TOP_MISTAKES, BINS = 5, 15, 10
#: Functions named in plain_summary's "To fix" line.
PLAIN_LIST = 5

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&#!~])")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


# ---------------------------------------------------------------- text helpers


_printable = printable


def _truncate(text: str, limit: int) -> tuple[str, int]:
    """The first `limit` characters of `text`, and how many were left out."""
    return (text, 0) if len(text) <= limit else (text[:limit], len(text) - limit)


def _num(value: Any) -> str:
    """A score for people: 0.5, 12, 1.29, 0.0033 (strings such as "nan" pass through)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return _printable(value)
    return f"{number:.2g}" if abs(number) < 0.01 and number else f"{round(number, 2):g}"


def _percent(score: float, max_score: float) -> float:
    """Percentage of `max_score`, 0 when there is nothing to score."""
    return round(100 * score / max_score, 1) if max_score > 0 else 0.0


def _shape(value: Any) -> str:
    """A shape as Python prints it, whether it survived JSON as a list or not."""
    if isinstance(value, (list, tuple)):
        return str(tuple(int(v) if isinstance(v, (int, float)) else v for v in value))
    return _printable(value)


def _md_text(value: Any) -> str:
    """One line of Markdown showing `value` literally (no emphasis, links or HTML)."""
    line = " ".join(_printable(value).split())
    return _MD_SPECIAL.sub(r"\\\1", line)


def _md_code(value: Any) -> str:
    """An inline Markdown code span holding `value` on one line."""
    text = " ".join(_printable(value).split())
    ticks = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _md_block(value: Any, limit: int = MD_MESSAGE_LIMIT) -> str:
    """A fenced Markdown code block holding `value`, cut to `limit` characters."""
    text, omitted = _truncate(_printable(value).rstrip(), limit)
    if omitted:
        text += f"\n… ({omitted} more characters)"
    fence = "`" * max(3, max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence}text\n{text}\n{fence}"


# ---------------------------------------------------------------- the environment


def _breakable(name: Any) -> Markup:
    """A dotted or snake_case name, escaped, that may wrap after "." and "_" on narrow screens."""
    text = str(escape(_printable(name)))
    return Markup(text.replace(".", ".<wbr>").replace("_", "_<wbr>"))


#: Each status's icon and CSS class: the icon and the word carry the meaning, the colour repeats it.
STATUS_LOOK = {"passed": ("✓", "pass"), "partly passed": ("◐", "partial"), "failed": ("✗", "fail"),
               "hidden check failed": ("✗", "fail")}
OTHER_LOOK = ("•", "fail")
#: Each status in words, for people (the statuses themselves stay English: they are keys).
STATUS_WORDS = {"passed": N_("passed"), "partly passed": N_("partly passed"), "failed": N_("failed"),
                "hidden check failed": N_("hidden check failed")}


def _status_word(status: str) -> str:
    """A status in words, in the language in use."""
    return gettext(STATUS_WORDS.get(status, status))


def _icon(status: str) -> str:
    return STATUS_LOOK.get(status, OTHER_LOOK)[0]


def _status_class(status: str) -> str:
    return STATUS_LOOK.get(status, OTHER_LOOK)[1]


def _badge(status: str) -> Markup:
    """A status as an icon and a word, coloured too. A filter, not a macro: a report has one
    per check, and a Jinja macro call costs ten times a filter's."""
    icon, css = STATUS_LOOK.get(status, OTHER_LOOK)
    word = escape(gettext(STATUS_WORDS.get(status, status)))
    return Markup(f'<span class="badge {css}"><span aria-hidden="true">{icon}</span> {word}</span>')


def _autoescape(name: str | None) -> bool:
    """Escape HTML templates and their partials; leave Markdown alone."""
    return name is None or not name.endswith(".md.j2")


ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=_autoescape,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
i18n.install(ENV)
ENV.filters.update(num=_num, breakable=_breakable, md=_md_text, md_code=_md_code, md_block=_md_block,
                   badge=_badge, icon=_icon, status_class=_status_class, status_word=_status_word)


# ---------------------------------------------------------------- per-student views


@dataclass(frozen=True)
class Row:
    """One line of an expected-versus-received table."""

    name: str
    expected: str
    received: str


@dataclass(frozen=True)
class CaseView:
    """A case as the student may see it: already redacted when it must be."""

    label: str
    checked: str
    passed: bool
    hidden: bool
    redacted: bool
    points: str
    kind: str = ""
    why: str = ""
    message: str = ""
    hint: str = ""
    comparison: list[Row] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    traceback: str = ""

    @property
    def explanation(self) -> str:
        """What was checked and why it failed, without repeating a label that is the description."""
        if self.checked and self.checked != self.label:
            return f"{self.checked}: {self.why}."
        return f"{self.why[:1].upper()}{self.why[1:]}."

    @property
    def outcome(self) -> str:
        """"passed", "failed", or "hidden check failed"."""
        if self.passed:
            return "passed"
        return "hidden check failed" if self.hidden else "failed"


@dataclass(frozen=True)
class FunctionView:
    """A graded function: its score, what its cases check, and its failures explained."""

    name: str
    score: float
    max_score: float
    cases: list[CaseView]
    plot: str = ""

    @property
    def anchor(self) -> str:
        return "fn-" + self.name.replace(".", "-")

    @property
    def percent(self) -> float:
        return _percent(self.score, self.max_score)

    @property
    def status(self) -> str:
        """"passed", "partly passed" or "failed", by the cases passed."""
        passed = sum(c.passed for c in self.cases)
        if passed == len(self.cases):
            return "passed"
        return "partly passed" if passed else "failed"

    @property
    def checked(self) -> list[str]:
        """What the function's cases check, each description once."""
        return list(dict.fromkeys(c.checked for c in self.cases if c.checked))

    @property
    def failures(self) -> list[tuple[CaseView, int]]:
        """Each way of failing once: (the first case that failed so, how many more did)."""
        groups: dict[tuple, list[CaseView]] = {}
        for case in self.cases:
            if not case.passed:
                key = (case.kind, case.message, case.hint, case.traceback)
                groups.setdefault(key, []).append(case)
        return [(cases[0], len(cases) - 1) for cases in groups.values()]

    @property
    def passed_count(self) -> int:
        return sum(c.passed for c in self.cases)


def _comparison(details: dict[str, Any]) -> list[Row]:
    """Expected against received shape, dtype and worst value, for the rows known."""
    rows = []
    if "expected_shape" in details or "got_shape" in details or "got_type" in details:
        received = _shape(details["got_shape"]) if "got_shape" in details else details.get("got_type", "")
        rows.append(Row(gettext("shape"), _shape(details.get("expected_shape", "")), _printable(received)))
    if not str(details.get("got_dtype", "float")).startswith("float"):
        rows.append(Row(gettext("dtype"), gettext("floating point"), _printable(details["got_dtype"])))
    if details.get("worst_index") is not None and "expected_at_worst" in details:
        where = gettext("value at index {index}").format(index=list(details["worst_index"]))
        rows.append(Row(where, _value(details.get("expected_at_worst")), _value(details.get("got_at_worst"))))
    return rows


def _value(value: Any) -> str:
    """An array element for people: 6 significant digits."""
    try:
        return f"{float(value):.6g}"
    except (TypeError, ValueError):
        return _printable(value)


def _errors(details: dict[str, Any]) -> list[tuple[str, str]]:
    """The largest absolute error and where it is, and the largest relative error."""
    rows = []
    if details.get("max_abs_error") is not None:
        where = details.get("worst_index")
        at = gettext(" at index {index}").format(index=list(where)) if where is not None else ""
        rows.append((gettext("largest absolute error"), _value(details["max_abs_error"]) + at))
    if details.get("max_rel_error") is not None:
        rows.append((gettext("largest relative error"), _value(details["max_rel_error"])))
    return rows


def _case_view(case: CaseResult, settings: Settings) -> CaseView:
    """What the student may see of one case (the rule is `CaseResult.shown`)."""
    shown = case.shown(settings.reveal_hidden_details)
    points = f"{_num(case.score)} / {_num(case.max_score)}"
    return CaseView(_printable(shown.label), _printable(shown.checked), shown.passed, case.hidden,
                    shown.concealed, points, case.kind if not shown.passed else "", shown.why,
                    _printable(shown.message), _printable(shown.hint), _comparison(shown.details),
                    _errors(shown.details), _printable(shown.traceback))


def _data_uri(plot: Any) -> str:
    """A plot as a data: URI for <img src>, or "" if it is neither SVG nor PNG."""
    if not isinstance(plot, str):
        return ""
    text = plot.strip()
    if text.startswith("data:image/png;base64,") or text.startswith("data:image/svg+xml;base64,"):
        payload = "".join(text.split(",", 1)[1].split())
        return text.split(",", 1)[0] + "," + payload if _BASE64.fullmatch(payload) else ""
    if text.startswith(("<svg", "<?xml")) and "<svg" in text:
        return "data:image/svg+xml;base64," + base64.b64encode(text.encode()).decode()
    if text.startswith("iVBORw0KGgo") and _BASE64.fullmatch("".join(text.split())):
        return "data:image/png;base64," + "".join(text.split())
    return ""


def _function_views(result: SubmissionResult, settings: Settings,
                    plots: dict[str, Any]) -> list[FunctionView]:
    """Every graded function, in SPEC order, with its plot when it may be shown."""
    views = []
    for name, cases in result.by_function().items():
        shown = [_case_view(c, settings) for c in cases]
        revealed_failure = any(not c.passed and not c.redacted for c in shown)
        plot = _data_uri(plots.get(name)) if revealed_failure else ""
        views.append(FunctionView(name, sum(c.score for c in cases), sum(c.max_score for c in cases),
                                  shown, plot))
    return views


def _modules(functions: list[FunctionView]) -> list[tuple[str, list[FunctionView]]]:
    """Functions grouped by module, in order."""
    groups: dict[str, list[FunctionView]] = {}
    for view in functions:
        groups.setdefault(view.name.partition('.')[0], []).append(view)
    return list(groups.items())


def _figures(plots: dict[str, Any]) -> list[dict[str, Any]]:
    """The course's figures that were given and can be embedded, by section: each figure module's
    title, and its figures with their alternative text and caption."""
    from autograder.figures import figure_modules

    sections = []
    for module in figure_modules(courses.load()):
        shown = [{"src": src, "alt": alt, "caption": caption}
                 for key, (alt, caption) in getattr(module, "TEXTS", {}).items()
                 if (src := _data_uri(plots.get(key)))]
        if shown:
            sections.append({"title": getattr(module, "TITLE", "Figures"), "figures": shown})
    return sections


def _feedback_context(result: SubmissionResult, settings: Settings,
                      plots: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the feedback templates show, redacted and escaped-ready."""
    functions = _function_views(result, settings, plots or {})
    output, omitted = _truncate(_printable(result.output), OUTPUT_LIMIT)
    return {
        "result": result,
        "title": gettext("Feedback for submission {id}").format(id=_printable(result.id)),
        "error": _printable(result.error),
        "score": result.score,
        "max_score": result.max_score,
        "percent": _percent(result.score, result.max_score),
        "functions": functions,
        "modules": _modules(functions),
        "passed_functions": sum(f.status == "passed" for f in functions),
        "problems": [(f"{m}.py", _printable(why)) for m, why in result.problems.items()],
        "notes": [_printable(n) for n in result.notes],
        "meta": [(_printable(k), _printable(v)) for k, v in result.meta.items() if str(v)],
        "output": output,
        "output_omitted": omitted,
        "output_lines": output.count("\n") + bool(output and not output.endswith("\n")),
        "figures": _figures(plots or {}),
        "course_title": gettext(courses.load().title) or gettext("exercises"),
        "hidden_revealed": settings.reveal_hidden_details,
        "has_hidden_failures": any(c.hidden and not c.passed for c in result.cases),
    }


def warm() -> None:
    """Compile every template now: in the grader before it forks its workers, this is done
    once instead of once per worker (about 65 ms each)."""
    for name in ENV.list_templates(extensions=["j2"]):
        ENV.get_template(name)


def render_feedback_html(result: SubmissionResult, settings: Settings,
                         plots: dict[str, str] | None = None) -> str:
    """The student's self-contained feedback.html (inline CSS, plots as data: URIs).

    `plots` maps "loss_curve", "decision_boundary" or a "module.function" to an SVG
    string or PNG (base64 or data: URI); a function's plot is shown only next to a
    failure the student may see in full.
    """
    return ENV.get_template("feedback.html.j2").render(_feedback_context(result, settings, plots))


def render_feedback_md(result: SubmissionResult, settings: Settings) -> str:
    """The student's feedback as Markdown, for Gradescope's `md` output and LMS comments."""
    context = _feedback_context(result, settings)
    context["output"], context["output_omitted"] = _truncate(_printable(result.output), MD_OUTPUT_LIMIT)
    return ENV.get_template("feedback.md.j2").render(context)


def plain_summary(result: SubmissionResult) -> str:
    """A few lines of plain text: score, functions passed, what to fix, unusable files."""
    percent = _percent(result.score, result.max_score)
    lines = [gettext("Submission {id}: {score}/{max_score} points ({percent}%)").format(
        id=result.id, score=_num(result.score), max_score=_num(result.max_score), percent=f"{percent:g}")]
    if result.status == "error":
        return "\n".join([*lines, gettext("Grading failed: {error}").format(error=result.error)])
    scores = result.function_scores()
    lost = [f"{name} ({_num(s)}/{_num(m)})" for name, (s, m) in scores.items() if s < m]
    lines.append(gettext("Functions fully passed: {passed} of {total}").format(
        passed=len(scores) - len(lost), total=len(scores)))
    more = ""
    if len(lost) > PLAIN_LIST:
        more = gettext(", and {count} more").format(count=len(lost) - PLAIN_LIST)
    lines.append(gettext("To fix: {functions}").format(functions=", ".join(lost[:PLAIN_LIST]) + more) if lost
                 else gettext("Every function passes."))
    lines += [gettext("Unusable file {file}: {why}").format(file=f"{module}.py", why=why)
              for module, why in result.problems.items()]
    return "\n".join(lines)


# ---------------------------------------------------------------- the class summary


@dataclass
class Mistake:
    """Failed cases that share a hint (or, without one, a kind of failure)."""

    text: str
    hinted: bool
    cases: int = 0
    submissions: set[str] = field(default_factory=set)
    functions: Counter = field(default_factory=Counter)

    @property
    def function_list(self) -> str:
        return ", ".join(f"{f} ({n})" for f, n in self.functions.most_common())


@dataclass(frozen=True)
class FunctionStats:
    """How the class did on one function."""

    name: str
    submissions: int
    full_marks: int
    mean_score: float
    max_score: float
    failed_cases: int

    @property
    def pass_rate(self) -> float:
        return _percent(self.full_marks, self.submissions)


def _mistake_key(case: CaseResult) -> tuple[str, bool]:
    """What groups a failure: its hint, else its kind in words."""
    hint = (case.details or {}).get("hint")
    if hint:
        return _printable(hint), True
    if case.kind == "value":
        return gettext("wrong value that matches no known mistake"), False
    return f"{case.kind or 'failure'}: {gettext(KIND_TEXT.get(case.kind, UNKNOWN_KIND))}", False


def _mistakes(graded: list[SubmissionResult]) -> list[Mistake]:
    """The most common mistakes, by the number of submissions that made them."""
    groups: dict[tuple[str, bool], Mistake] = {}
    for result in graded:
        for case in result.cases:
            if case.passed:
                continue
            key = _mistake_key(case)
            mistake = groups.setdefault(key, Mistake(*key))
            mistake.cases += 1
            mistake.submissions.add(result.id)
            mistake.functions[case.function] += 1
    ranked = sorted(groups.values(), key=lambda m: (-len(m.submissions), -m.cases, m.text))
    return ranked[:TOP_MISTAKES]


def _function_stats(graded: list[SubmissionResult]) -> list[FunctionStats]:
    """Per function: how many submissions got full marks, the mean score, failed cases."""
    per: dict[str, list[tuple[float, float, int]]] = {}
    for result in graded:
        for name, cases in result.by_function().items():
            score, top = sum(c.score for c in cases), sum(c.max_score for c in cases)
            per.setdefault(name, []).append((score, top, sum(not c.passed for c in cases)))
    return [FunctionStats(name, len(rows), sum(s >= m - 1e-9 for s, m, _ in rows),
                          statistics.fmean(s for s, _, _ in rows), max(m for _, m, _ in rows),
                          sum(f for _, _, f in rows))
            for name, rows in per.items()]


def _histogram(percents: list[float]) -> list[dict[str, Any]]:
    """Submissions per tenth of the score range; the last bin includes 100%."""
    counts = [0] * BINS
    for p in percents:
        counts[min(int(p // (100 / BINS)), BINS - 1)] += 1
    top = max(counts, default=0) or 1
    width = 100 // BINS
    return [{"range": f"{i * width}–{(i + 1) * width}%", "count": n, "width": round(100 * n / top, 1)}
            for i, n in enumerate(counts)]


def _statistics(percents: list[float]) -> dict[str, Any]:
    """Mean, median, lowest and highest percentage, and the number of full marks."""
    if not percents:
        return {}
    return {"mean": round(statistics.fmean(percents), 1), "median": round(statistics.median(percents), 1),
            "min": min(percents), "max": max(percents), "full": sum(p >= 100 for p in percents)}


def _problems(results: list[SubmissionResult]) -> list[tuple[str, str, str]]:
    """(submission, file, why) for every file that could not be used."""
    return sorted((r.id, f"{module}.py", _printable(why))
                  for r in results for module, why in r.problems.items())


def _summary_context(results: list[SubmissionResult]) -> dict[str, Any]:
    """Everything the class summary shows."""
    graded = [r for r in results if r.status != "error"]
    percents = [_percent(r.score, r.max_score) for r in graded]
    return {
        "total": len(results),
        "graded": len(graded),
        "errored": sorted((r for r in results if r.status == "error"), key=lambda r: r.id),
        "stats": _statistics(percents),
        "histogram": _histogram(percents),
        "functions": _function_stats(graded),
        "mistakes": _mistakes(graded),
        "problems": _problems(results),
        "slowest": sorted(results, key=lambda r: (-r.execution_time, r.id))[:SLOWEST],
        "rows": sorted(results, key=lambda r: r.id),
        "percent": _percent,
    }


def render_summary_html(results: list[SubmissionResult], settings: Settings) -> str:
    """The instructor's class summary: distribution, pass rates, common mistakes, errors, slowest."""
    context = _summary_context(results)
    context["hidden_revealed"] = settings.reveal_hidden_details
    return ENV.get_template("summary.html.j2").render(context)
