"""Settings mistakes are the instructor's: each one is refused by the real CLI with one line that
names the file and the key, and a non-zero exit, before any student is graded."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, reference_copy

from autograder.config import ConfigError, default_path, load

SHIPPED = default_path().read_text()


def edited(folder: Path, *edits: tuple[str, str]) -> Path:
    """folder/bad.toml: the shipped settings with each (old, new) applied (each old must occur)."""
    text = SHIPPED
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = folder / "bad.toml"
    path.write_text(text)
    return path


def autograder(folder: Path, *args: str, config: str | None = None) -> subprocess.CompletedProcess:
    """`python -m autograder ARGS` run in `folder` with this checkout first on the path."""
    paths = [str(ROOT), os.environ.get("PYTHONPATH")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, paths)))
    env.pop("AUTOGRADER_CONFIG", None)
    if config is not None:
        env["AUTOGRADER_CONFIG"] = config
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def assert_refused(done: subprocess.CompletedProcess, line: str) -> None:
    """The run ended with exit 2 and printed `line` as one line of stderr, with no traceback."""
    assert line in done.stderr.splitlines(), done.stderr[-3000:]
    assert "Traceback" not in done.stderr and done.returncode == 2


# How an instructor meets a settings file: `grade --config`, and `check`, which loads the same
# settings (from AUTOGRADER_CONFIG) without grade's torch import: 0.4 s a run instead of 2 s.
RUNS = {"grade": (("grade", "submissions", "--out", "out", "--config", "bad.toml"), None),
        "check": (("check", "submissions/alice"), "bad.toml")}

# The mistakes of issue 11, through `grade --config`. Before the fix the first and third graded
# every correct submission (23.46/100, or with the limit silently at its default), the second
# accepted a negative tolerance, the fourth did not name its key.
GRADE_MISTAKES = {
    "misspelled section": (("[tolerance.float64]", "[tolerence.float64]"),
                           "unknown section [tolerence.float64]; did you mean [tolerance.float64]?"),
    "negative tolerance": (("rtol = 1e-7", "rtol = -1"), "tolerance.float64.rtol must be >= 0, not -1"),
    "unknown key": (("submission_timeout = 90.0", "submision_timeout = 90.0"),
                    "unknown key limits.submision_timeout; did you mean limits.submission_timeout?"),
    "not a number": (("call_timeout = 1.0", 'call_timeout = "fast"'),
                     'limits.call_timeout must be a number, not "fast"'),
}


# More mistakes, through `check`: before the fix each was accepted (a string "no" revealed the
# hidden details, 1.5 became seed 1, true became a 1-second limit), found only while grading, or
# refused without naming its key the same way.
CHECK_MISTAKES = {
    "missing tolerance": (("[tolerance.float32]\nrtol = 1e-4\natol = 1e-5\n", ""),
                          "missing section [tolerance.float32]"),
    "missing points": (('"xor.train" = 10\n', ""), 'missing points."xor.train"'),
    "unknown function": (('"xor.train" = 10', '"xor.trian" = 10'),
                         'unknown key points."xor.trian"; did you mean points."xor.train"?'),
    "unquoted function": (('"linear.linear" = 5', "linear.linear = 5"),
                          'unknown section [points.linear]; '
                          'did you mean points."linear.linear" (in quotes)?'),
    "unknown timeout function": (('"xor.train" = 20.0', '"xor.training" = 20.0'),
                                 'unknown key call_timeout."xor.training"; '
                                 'did you mean call_timeout."xor.train"?'),
    "negative seed": (("# seed = 20261122", "seed = -1"), "seed must be >= 0 and <= 2147483647, not -1"),
    "fractional seed": (("# seed = 20261122", "seed = 1.5"), "seed must be an integer, not 1.5"),
    "boolean as number": (("call_timeout = 1.0", "call_timeout = true"),
                          "limits.call_timeout must be a number, not true"),
    "zero timeout": (("submission_timeout = 90.0", "submission_timeout = 0"),
                     "limits.submission_timeout must be > 0 and <= 86400, not 0"),
    "infinite tolerance": (("atol = 1e-9", "atol = inf"),
                           "tolerance.float64.atol must be a finite number, not inf"),
    "negative points": (('"linear.linear" = 5', '"linear.linear" = -5'),
                        'points."linear.linear" must be >= 0, not -5'),
    "memory in gigabytes": (("memory_mb = 1024", "memory_mb = 1"),
                            "limits.memory_mb must be >= 256 and <= 1048576, not 1"),
    "no processes": (("processes = 32", "processes = 0"), "limits.processes must be >= 1 and <= 4096, not 0"),
    "unknown visibility": (('public = "visible"', 'public = "visable"'),
                           'visibility.public must be one of "visible", "hidden", "after_due_date", '
                           '"after_published", not "visable"; did you mean "visible"?'),
    "boolean as string": (("reveal_hidden_details = false", 'reveal_hidden_details = "no"'),
                          'visibility.reveal_hidden_details must be true or false, not "no"'),
    "table as value": (("call_timeout = 1.0", "call_timeout = {seconds = 1}"),
                       "limits.call_timeout must be a number, not a table"),
}
MISTAKES = [("grade", m) for m in GRADE_MISTAKES] + [("check", m) for m in CHECK_MISTAKES]


@pytest.mark.parametrize(("verb", "mistake"), MISTAKES)
def test_a_settings_mistake_is_refused_in_one_line(tmp_path: Path, verb: str, mistake: str) -> None:
    edit, message = {**GRADE_MISTAKES, **CHECK_MISTAKES}[mistake]
    edited(tmp_path, edit)
    reference_copy(tmp_path / "submissions" / "alice")
    args, config = RUNS[verb]
    done = autograder(tmp_path, *args, config=config)
    assert_refused(done, f"autograder {verb}: error: bad.toml: {message}")
    assert not (tmp_path / "out" / "grades.csv").exists()


def test_grade_refuses_a_folder_as_settings(tmp_path: Path) -> None:
    (tmp_path / "settings").mkdir()
    reference_copy(tmp_path / "submissions" / "alice")
    done = autograder(tmp_path, "grade", "submissions", "--out", "out", "--config", "settings")
    assert_refused(done, "autograder grade: error: cannot read settings file settings: Is a directory")


def test_points_not_adding_to_100_are_warned_once_and_graded(tmp_path: Path) -> None:
    """Without a declared total, points that add up to 110 grade out of 110, with a warning."""
    edited(tmp_path, ('"xor.train" = 10', '"xor.train" = 20'), ("total = 100\n", ""))
    reference_copy(tmp_path / "submissions" / "alice")
    done = autograder(tmp_path, "grade", "submissions", "--out", "out", "--config", "bad.toml",
                      "--jobs", "1", "--no-plots")
    warning = ("WARNING: bad.toml: the [points] add up to 110, not 100: declare [course] total = 100 "
               "to scale them, or total = 110 to keep that")
    assert done.stderr.splitlines().count(warning) == 1, done.stderr[-3000:]
    assert done.returncode == 0
    with open(tmp_path / "out" / "grades.csv", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert (row["score"], row["max_score"]) == ("110.0", "110.0")


def test_a_declared_total_scales_the_points(tmp_path: Path) -> None:
    """Points need not add up to 100: with [course] total = 100, 110 points are scaled to it."""
    edited(tmp_path, ('"xor.train" = 10', '"xor.train" = 20'))
    reference_copy(tmp_path / "submissions" / "alice")
    done = autograder(tmp_path, "grade", "submissions", "--out", "out", "--config", "bad.toml",
                      "--jobs", "1", "--no-plots")
    assert done.returncode == 0 and "WARNING" not in done.stderr, done.stderr[-3000:]
    with open(tmp_path / "out" / "grades.csv", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert (row["score"], row["max_score"]) == ("100.0", "100.0")
    assert abs(float(row["xor.train"]) - 20 * 100 / 110) < 0.01


def test_a_call_limit_beyond_the_submission_limit_is_warned(tmp_path: Path) -> None:
    bad = edited(tmp_path, ("call_timeout = 1.0", "call_timeout = 120.0"))
    assert load(bad).warnings == (
        f"{bad}: limits.call_timeout (120 s) is longer than limits.submission_timeout (90 s), "
        "which ends the call first",
    )


def test_the_shipped_settings_load_without_warnings() -> None:
    settings = load(default_path())
    assert settings.warnings == ()
    assert sum(settings.points.values()) == 100 and set(settings.tolerances) == {"float32", "float64"}


def test_the_validator_takes_another_schema(tmp_path: Path) -> None:
    """A second settings file (a per-course one, say) is checked by the same code."""
    from autograder.config import REQUIRED, Field, validate

    schema = {"course": {"name": Field(str, default=REQUIRED), "weeks": Field(int, ge=1, default=12)}}
    values, warnings = validate({"course": {"name": "NN 101"}}, schema, tmp_path / "course.toml")
    assert values == {"course": {"name": "NN 101", "weeks": 12}} and warnings == []
    with pytest.raises(ConfigError, match=r"course\.toml: missing course\.name$"):
        validate({"course": {}}, schema, tmp_path / "course.toml")
