"""`autograder check` as a student runs it: as strict as grading on the public cases (warnings,
inputs modified in place, values of the gradients), the same hints, `--only`, colour on a
terminal and lines that fit it."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import COURSE, ROOT, reference_copy

from autograder import runner
from autograder.build import planted
from autograder.cli import main
from autograder.commands import check
from autograder.config import load
from autograder.intake import load_one

PLANTED = planted(COURSE)
#: Planted mistakes that only a hidden case can show, with the reason (none so far).
HIDDEN_ONLY: dict[str, str] = {}

NAIVE_SIGMOID = ("    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows\n"
                 "    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))",
                 "    return 1 / (1 + np.exp(-z))")
SIGMA_PRIME_OF_ACTIVATION = ("grad_z1 = grad_a1 * sigmoid_prime(z1)", "grad_z1 = grad_a1 * sigmoid_prime(a1)")


def run_check(capsys, folder: Path, *options: str) -> tuple[int, str, str]:
    """`autograder check FOLDER OPTIONS` in this process: its exit status, stdout and stderr."""
    code = main(["check", str(folder), *options])
    seen = capsys.readouterr()
    return code, seen.out, seen.err


def verdicts(out: str) -> dict[str, str]:
    """function -> PASS or FAIL, from check's output."""
    lines = [line.split() for line in out.splitlines() if line.startswith(("PASS", "FAIL"))]
    return {words[1]: words[0] for words in lines}


def section(out: str, function: str) -> str:
    """What check printed about `function`: its verdict line and the lines under it."""
    lines, keep = [], False
    for line in out.splitlines():
        if line.startswith(("PASS", "FAIL")):
            keep = line.split()[1] == function
        elif not line.startswith(" "):
            keep = False
        if keep:
            lines.append(line)
    return "\n".join(lines)


# --------------------------------------------------------------------------- as strict as grading


def test_check_fails_a_naive_sigmoid_that_overflows(capsys, make_submission):
    """1 / (1 + exp(-z)) is right in value at -1000 but warns of an overflow: grading docks it,
    and so does check, saying it is a warning."""
    folder = make_submission(activations=[NAIVE_SIGMOID])
    code, out, _ = run_check(capsys, folder)
    assert code == 1
    assert verdicts(out)["activations.sigmoid"] == "FAIL"
    assert "overflow" in section(out, "activations.sigmoid")


@pytest.mark.parametrize("module, edit, function", [
    ("activations", ("return np.maximum(z, 0)", "z[z < 0] = 0\n    return z"), "activations.relu"),
    ("xor", ("return {key: params[key] - lr * grads[key] for key in params}",
             "for key in params:\n        params[key] -= lr * grads[key]\n    return params"),
     "xor.sgd_step"),
])
def test_check_fails_an_input_modified_in_place(capsys, make_submission, module, edit, function):
    code, out, _ = run_check(capsys, make_submission(**{module: [edit]}))
    assert code == 1 and verdicts(out)[function] == "FAIL"
    assert "modified in place" in section(out, function)


#: Appended to every module of a correct submission: each exercise function then warns, or
#: modifies its first argument after computing a right answer.
MISBEHAVE = """
import functools as _functools
import warnings as _warnings


def _misbehaving(function):
    @_functools.wraps(function)
    def call(*args):
        value = function(*args)
        if MISBEHAVIOUR == "warning":
            _warnings.warn("overflow encountered in exp", RuntimeWarning)
        elif isinstance(args[0], dict):
            args[0]["W1"] += 1.0
        else:
            args[0][...] = args[0] + 1.0
        return value
    return call


for _name in [n for n, f in list(globals().items())
              if callable(f) and getattr(f, "__module__", "") == __name__ and not n.startswith("_")]:
    globals()[_name] = _misbehaving(globals()[_name])
"""


@pytest.mark.parametrize("kind", ["warning", "modified"])
def test_every_public_case_fails_a_call_that_warns_or_modifies_its_input(kind, public_suite, sandbox,
                                                                         tmp_path):
    """The strictness is every public case's, not a line each case must remember: where every
    function returns the right value but warns (or changes its input), every public check fails,
    saying which."""
    folder = reference_copy(tmp_path / "sub")
    for module in COURSE.names:
        path = folder / f"{module}.py"
        path.write_text(path.read_text() + f"\nMISBEHAVIOUR = {kind!r}\n" + MISBEHAVE)
    result = runner.grade_submission(load_one(folder), public_suite, sandbox, load())
    assert len(result.cases) == len(public_suite.cases)
    assert [c.function for c in result.cases if c.passed or c.kind != kind] == []


def test_check_fails_sigma_prime_of_the_activation_in_xor_gradients(capsys, make_submission):
    """sigmoid'(a1) instead of sigmoid'(z1): the gradients have the right shapes and wrong values;
    check compares the values with the article's network at [0, 0] and names the mistake."""
    code, out, _ = run_check(capsys, make_submission(xor=[SIGMA_PRIME_OF_ACTIVATION]))
    assert code == 1 and verdicts(out)["xor.gradients"] == "FAIL"
    assert "applied to the activation" in section(out, "xor.gradients")


def test_check_compares_the_classifier_gradients_values(capsys, make_submission):
    """A dL/dW transposed keeps its shape where W is square (the article's W = I): the values show it."""
    edit = ("    return grad_W, grad_b\n", "    return grad_W.T, grad_b\n")
    code, out, _ = run_check(capsys, make_submission(network=[edit]))
    assert code == 1 and verdicts(out)["network.classifier_gradients"] == "FAIL"
    assert "transposed" in section(out, "network.classifier_gradients")


@pytest.fixture(scope="module")
def public_suite() -> runner.Suite:
    """The cases `autograder check` runs."""
    return runner.Suite.prepare(("public",), load(), seed=0)


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_check_fails_each_typical_mistake_with_grading_hint(name, public_suite, sandbox, tmp_path):
    """Each mistake the course plants fails its function's public checks (but those only a hidden
    edge case can show, listed with why), and check shows the hint grading gives it where there is
    a value to recognise (not where the student's code raised: its own error message is shown)."""
    mistake = PLANTED[name]
    folder = reference_copy(tmp_path / "sub")
    path = folder / f"{mistake.module}.py"
    path.write_text(mistake.apply(path.read_text()))
    result = runner.grade_submission(load_one(folder), public_suite, sandbox, load())
    failed = [c for c in result.cases if c.function == mistake.function and not c.passed]
    if name in HIDDEN_ONLY:
        assert not failed, f"{name} is now caught by check: take it out of HIDDEN_ONLY"
        return
    assert failed, f"check passes {mistake.function} with the mistake {name!r}"
    if mistake.hint and any(c.kind != "exception" for c in failed):
        shown = section("\n".join(check.report_lines(result, check.Style(width=1000))), mistake.function)
        assert mistake.hint in shown, shown


def test_the_public_constants_are_torchs():
    """The gradients the public cases compare with, and the sigma'-misuse fingerprints they
    hint with, are stored as numbers (the bundle has no torch and no backprop); here they are
    worked again from the oracle and from the hidden cases' fingerprints."""
    from course import articles
    from course.network import oracle as network
    from course.xor import hidden, oracle, public

    for (X, y), stored in ((articles.XOR_00, articles.XOR_GRADIENTS_00),
                           ((articles.XOR_X, articles.XOR_Y), articles.XOR_GRADIENTS)):
        worked = oracle.gradients(X, y, articles.SEED_PARAMS)
        assert stored.keys() == worked.keys()
        assert all(np.allclose(stored[k], worked[k], rtol=1e-10, atol=1e-12) for k in worked)
    z, y = articles.ARTICLE_Z, articles.ARTICLE_Y
    grad_W, grad_b = network.classifier_gradients(z, y, np.eye(3), np.zeros(3))
    assert np.allclose(articles.CLASSIFIER_GRAD_W, grad_W, rtol=1e-10, atol=1e-12)
    assert np.allclose(articles.CLASSIFIER_GRAD_B, grad_b, rtol=1e-10, atol=1e-12)
    _, losses = oracle.train(articles.XOR_X, articles.XOR_Y, articles.SEED_PARAMS, 0.5, 2)
    assert abs(articles.LOSS_AFTER_ONE_STEP - losses[1]) < 1e-11
    fingerprints = hidden._sigma_prime_mistakes(*articles.XOR_00, articles.SEED_PARAMS)
    dW1 = fingerprints.pop("W1")
    assert not any(np.any(v) for v in dW1.values()), "dW1 is 0 at [0, 0] whatever the mistake"
    worked = {k: {hint: np.round(v, 12).tolist() for hint, v in by_hint.items()}
              for k, by_hint in fingerprints.items()}
    assert _covers(public.SIGMA_PRIME_AT_00, worked), (
        f"grading's sigma' fingerprints changed: SIGMA_PRIME_AT_00 in course/xor/public.py is now {worked!r}")


def _covers(stored: dict, worked: dict) -> bool:
    """Whether the {key: {hint: numbers}} map `stored` has every key and hint of `worked`, with
    close numbers."""
    return all(k in stored and all(h in stored[k] and np.allclose(stored[k][h], v, rtol=1e-10, atol=1e-12)
                                   for h, v in worked[k].items()) for k in worked)


def test_check_in_the_bundle_shows_hints_without_torch(tmp_path):
    """The public cases' fingerprints ship with them and need no torch: in the student bundle,
    with torch not importable, check names the mistake."""
    bundle = tmp_path / "bundle"
    assert main(["release", str(bundle)]) == 0
    folder = reference_copy(tmp_path / "sub")
    path = folder / "activations.py"
    path.write_text(path.read_text().replace(
        "return s[:, :, None] * np.eye(s.shape[-1], dtype=s.dtype) - s[:, :, None] * s[:, None, :]",
        "return s[:, :, None] * np.eye(s.shape[-1]) * (1 - s[:, :, None])"))
    code = ("import sys; sys.modules['torch'] = None\n"  # `import torch` now fails, as in the bundle's venv
            "from autograder.cli import main; sys.exit(main(['check', sys.argv[1]]))")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AUTOGRADER_COURSE")}
    env.update(PYTHONPATH=str(bundle), PYTHONDONTWRITEBYTECODE="1")
    out = subprocess.run([sys.executable, "-c", code, str(folder)], cwd=bundle, capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    assert "diagonal" in section(out.stdout, "activations.softmax_prime")


# --------------------------------------------------------------------------- --only


@pytest.mark.parametrize("only", ["activations.relu", "relu"])
def test_only_runs_one_function(capsys, only):
    code, out, _ = run_check(capsys, ROOT / "solutions", "--only", only)
    assert code == 0
    assert verdicts(out) == {"activations.relu": "PASS"}
    assert "1/1 public checks pass" in out


def test_only_names_a_module_or_function_linear_both(capsys):
    """`linear` is a module and a function of it: --only linear means the function linear.linear."""
    code, out, _ = run_check(capsys, ROOT / "solutions", "--only", "linear")
    assert code == 0 and verdicts(out) == {"linear.linear": "PASS"}


@pytest.mark.parametrize("only, named", [("rleu", "xor.train"), ("activations", "activations.softmax")])
def test_only_with_a_misspelled_function_is_a_one_line_error(capsys, only, named):
    """A name that is no function (a typo, a module's name) says so in one line naming the choices."""
    code, out, err = run_check(capsys, ROOT / "solutions", "--only", only)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert f"--only {only}" in err and "activations.relu" in err and named in err


# --------------------------------------------------------------------------- a terminal


def _on_a_terminal(folder: Path, columns: int, **env: str) -> str:
    """check's output on a pseudo-terminal `columns` wide (what a student sees)."""
    master, slave = pty.openpty()
    os.set_blocking(master, True)
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "TERM")}
    environ.update(PYTHONPATH=str(ROOT), TERM="xterm", COLUMNS=str(columns), **env)
    process = subprocess.Popen([sys.executable, "-m", "autograder", "check", str(folder)], stdin=slave,
                               stdout=slave, stderr=slave, env=environ, close_fds=True)
    os.close(slave)
    chunks = []
    try:
        while select.select([master], [], [], 60)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal closes when the process ends (EIO on Linux)
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
        process.wait(timeout=60)
    return b"".join(chunks).decode().replace("\r\n", "\n")


@pytest.fixture(scope="module")
def buggy(tmp_path_factory) -> Path:
    """The bundled example with three mistakes."""
    return ROOT / "examples" / "submissions" / "bob_buggy"


def test_colour_on_a_terminal_and_not_with_no_color(buggy):
    coloured = _on_a_terminal(buggy, 100)
    assert "\x1b[" in coloured and "PASS" in coloured and "FAIL" in coloured
    plain = _on_a_terminal(buggy, 100, NO_COLOR="1")
    assert "\x1b" not in plain and "FAIL  linear.linear_backward" in plain


def test_lines_fit_the_terminal(buggy, capsys, monkeypatch):
    """Messages and hints are wrapped to the terminal's width (COLUMNS when set), indented under
    their function; the verdict lines stay whole."""
    monkeypatch.setenv("COLUMNS", "60")
    code, out, _ = run_check(capsys, buggy)
    assert code == 1
    assert max(len(line) for line in out.splitlines()) <= 60
    assert "FAIL  linear.linear_backward" in out
    assert "shape (n_out, n_in) like W" in " ".join(out.split())  # the hint is all there
    narrow = _strip_colour(_on_a_terminal(buggy, 60))
    assert max(len(line) for line in narrow.splitlines()) <= 60


def _strip_colour(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)
