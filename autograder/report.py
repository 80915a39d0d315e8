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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from autograder import course as courses
from autograder import i18n
from autograder.config import Settings
from autograder.i18n import N_, gettext, ngettext
from autograder.results import CaseResult, SubmissionResult, kind_word, why_failed
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
STATUS_LOOK = {"passed": ("✓", "pass"), "passed given correct helpers": ("✓", "pass"),
               "partly passed": ("◐", "partial"), "failed": ("✗", "fail"),
               "hidden check failed": ("✗", "fail"), "not started": ("○", "fail"),
               "could not be used": ("✗", "fail")}
OTHER_LOOK = ("•", "fail")
#: Each status in words, for people (the statuses themselves stay English: they are keys).
STATUS_WORDS = {"passed": N_("passed"), "partly passed": N_("partly passed"), "failed": N_("failed"),
                "hidden check failed": N_("hidden check failed"),
                "passed given correct helpers": N_("passed given correct helpers"),
                "not started": N_("not started"), "could not be used": N_("could not be used"),
                "graded": N_("graded"), "error": N_("error")}


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
    return Markup(f'<span class="badge {css}"><span aria-hidden="true">{icon}</span> '
                  f'{escape(_status_word(status))}</span>')


def _autoescape(name: str | None) -> bool:
    """Escape HTML templates and their partials; leave Markdown alone."""
    return name is None or not name.endswith(".md.j2")


ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    auto_reload=False,  # the templates do not change during a run: no stat of each file per report
    autoescape=_autoescape,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
i18n.install(ENV)
ENV.filters.update(num=_num, breakable=_breakable, md=_md_text, md_code=_md_code, md_block=_md_block,
                   badge=_badge, icon=_icon, status_class=_status_class, status_word=_status_word,
                   kind_word=kind_word)


# ---------------------------------------------------------------- per-student views

#: The names of a submission's details (its meta keys: intake's, Gradescope's), for extraction; each is
#: shown in the language in use.
META_KEYS = (N_("lms"), N_("name"), N_("user_id"), N_("anonymous_id"), N_("attachment_id"), N_("late"),
             N_("participant_id"))
#: The status of a module that failed as a whole: none of its functions is started, or its file
#: could not be used. Such a module is one line of a report, not a section per function.
NOT_STARTED, UNUSABLE = "not started", "could not be used"
NOT_STARTED_TEXT = N_("not started yet (every function still raises NotImplementedError)")
#: Failure kinds that stop a function's run: listed in the Start-here box wherever they are, up to
#: STOPPED_SHOWN functions (a submission out of time fails every later function so).
STOPPED, STOPPED_SHOWN = ("timeout", "crash"), 3


#: At most this many labels of the other checks that failed the same way are listed.
MORE_LABELS = 6


def _names(names: Iterable[str]) -> str:
    """Names as a list in words: "a", "a and b", "a, b and c" (in the language in use)."""
    names = list(names)
    if len(names) == 1:
        return names[0]
    # Translators: the list separator, as in "a, b and c"
    return gettext("{names} and {last}").format(names=gettext(", ").join(names[:-1]), last=names[-1])


def _wrong(functions: Iterable[str]) -> str:
    """"f is wrong", "f and g are wrong"."""
    functions = list(functions)
    return ngettext("{functions} is wrong", "{functions} are wrong", len(functions)).format(
        functions=_names(functions))


def _wrong_anyway(upstream: Iterable[str]) -> str:
    """What a failure that ran through the student's failing functions is."""
    return gettext("wrong even given correct helpers (and {wrong} too)").format(wrong=_wrong(upstream))


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


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
    upstream: tuple[str, ...] = ()  # of a failure: the student's failing functions it also ran through

    @property
    def headline(self) -> str:
        """The kind of failure, in words: what a failure is headed with."""
        return _capital(self.why)

    @property
    def case_name(self) -> str:
        """"check: <label>" or "hidden check: <label>"."""
        text = gettext("hidden check: {label}") if self.hidden else gettext("check: {label}")
        return text.format(label=self.label)

    @property
    def where(self) -> str:
        """Which check failed and what it checks, without repeating a label that is the description."""
        if self.checked and self.checked != self.label:
            text = (gettext("Hidden check: {label} ({checked}).") if self.hidden
                    else gettext("Check: {label} ({checked})."))
        else:
            text = gettext("Hidden check: {label}.") if self.hidden else gettext("Check: {label}.")
        return text.format(label=self.label, checked=self.checked)

    @property
    def given_helpers(self) -> str:
        """For a failure that ran through the student's failing functions: that it is wrong anyway."""
        if not self.upstream:
            return ""
        return gettext("This check is {wrong}.").format(wrong=_wrong_anyway(self.upstream))

    def more_text(self, others: tuple[CaseView, ...]) -> str:
        """That `others` failed the same way as this one, and which they are: a hidden check's
        label names the kind of input that broke it, never its values."""
        more = len(others)
        if self.redacted:
            text = ngettext("{count} more hidden check failed the same way: {labels}.",
                            "{count} more hidden checks failed the same way: {labels}.", more)
        else:
            text = ngettext("{count} more check failed the same way: {labels}.",
                            "{count} more checks failed the same way: {labels}.", more)
        labels = [c.label for c in others[:MORE_LABELS]]
        if more > MORE_LABELS:
            labels.append(ngettext("{count} other", "{count} others", more - MORE_LABELS).format(
                count=more - MORE_LABELS))
        # Translators: between the labels of checks, which may hold commas themselves
        return text.format(count=more, labels=gettext("; ").join(labels))

    @property
    def outcome(self) -> str:
        """"passed", "failed", or "hidden check failed"."""
        if self.passed:
            return "passed"
        return "hidden check failed" if self.hidden else "failed"


@dataclass(frozen=True)
class KnockOn:
    """A function that is right given correct helpers but fails with the student's own: its
    points are kept, and the report says once where the mistake enters."""

    function: str
    upstream: tuple[str, ...]
    why: str           # how it fails with the student's helpers, in words
    message: str = ""  # and that failure's message: "" when it came from a concealed case

    @property
    def sentence(self) -> str:
        text = gettext("{function} is right given correct helpers; with yours it fails because {cause}")
        return text.format(function=self.function, cause=_wrong(self.upstream))


@dataclass(frozen=True)
class FunctionView:
    """A graded function: its score, what its cases check, and its failures explained."""

    name: str
    score: float
    max_score: float
    cases: list[CaseView]
    plot: str = ""
    knock_on: KnockOn | None = None

    @property
    def anchor(self) -> str:
        return "fn-" + self.name.replace(".", "-")

    @cached_property
    def percent(self) -> float:
        return _percent(self.score, self.max_score)

    @cached_property  # asked for many times by the templates
    def passed(self) -> bool:
        return all(c.passed for c in self.cases)

    @cached_property
    def status(self) -> str:
        """"passed" (or "passed given correct helpers"), "partly passed" or "failed", by the cases passed."""
        if self.passed:
            return "passed given correct helpers" if self.knock_on else "passed"
        return "partly passed" if self.passed_count else "failed"

    @cached_property
    def checked(self) -> list[str]:
        """What the function's cases check, each description once."""
        return list(dict.fromkeys(c.checked for c in self.cases if c.checked))

    @cached_property
    def failures(self) -> list[tuple[CaseView, tuple[CaseView, ...]]]:
        """Each way of failing once: (the first case that failed so, the others that did)."""
        groups: dict[tuple, list[CaseView]] = {}
        for case in self.cases:
            if not case.passed:
                key = (case.kind, case.message, case.hint, case.traceback, case.upstream)
                groups.setdefault(key, []).append(case)
        return [(cases[0], tuple(cases[1:])) for cases in groups.values()]

    @cached_property
    def passed_count(self) -> int:
        return sum(c.passed for c in self.cases)


@dataclass(frozen=True)
class ModuleView:
    """An exercise module's functions, and whether it failed as a whole (then it is one line)."""

    name: str
    functions: list[FunctionView]
    state: str = ""  # NOT_STARTED or UNUSABLE, or "" when its functions are reported one by one
    why: str = ""    # why its file could not be used, in the grader's words

    @property
    def file(self) -> str:
        return f"{self.name}.py"

    @property
    def anchor(self) -> str:
        return f"module-{self.name}"

    @cached_property
    def score(self) -> float:
        return sum(f.score for f in self.functions)

    @cached_property
    def max_score(self) -> float:
        return sum(f.max_score for f in self.functions)

    @cached_property
    def percent(self) -> float:
        return _percent(self.score, self.max_score)

    @cached_property
    def cases(self) -> int:
        return sum(len(f.cases) for f in self.functions)

    @property
    def text(self) -> str:
        """The one line that says why the whole module failed."""
        if self.state == NOT_STARTED:
            return gettext(NOT_STARTED_TEXT)
        if self.state == UNUSABLE:
            return gettext("could not be used, so every function in it scores 0: {why}").format(why=self.why)
        return gettext("a problem with this file: {why}").format(why=self.why)


@dataclass(frozen=True)
class Cause:
    """One entry of the Start-here box: where failures start."""

    subject: str                 # a file ("<module>.py") or a function ("<module>.<function>")
    anchor: str                  # what it links to in feedback.html
    text: str                    # what is wrong, in words
    message: str = ""            # the failure's message, when the student may see it
    hint: str = ""
    breaks: tuple[str, ...] = ()  # functions right given correct helpers that fail with this one

    @property
    def breaks_text(self) -> str:
        if not self.breaks:
            return ""
        return ngettext("With it, your {functions} fails too, though it is right given correct helpers.",
                        "With it, your {functions} fail too, though they are right given correct helpers.",
                        len(self.breaks)).format(functions=_names(self.breaks))

    def plain(self, number: int) -> list[str]:
        """The entry as numbered plain-text lines."""
        lines = [f"  {number}. " + gettext("{subject}: {text}").format(subject=self.subject, text=self.text)]
        lines += [f"     {line}" for line in (self.message.splitlines()[:1] if self.message else [])]
        lines += ["     " + gettext("Likely mistake: {hint}").format(hint=self.hint)] if self.hint else []
        lines += [f"     {self.breaks_text}"] if self.breaks else []
        return lines


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
                    _errors(shown.details), _printable(shown.traceback),
                    () if shown.passed else tuple(map(_printable, case.upstream)))


def _knock_on(function: str, cases: list[CaseResult], settings: Settings) -> KnockOn | None:
    """How `function` fails with the student's own helpers, if some case passed only given correct
    ones. The message comes from a case the student may see in full, never a concealed one."""
    credited = [c for c in cases if c.passed and c.upstream]
    if not credited:
        return None
    upstream = tuple(dict.fromkeys(_printable(u) for c in credited for u in c.upstream))
    open_cases = [c for c in credited if not c.shown(settings.reveal_hidden_details).concealed]
    case = (open_cases or credited)[0]
    with_yours = (case.details or {}).get("with_yours")
    with_yours = with_yours if isinstance(with_yours, dict) else {}
    why = why_failed(str(with_yours.get("kind", "")))
    message = _printable(with_yours.get("message") or "") if open_cases else ""
    return KnockOn(_printable(function), upstream, why, message)


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
                                  shown, plot, _knock_on(name, cases, settings)))
    return views


def _module_states(result: SubmissionResult) -> dict[str, str]:
    """The modules that failed as a whole, by name: UNUSABLE (its file has a problem and no case
    of it passed) or NOT_STARTED (every case of every function still raises NotImplementedError)."""
    cases: dict[str, list[CaseResult]] = {}
    for case in result.cases:
        cases.setdefault(courses.module_of(case.function), []).append(case)
    states = {}
    for module, own in cases.items():
        if any(c.passed for c in own):
            continue
        if module in result.problems:
            states[module] = UNUSABLE
        elif all(c.kind == "not_implemented" for c in own):
            states[module] = NOT_STARTED
    return states


def _modules(functions: list[FunctionView], result: SubmissionResult) -> list[ModuleView]:
    """Functions grouped by module, in order, each module with its state."""
    groups: dict[str, list[FunctionView]] = {}
    for view in functions:
        groups.setdefault(courses.module_of(view.name), []).append(view)
    states = _module_states(result)
    return [ModuleView(name, views, states.get(name, ""), _printable(result.problems.get(name, "")))
            for name, views in groups.items()]


def _dependents(modules: list[ModuleView]) -> dict[str, list[str]]:
    """For each failing function: the functions right given correct helpers that fail with it."""
    found: dict[str, list[str]] = {}
    for module in modules:
        for view in module.functions:
            for upstream in view.knock_on.upstream if view.knock_on else ():
                found.setdefault(upstream, []).append(view.name)
    return found


def _causes(modules: list[ModuleView]) -> tuple[list[Cause], int]:
    """The Start-here entries, in course order: files that failed as a whole (or have a problem),
    timeouts and crashes, and the first function to fix with its hint; and how many more functions
    lose points. A function right given correct helpers is no cause: the failing helper is."""
    dependents = _dependents(modules)
    causes: list[Cause] = []
    first, stops, more = False, 0, 0
    for module in modules:
        if module.state or module.why:
            breaks = dict.fromkeys(d for f in module.functions for d in dependents.get(f.name, ()))
            causes.append(Cause(module.file, module.anchor, module.text, breaks=tuple(breaks)))
        for view in [] if module.state else module.functions:
            stopped = next((c for c, _ in view.failures if c.kind in STOPPED), None)
            stopped = stopped if stops < STOPPED_SHOWN else None
            if stopped or (not view.passed and not first):
                causes.append(_function_cause(view, stopped, dependents.get(view.name, [])))
                first, stops = first or not stopped, stops + bool(stopped)
            elif not view.passed:
                more += 1
    return causes, more


def _function_cause(view: FunctionView, stopped: CaseView | None, breaks: list[str]) -> Cause:
    """A failing function as a Start-here entry: the call that stopped it, else its first failure
    with a hint (else its first failure)."""
    case = stopped or next((c for c, _ in view.failures if c.hint), view.failures[0][0])
    if case.upstream:
        text = gettext("{why} ({check}); it is {wrong}").format(
            why=case.why, check=case.case_name, wrong=_wrong_anyway(case.upstream))
    else:
        text = gettext("{why} ({check})").format(why=case.why, check=case.case_name)
    return Cause(view.name, view.anchor, text, case.message, case.hint, tuple(breaks))


def _figures(plots: dict[str, Any]) -> list[dict[str, Any]]:
    """The course's figures that were given and can be embedded, by section: each figure module's
    title, and its figures with their alternative text and caption."""
    from autograder.figures import figure_modules

    sections = []
    for module in figure_modules(courses.load()):
        shown = [{"src": src, "alt": gettext(alt), "caption": gettext(caption)}
                 for key, (alt, caption) in getattr(module, "TEXTS", {}).items()
                 if (src := _data_uri(plots.get(key)))]
        if shown:
            sections.append({"title": gettext(getattr(module, "TITLE", N_("Figures"))), "figures": shown})
    return sections


def _student_views(result: SubmissionResult, settings: Settings,
                   plots: dict[str, Any] | None = None) -> tuple[list[FunctionView], list[ModuleView]]:
    """The functions and the modules of a result as the student may see them."""
    functions = _function_views(result, settings, plots or {})
    modules = _modules(functions, result)
    known = {m.name for m in modules}
    modules[:0] = [ModuleView(name, [], UNUSABLE, _printable(why))
                   for name, why in result.problems.items() if name not in known]
    return functions, modules


Views = tuple[list[FunctionView], list[ModuleView]]


def _feedback_context(result: SubmissionResult, settings: Settings,
                      plots: dict[str, Any] | None = None, views: Views | None = None) -> dict[str, Any]:
    """Everything the feedback templates show, redacted and escaped-ready."""
    functions, modules = views or _student_views(result, settings, plots)
    causes, more = _causes(modules) if result.status != "error" else ([], 0)
    output, omitted = _truncate(_printable(result.output), OUTPUT_LIMIT)
    return {
        "result": result,
        "title": gettext("Feedback for submission {id}").format(id=_printable(result.id)),
        "error": _printable(result.error),
        "score": result.score,
        "max_score": result.max_score,
        "percent": _percent(result.score, result.max_score),
        "functions": functions,
        "modules": modules,
        "causes": causes,
        "more_to_fix": more,
        "passed_functions": sum(f.passed for f in functions),
        "to_fix": [f for m in modules if not m.state for f in m.functions if not f.passed],
        "knock_ons": [f.knock_on for f in functions if f.knock_on],
        "notes": [_printable(n) for n in result.notes],
        "meta": [(gettext(_printable(k)), _printable(v)) for k, v in result.meta.items() if str(v)],
        "output": output,
        "output_omitted": omitted,
        "output_lines": output.count("\n") + bool(output and not output.endswith("\n")),
        "figures": _figures(plots or {}),
        "course_title": gettext(courses.load().title) or gettext("exercises"),
        "hidden_revealed": settings.reveal_hidden_details,
        "has_hidden_failures": any(c.hidden and not c.passed for c in result.cases),
    }


#: The rendered table of a function's checks, by what it shows and the language: most functions
#: of most submissions show the same rows (every check passed), made once per run.
_CASE_TABLES: dict[tuple, Markup] = {}


def _cases_table(fn: FunctionView) -> Markup:
    """The `cases` macro's table of `fn`'s checks, rendered once for the same rows."""
    key = (id(i18n.catalogs()), tuple((c.label, c.redacted, c.outcome, c.kind, c.passed, c.points)
                                      for c in fn.cases))
    table = _CASE_TABLES.get(key)
    if table is None:
        if len(_CASE_TABLES) > 2048:
            _CASE_TABLES.clear()
        table = _CASE_TABLES[key] = ENV.get_template("_macros.html.j2").module.cases(fn)
    return table


ENV.globals["cases_table"] = _cases_table


def warm() -> None:
    """Compile every template now: in the grader before it forks its workers, this is done
    once instead of once per worker (about 65 ms each)."""
    for name in ENV.list_templates(extensions=["j2"]):
        ENV.get_template(name)


@i18n.pinned()
def render_feedback_html(result: SubmissionResult, settings: Settings,
                         plots: dict[str, str] | None = None) -> str:
    """The student's self-contained feedback.html (inline CSS, plots as data: URIs).

    `plots` maps "loss_curve", "decision_boundary" or a "module.function" to an SVG
    string or PNG (base64 or data: URI); a function's plot is shown only next to a
    failure the student may see in full.
    """
    return ENV.get_template("feedback.html.j2").render(_feedback_context(result, settings, plots))


@i18n.pinned()
def render_feedback_md(result: SubmissionResult, settings: Settings, views: Views | None = None) -> str:
    """The student's feedback as Markdown, for Gradescope's `md` output and LMS comments."""
    return _markdown(result, _feedback_context(result, settings, views=views))


def _markdown(result: SubmissionResult, context: dict[str, Any]) -> str:
    """feedback.md from the feedback context, with what was printed cut to Markdown's own limit."""
    output, omitted = _truncate(_printable(result.output), MD_OUTPUT_LIMIT)
    return ENV.get_template("feedback.md.j2").render({**context, "output": output, "output_omitted": omitted})


@dataclass(frozen=True)
class Reports:
    """A submission's three feedback texts: feedback.html, feedback.md and summary.txt."""

    html: str
    markdown: str
    text: str


@i18n.pinned()
def render_reports(result: SubmissionResult, settings: Settings,
                   plots: dict[str, str] | None = None) -> Reports:
    """All three feedback texts of `result`, its cases seen as the student may see them once
    (not once per text: a third of the cost of writing a submission's files)."""
    views = _student_views(result, settings, plots or {})
    context = _feedback_context(result, settings, plots, views)
    html = ENV.get_template("feedback.html.j2").render(context)
    return Reports(html, _markdown(result, context), plain_summary(result, settings, views))


@i18n.pinned()
def plain_summary(result: SubmissionResult, settings: Settings, views: Views | None = None) -> str:
    """A few lines of plain text (summary.txt): the score, where to start, functions passed and
    the others to fix."""
    percent = _percent(result.score, result.max_score)
    lines = [gettext("Submission {id}: {score}/{max_score} points ({percent}%)").format(
        id=result.id, score=_num(result.score), max_score=_num(result.max_score), percent=f"{percent:g}")]
    if result.status == "error":
        return "\n".join([*lines, gettext("Grading failed: {error}").format(error=result.error)])
    functions, modules = views or _student_views(result, settings)
    causes, _ = _causes(modules)
    if causes:
        lines.append(gettext("Start here:"))
        lines += [line for number, cause in enumerate(causes, 1) for line in cause.plain(number)]
    whole = {f.name for m in modules if m.state for f in m.functions}
    listed = {c.subject for c in causes}
    lost = [f"{f.name} ({_num(f.score)}/{_num(f.max_score)})" for f in functions
            if not f.passed and f.name not in whole | listed]
    lines.append(gettext("Functions fully passed: {passed} of {total}").format(
        passed=sum(f.passed for f in functions), total=len(functions)))
    more = ""
    if len(lost) > PLAIN_LIST:
        more = gettext(", and {count} more").format(count=len(lost) - PLAIN_LIST)
    if lost:
        text = gettext("Then fix: {functions}") if causes else gettext("To fix: {functions}")
        lines.append(text.format(functions=", ".join(lost[:PLAIN_LIST]) + more))
    elif not causes:
        lines.append(gettext("Every function passes."))
    return "\n".join(lines)


# ---------------------------------------------------------------- the class summary


@dataclass
class Mistake:
    """Failed cases that share a cause: a hint (or, without one, a kind of failure), or a root
    cause where many failures start."""

    text: str
    hinted: bool
    cases: int = 0
    submissions: set[str] = field(default_factory=set)
    functions: Counter = field(default_factory=Counter)

    @property
    def function_list(self) -> str:
        return ", ".join(f"{f} ({n})" for f, n in self.functions.most_common())

    @property
    def students(self) -> list[str]:
        return sorted(self.submissions)


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
    kind = kind_word(case.kind) if case.kind else gettext("failure")
    return gettext("{kind}: {why}").format(kind=kind, why=why_failed(case.kind)), False


def _upstream(result: SubmissionResult) -> dict[str, list[str]]:
    """Per function: the student's failing functions its cases ran through, in course order."""
    found: dict[str, dict[str, None]] = {}
    for case in result.cases:
        if case.upstream:
            found.setdefault(case.function, {}).update(dict.fromkeys(case.upstream))
    return {f: list(u) for f, u in found.items()}


def _root_cause(case: CaseResult, states: dict[str, str], upstream: dict[str, list[str]]) -> str | None:
    """Where a failed case's failure starts when that is not a mistake of its own: its module failed
    as a whole, its function stopped (timed out, crashed), or, with no known mistake of its own, it
    ran through a failing function of the student's."""
    module = courses.module_of(case.function)
    if module in states:
        return gettext(ROOT_TEXT[states[module]]).format(file=f"{module}.py")
    if case.kind in STOPPED:
        return gettext("{function}: {why}").format(function=case.function, why=why_failed(case.kind))
    if upstream.get(case.function) and not (case.details or {}).get("hint"):
        return gettext("{function} is wrong, and functions that call it fail with it").format(
            function=upstream[case.function][0])
    return None


#: A module that failed as a whole, as a root cause in the class summary.
ROOT_TEXT = {UNUSABLE: N_("{file} could not be used (see the files below)"),
             NOT_STARTED: N_("{file} not started (its functions still raise NotImplementedError)")}


def _failures(graded: list[SubmissionResult]) -> tuple[list[Mistake], list[Mistake]]:
    """The root causes (where failures start), and the most common mistakes of the failures they do
    not explain; each by the number of submissions that have it. A case right given correct helpers
    passed: it is no failure."""
    groups: dict[tuple[str, bool, bool], Mistake] = {}
    for result in graded:
        states, upstream = _module_states(result), _upstream(result)
        for case in result.cases:
            if case.passed:
                continue
            root = _root_cause(case, states, upstream)
            text, hinted = (root, False) if root else _mistake_key(case)
            mistake = groups.setdefault((text, hinted, bool(root)), Mistake(text, hinted))
            mistake.cases += 1
            mistake.submissions.add(result.id)
            if courses.module_of(case.function) not in states:  # a whole file's row names no function
                mistake.functions[case.function] += 1
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1].submissions), -kv[1].cases, kv[1].text))
    roots = [m for (_, _, root), m in ranked if root]
    return roots, [m for (_, _, root), m in ranked if not root][:TOP_MISTAKES]


def _lost(result: SubmissionResult) -> str:
    """One line for the list of all submissions: what lost points, a module that failed as a
    whole named once."""
    if result.status == "error":
        return gettext("grading failed: {error}").format(error=_printable(result.error))
    states = _module_states(result)
    lost = [f"{m}.py ({_status_word(states[m])})" for m in states]
    lost += [f for f, (s, top) in result.function_scores().items()
             if s < top and courses.module_of(f) not in states]
    if not lost:
        return gettext("every function passes")
    return gettext("to fix: {functions}").format(functions=gettext(", ").join(lost))


def _linker(results: list[SubmissionResult]) -> Callable[[str], Markup]:
    """A submission's id as a link to its report, OUT/<id>/feedback.html, relative to
    OUT/summary.html; only the id when its report could not be written."""
    unwritten = {r.id for r in results if r.unwritten}

    def link(submission: str) -> Markup:
        if submission in unwritten:
            return escape(submission)
        return Markup('<a href="{}/feedback.html">{}</a>').format(quote(submission, safe=""), submission)

    return link


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


#: Students named in the summary beside each mistake and root cause; the rest are folded away.
STUDENTS_SHOWN = 12


def _summary_context(results: list[SubmissionResult]) -> dict[str, Any]:
    """Everything the class summary shows."""
    graded = [r for r in results if r.status != "error"]
    percents = [_percent(r.score, r.max_score) for r in graded]
    roots, mistakes = _failures(graded)
    return {
        "students_shown": STUDENTS_SHOWN,
        "total": len(results),
        "graded": len(graded),
        "errored": sorted((r for r in results if r.status == "error"), key=lambda r: r.id),
        "stats": _statistics(percents),
        "histogram": _histogram(percents),
        "functions": _function_stats(graded),
        "causes": roots,
        "mistakes": mistakes,
        "problems": _problems(results),
        "slowest": sorted(results, key=lambda r: (-r.execution_time, r.id))[:SLOWEST],
        "rows": sorted(results, key=lambda r: r.id),
        "percent": _percent,
        "lost": _lost,
        "link": _linker(results),
    }


@i18n.pinned()
def render_summary_html(results: list[SubmissionResult], settings: Settings) -> str:
    """The instructor's class summary: distribution, pass rates, common mistakes, errors, slowest."""
    context = _summary_context(results)
    context["hidden_revealed"] = settings.reveal_hidden_details
    return ENV.get_template("summary.html.j2").render(context)
