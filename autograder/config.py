"""The course's grading settings (course/course.toml, or the file `--config` names), loaded once.

A settings file is checked against a declarative schema (`schema(course)`: the settings of any
course, with a points entry per exercise function of this one): every section and key known,
every value of its type and within its range, every required part present. A mistake is a
ConfigError of one line naming the file and the key; a doubtful but valid choice (points that
do not add up to 100 when no total is declared) is a warning. `validate` is the one checker,
for this schema or any other.
"""

from __future__ import annotations

import difflib
import json
import math
import operator
import os
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from autograder import course as courses
from autograder.i18n import LANGUAGES, SOURCE

FLOAT32 = np.dtype(np.float32)
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
REQUIRED = object()  # the default of a setting that must be given
KINDS = {float: "a number", int: "an integer", bool: "true or false", str: "a string",
         list: "a list of names"}
BOUNDS = (("gt", ">", operator.gt), ("ge", ">=", operator.ge), ("le", "<=", operator.le))


class ConfigError(ValueError):
    """A settings file that is missing, malformed, or breaks a rule of its schema (one line)."""


@dataclass(frozen=True)
class Field:
    """The rule of one setting: its type, its bounds (gt: above; ge, le: at least, at most),
    the words it may be, and its default (REQUIRED: must be given; None: left out when absent)."""

    kind: type
    gt: float | None = None
    ge: float | None = None
    le: float | None = None
    choices: tuple[str, ...] = ()
    default: object = None


Schema = dict[str, "Field | Schema"]  # a table: key -> rule of a value, or a sub-table
Check = Callable[[dict], Iterable[str]]  # validated values -> warnings about them

SECONDS = Field(float, gt=0, le=86400)  # a time limit: above zero, at most a day
TOLERANCE = {"rtol": Field(float, ge=0, default=REQUIRED), "atol": Field(float, ge=0, default=REQUIRED)}
def schema(course: courses.Course) -> Schema:
    """The settings of `course`: what every course has, and a points entry per exercise function."""
    functions = course.functions
    return {
        "course": {"title": Field(str, default=""), "modules": Field(list),
                   "total": Field(float, gt=0), "each_function_alone": Field(bool, default=True),
                   "language": Field(str, choices=LANGUAGES, default=SOURCE)},
        "about": {module: Field(str) for module in course.names},
        **GRADING,
        "points": {function: Field(float, ge=0, default=REQUIRED) for function in functions},
        "call_timeout": {function: SECONDS for function in functions},
    }


GRADING: Schema = {
    # Left out (the default): every grading run draws its hidden inputs with a fresh seed.
    "seed": Field(int, ge=0, le=(1 << 31) - 1),
    "limits": {
        "call_timeout": replace(SECONDS, default=5.0),
        "submission_timeout": replace(SECONDS, default=90.0),
        # Left out, the sandbox's own defaults apply. The bounds stop a unit slip (gigabytes
        # or bytes for megabytes): a correct submission loses points below 128 MB of memory.
        "memory_mb": Field(int, ge=256, le=1 << 20),
        "cpu_seconds": Field(int, ge=1, le=86400),
        "file_mb": Field(int, ge=1, le=1 << 12),
        "processes": Field(int, ge=1, le=1 << 12),
        "tmpfs_mb": Field(int, ge=1, le=1 << 16),
    },
    "tolerance": {"float64": TOLERANCE, "float32": TOLERANCE},
    "visibility": {
        "public": Field(str, choices=VISIBILITIES, default="visible"),
        "hidden": Field(str, choices=VISIBILITIES, default="after_published"),
        "reveal_hidden_details": Field(bool, default=False),
    },
}


@dataclass(frozen=True)
class Tolerance:
    """Elementwise closeness: |received - expected| <= atol + rtol * |expected|."""

    rtol: float
    atol: float


@dataclass(frozen=True)
class Settings:
    """Validated grading settings, with the warnings their file gave (printed once by `grade`)."""

    seed: int | None  # None: a fresh seed per grading run
    points: dict[str, float]  # per exercise function: its share of the score (see `total`)
    tolerances: dict[str, Tolerance]
    call_timeout: float
    call_timeouts: dict[str, float]
    submission_timeout: float
    limits: dict[str, int] = field(default_factory=dict)
    public_visibility: str = "visible"
    hidden_visibility: str = "after_published"
    reveal_hidden_details: bool = False
    warnings: tuple[str, ...] = ()
    total: float | None = None  # what a perfect submission scores, if declared: points are scaled to it
    each_function_alone: bool = True  # a function right given correct helpers keeps its points

    def scale(self) -> float:
        """The factor from points to the score: total / sum of the points, 1 without a total."""
        points = sum(self.points.values())
        return self.total / points if self.total and points else 1.0

    def tolerance(self, dtype: object) -> Tolerance:
        """The tolerance for inputs of `dtype` (float32 gets the looser one)."""
        return self.tolerances["float32" if np.dtype(dtype) == FLOAT32 else "float64"]

    def timeout_for(self, function: str) -> float:
        """The time limit of one call of `function`, in seconds."""
        return self.call_timeouts.get(function, self.call_timeout)


def validate(data: dict, schema: Schema, path: Path, checks: Iterable[Check] = ()) -> tuple[dict, list[str]]:
    """`data` (a parsed TOML file at `path`) checked against `schema`: its values, defaults filled
    in, and the warnings of `checks`. Raise a one-line ConfigError at the first mistake."""
    missing: list[str] = []
    try:
        values = _table(data, schema, (), schema, missing)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if missing:
        raise ConfigError(f"{path}: missing {', '.join(missing)}")
    return values, [f"{path}: {warning}" for check in checks for warning in check(values)]


def _table(data: dict, schema: Schema, where: tuple[str, ...], root: Schema, missing: list[str]) -> dict:
    """The values of one table; unknown keys are refused before anything else is looked at."""
    for key, value in data.items():
        if key not in schema:
            raise ConfigError(_unknown(where + (key,), value, root))
    values = {}
    for key, rule in schema.items():
        name = where + (key,)
        if isinstance(rule, dict):
            sub = data.get(key, {})
            if not isinstance(sub, dict):
                raise ConfigError(f"{_dotted(name)} must be a table, not {_show(sub)}")
            if key not in data and any(r.default is REQUIRED for r in rule.values() if isinstance(r, Field)):
                missing.append(f"section [{_dotted(name)}]")
            else:
                values[key] = _table(sub, rule, name, root, missing)
        elif key in data:
            values[key] = _value(data[key], rule, _dotted(name))
        elif rule.default is REQUIRED:
            missing.append(_dotted(name))
        elif rule.default is not None:
            values[key] = rule.default
    return values


def _value(value: object, rule: Field, name: str) -> object:
    """`value` checked against `rule`, as its kind (a TOML integer is a fine float)."""
    numeric = rule.kind in (int, float)
    if rule.choices and value not in rule.choices:
        words = ", ".join(json.dumps(c) for c in rule.choices)
        near = _closest(value, rule.choices) if isinstance(value, str) else None
        raise ConfigError(f"{name} must be one of {words}, not {_show(value)}"
                          + (f"; did you mean {json.dumps(near)}?" if near else ""))
    fits = isinstance(value, rule.kind) or (rule.kind is float and isinstance(value, int))
    if rule.kind is list and fits:
        fits = all(isinstance(item, str) for item in value)
    if not fits or (numeric and isinstance(value, bool)):
        raise ConfigError(f"{name} must be {KINDS[rule.kind]}, not {_show(value)}")
    return _number(value, rule, name) if numeric else value


def _number(value: float, rule: Field, name: str) -> float:
    """A number checked against the bounds of `rule`, as its kind."""
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, not {_show(value)}")
    bounds = [(sign, bound, test) for attr, sign, test in BOUNDS
              if (bound := getattr(rule, attr)) is not None]
    if not all(test(value, bound) for _, bound, test in bounds):
        wanted = " and ".join(f"{sign} {_show(bound)}" for sign, bound, _ in bounds)
        raise ConfigError(f"{name} must be {wanted}, not {_show(value)}")
    return rule.kind(value)


def _unknown(name: tuple[str, ...], value: object, root: Schema) -> str:
    """The refusal of a key or section the schema does not have, with the nearest known one."""
    if not isinstance(value, dict):
        return f"unknown key {_dotted(name)}" + _did_you_mean(name, root, Field)
    leaf = name
    while isinstance(value, dict) and value:  # [a.b] with c = 1 comes as {a: {b: {c: 1}}}
        key, value = next(iter(value.items()))
        leaf += (key,)
    section = leaf[:-1] if len(leaf) > len(name) else name
    unquoted = [n for n, rule in _names(root) if isinstance(rule, Field) and ".".join(n) == ".".join(leaf)]
    if unquoted:
        return f"unknown section [{_dotted(section)}]; did you mean {_dotted(unquoted[0])} (in quotes)?"
    return f"unknown section [{_dotted(section)}]" + _did_you_mean(section, root, dict)


def _did_you_mean(name: tuple[str, ...], root: Schema, sort: type) -> str:
    """'; did you mean X?' for the known key (or table) closest to `name`, looked for in its own
    table first, then anywhere; nothing when none is close."""
    known = [n for n, rule in _names(root) if isinstance(rule, sort)]
    for pool in ([n for n in known if n[:-1] == name[:-1]], known):
        by_key = {n[-1]: n for n in reversed(pool)}  # the first of equal keys wins
        close = _closest(name[-1], by_key)
        if close:
            return f"; did you mean {'[{}]' if sort is dict else '{}'}?".format(_dotted(by_key[close]))
    return ""


def _names(schema: Schema, where: tuple[str, ...] = ()) -> Iterable[tuple[tuple[str, ...], object]]:
    """Every (name, rule) of the schema, tables and their keys alike."""
    for key, rule in schema.items():
        yield where + (key,), rule
        if isinstance(rule, dict):
            yield from _names(rule, where + (key,))


def _closest(word: str, words: Iterable[str]) -> str | None:
    """The one of `words` closest to `word`, if any is close."""
    close = difflib.get_close_matches(word, list(words), n=1)
    return close[0] if close else None


def _dotted(name: tuple[str, ...]) -> str:
    """A key's full name as TOML writes it: points."module.function"."""
    return ".".join(p if re.fullmatch(r"[A-Za-z0-9_-]+", p) else json.dumps(p) for p in name)


def _show(value: object) -> str:
    """A value as the instructor wrote it in TOML."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, bool):
        return str(value).lower()
    return json.dumps(value) if isinstance(value, str) else str(value)


def _points_total(values: dict) -> Iterable[str]:
    """A warning when no total is declared and the points do not add up to 100 (then grades are
    out of another total)."""
    total = sum(values["points"].values())
    if "total" not in values["course"] and not math.isclose(total, 100):
        yield (f"the [points] add up to {total:g}, not 100: declare [course] total = 100 to scale "
               f"them, or total = {total:g} to keep that")


def _call_limits(values: dict) -> Iterable[str]:
    """A warning for each call limit that the submission's own limit makes unreachable."""
    limit = values["limits"]["submission_timeout"]
    calls = {"limits.call_timeout": values["limits"]["call_timeout"]}
    calls |= {_dotted(("call_timeout", f)): t for f, t in values.get("call_timeout", {}).items()}
    for name, seconds in calls.items():
        if seconds > limit:
            yield (f"{name} ({seconds:g} s) is longer than limits.submission_timeout ({limit:g} s), "
                   "which ends the call first")


def _settings(values: dict, warnings: list[str]) -> Settings:
    """The Settings of validated `values`."""
    limits, visibility = dict(values["limits"]), values["visibility"]
    return Settings(
        seed=values.get("seed"),
        points=values["points"],
        tolerances={dtype: Tolerance(**tol) for dtype, tol in values["tolerance"].items()},
        call_timeout=limits.pop("call_timeout"),
        call_timeouts=values["call_timeout"],
        submission_timeout=limits.pop("submission_timeout"),
        limits=limits,
        public_visibility=visibility["public"],
        hidden_visibility=visibility["hidden"],
        reveal_hidden_details=visibility["reveal_hidden_details"],
        warnings=tuple(warnings),
        total=values["course"].get("total"),
        each_function_alone=values["course"]["each_function_alone"],
    )


def load(path: Path | None = None) -> Settings:
    """Read and check the settings of the course in use: `path`, else the file AUTOGRADER_CONFIG
    names, else the course's course.toml."""
    course = courses.load()
    chosen = path or os.environ.get("AUTOGRADER_CONFIG")
    return _load(Path(chosen) if chosen else course.settings_file, course)


def default_path() -> Path:
    """The settings file used when none is named: the course's course.toml."""
    return courses.load().settings_file


@lru_cache(maxsize=8)
def _load(path: Path, course: courses.Course) -> Settings:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"settings file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read settings file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return _settings(*validate(data, schema(course), path, (_points_total, _call_limits)))
