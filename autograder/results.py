"""Results as dataclasses that serialise themselves: per case, per submission, Gradescope JSON."""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder import course as courses
from autograder.i18n import N_, gettext, ngettext

#: Failure kinds about the student's file or the function itself (its file, its absence, its
#: stub), not about a case's inputs: correct helpers cannot change them.
FILE_KINDS = ("import", "missing", "not_implemented")

#: Why a case failed, in words, by CaseResult.kind: the headline of a failure (English: `shown`
#: gives it in the language in use).
KIND_TEXT = {
    "value": N_("the returned value is wrong"),
    "shape": N_("the returned value has the wrong shape"),
    "type": N_("the returned value is not what was asked for (not an array, or a wrong container)"),
    "modified": N_("the function modified an input in place"),
    "warning": N_("the function raised a warning (an overflow or a division by zero?)"),
    "timeout": N_("the call took too long (an endless loop, or far too much work?)"),
    "crash": N_("the process running your code crashed (out of memory?)"),
    "exception": N_("your function raised an exception"),
    "not_implemented": N_("not implemented yet (the stub still raises NotImplementedError)"),
    "import": N_("the module could not be imported"),
    "missing": N_("the function is missing from your module"),
    "return": N_("the returned value could not be sent back (not an array or a number, or far too large?)"),
}
#: Why a case of a kind KIND_TEXT does not know failed.
UNKNOWN_KIND = N_("the check failed")
#: Each kind in a word or two, where a report names it next to a failed case (in English, the key).
KIND_WORDS = {
    "value": N_("value"), "shape": N_("shape"), "type": N_("type"), "modified": N_("modified"),
    "warning": N_("warning"), "timeout": N_("timeout"), "crash": N_("crash"), "exception": N_("exception"),
    "not_implemented": N_("not_implemented"), "import": N_("import"), "missing": N_("missing"),
    "return": N_("return"),
}


def why_failed(kind: str) -> str:
    """Why a case of `kind` failed, in words, in the language in use."""
    return gettext(KIND_TEXT.get(kind, UNKNOWN_KIND))


def kind_word(kind: str) -> str:
    """`kind` in a word, in the language in use (a kind KIND_WORDS does not know: as it is)."""
    return gettext(KIND_WORDS[kind]) if kind in KIND_WORDS else kind


@dataclass(frozen=True)
class Shown:
    """What a student may see of one case: the one place the visibility rule is applied.

    A hidden case's failure shows what was checked, on what kind of input (its label,
    which names no values), why it failed in words, and the hint of a known mistake
    (the grader's own text). Never its message, details or traceback: those hold the
    inputs and values, or text that student code produced while holding them. The one
    exception is a message the grader wrote about a file it could not use (a syntax
    error found before any case ran).
    """

    label: str
    checked: str
    passed: bool
    concealed: bool
    why: str = ""
    message: str = ""
    hint: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    traceback: str = ""
    upstream: tuple[str, ...] = ()

    def text(self) -> str:
        """The case as plain text (results.json's `output`, nbgrader, the terminal)."""
        if self.passed and self.upstream:
            text = ngettext("Passed given correct helpers: {checked}. With yours it fails because "
                            "{functions} is wrong.",
                            "Passed given correct helpers: {checked}. With yours it fails because "
                            "{functions} are wrong.", len(self.upstream))
            return text.format(checked=self.checked, functions=gettext(", ").join(self.upstream))
        if self.passed:
            return gettext("Passed: {checked}.").format(checked=self.checked)
        if self.label == self.checked:  # a case with no inputs to name is labelled by what it checks
            head = (gettext("Hidden check failed: {checked}: {why}.") if self.concealed
                    else gettext("Failed: {checked}: {why}."))
        else:
            head = (gettext("Hidden check failed: {checked} ({label}): {why}.") if self.concealed
                    else gettext("Failed: {checked} ({label}): {why}."))
        lines = [head.format(checked=self.checked, label=self.label, why=self.why)]
        if self.message:
            lines.append(self.message)
        if self.hint:
            lines.append(gettext("Likely mistake: {hint}").format(hint=self.hint))
        return "\n".join(lines)


@dataclass
class CaseResult:
    """The verdict on one case of one function."""

    function: str          # "module.function"
    label: str             # the case's inputs in words, e.g. "m=4, n_in=3, float64"
    checked: str           # what the case checks, from the test's docstring
    score: float
    max_score: float
    passed: bool
    hidden: bool
    kind: str = ""         # why it failed: a key of KIND_TEXT
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    # The student's other functions this case ran through that fail their own checks, in
    # course order ("module.function"). With `passed`, the case failed with the student's
    # functions but is right given correct ones (the grader answered those calls from the
    # reference): a knock-on failure, credited; details["with_yours"] = {"kind", "message"}
    # is how it failed with the student's own. Without `passed`, it is wrong even given
    # correct ones.
    upstream: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.function}: {self.label}"

    def shown(self, reveal_hidden: bool = False) -> Shown:
        """What the student may see of this case (see `Shown`)."""
        concealed = self.hidden and not reveal_hidden
        if self.passed:
            return Shown(self.label, self.checked, True, concealed, upstream=tuple(self.upstream))
        details = self.details or {}
        why = why_failed(self.kind)
        # casekit words its hints in the language in use; one a case passes marked N_() is translated here
        hint = gettext(str(details.get("hint") or ""))
        if concealed:
            message = self.message if details.get("file_problem") else ""
            return Shown(self.label, self.checked, False, True, why, message, hint)
        return Shown(self.label, self.checked, False, False, why, self.message, hint,
                     {k: v for k, v in details.items() if k not in ("hint", "detail", "file_problem")},
                     str(details.get("detail") or ""))

    def student_text(self, reveal_hidden: bool = False) -> str:
        return self.shown(reveal_hidden).text()

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class SubmissionResult:
    """Everything known about one graded submission."""

    id: str
    cases: list[CaseResult] = field(default_factory=list)
    execution_time: float = 0.0
    notes: list[str] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    isolation: list[str] = field(default_factory=list)
    output: str = ""               # what student code printed before any hidden case: may be shown
    private_output: str = ""       # what it printed from the first hidden case on: instructor only
    status: str = "graded"         # "graded", or "error" when grading itself failed
    error: str = ""
    seed: int | None = None        # the seed the run's hidden inputs were drawn with (--seed repeats it)
    digest: str = ""               # of the submission's files and settings: a changed one is graded again
    unwritten: bool = False        # its files could not be written to OUT

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.cases), 2)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.cases), 2)

    def by_function(self) -> dict[str, list[CaseResult]]:
        """Cases grouped by function, in SPEC order."""
        groups: dict[str, list[CaseResult]] = {f: [] for f in courses.load().functions}
        for case in self.cases:
            groups.setdefault(case.function, []).append(case)
        return {f: cs for f, cs in groups.items() if cs}

    def function_scores(self) -> dict[str, tuple[float, float]]:
        return {f: (round(sum(c.score for c in cs), 4), round(sum(c.max_score for c in cs), 4))
                for f, cs in self.by_function().items()}

    def summary(self) -> str:
        """One line of plain text: score and the functions that lost points."""
        lost = [f for f, (s, m) in self.function_scores().items() if s < m]
        head = f"{self.score:g}/{self.max_score:g}"
        if self.status == "error":
            return gettext("{score}: grading failed: {error}").format(score=head, error=self.error)
        if lost:
            return gettext("{score}; to fix: {functions}").format(score=head, functions=", ".join(lost))
        return gettext("{score}; every function passes").format(score=head)

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain data (shares lists and dicts with self: serialise, do not mutate).

        Not `dataclasses.asdict`, which deep-copies every value: a third of writing a report.
        """
        data = dict(vars(self))
        data["cases"] = [case.to_dict() for case in self.cases]
        return data

    @classmethod
    def from_dict(cls, data: Any) -> SubmissionResult:
        """The result `to_dict` gave; ValueError naming the first field that is not as written."""
        if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]:
            raise ValueError("not a result (no id)")
        if not isinstance(data.get("cases", []), list):
            raise ValueError("cases is not a list")
        try:
            cases = [CaseResult(**_case_fields(c)) for c in data.get("cases", [])]
            known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "cases"}
            result = cls(**known, cases=cases)
        except TypeError as exc:
            raise ValueError(f"a field is missing or unknown ({exc})") from None
        if result.status not in ("graded", "error"):
            raise ValueError(f"status {result.status!r} is neither 'graded' nor 'error'")
        return result


def _case_fields(data: Any) -> dict[str, Any]:
    """A case's stored fields, their scores checked: finite numbers, 0 <= score <= max_score."""
    if not isinstance(data, dict):
        raise ValueError("a case is not an object")
    for key in ("score", "max_score"):
        value = data.get(key)
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or value < 0:
            raise ValueError(f"a case's {key} is not a finite, non-negative number")
    return data


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that a reader sees the old file or the whole new one.

    Atomic against a killed grader (rename); not flushed to disk one file at a time, which
    cost 1 ms a file: a batch syncs once at its end (`sync_to_disk`).
    """
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except FileNotFoundError:  # the folder is made the first time only
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; reports are for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sync_to_disk() -> None:
    """Flush every written file to disk (once, after a batch: a power cut loses no result)."""
    os.sync()


def dump_json(data: Any, *, indent: int | None = 2) -> str:
    """Strict JSON (no NaN or Infinity literals, which many LMS parsers reject).

    indent=None is for files only programs read: json's C encoder runs only without indent.
    Data that is already plain is dumped as is; only data with NaN, inf or NumPy values
    is walked by `_clean` first.
    """
    try:
        text = json.dumps(data, indent=indent, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        text = json.dumps(_clean(data), indent=indent, ensure_ascii=False, allow_nan=False)
    return text + "\n"


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "tolist"):
        return _clean(value.tolist())
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)
