"""The kit end to end: reference full marks, stubs zero, broken files cost only their functions.

That each planted mistake costs exactly its function is tests/test_fingerprints.py's."""

from __future__ import annotations

import pytest
from conftest import COURSE, FUNCTIONS, MODULES, ROOT, losers

from autograder.stubs import make_stub


def test_reference_scores_full_marks(grade):
    result = grade(ROOT / "solutions")
    failed = [(c.name, c.message) for c in result.cases if not c.passed]
    assert failed == []
    assert result.score == result.max_score == 100


def test_stubs_score_zero(grade):
    result = grade(ROOT / "exercises")
    assert result.score == 0
    assert all(c.kind == "not_implemented" and "not implemented" in c.message for c in result.cases)


def test_every_function_is_graded_by_hidden_and_public_cases(graded_cases):
    cases, points = graded_cases
    assert {c.function for c in cases if c.hidden} == set(FUNCTIONS)
    assert {c.function for c in cases if not c.hidden} == set(FUNCTIONS)
    assert abs(sum(points) - 100) < 1e-9


BROKEN = {
    "syntax error": ({"losses": [("def mse(y_hat, y):", "def mse(y_hat, y)")]}, "losses", "does not parse"),
    "exception at import": (
        {"linear": [("import numpy as np", "import numpy as np\nraise RuntimeError('boom')")]},
        "linear",
        "RuntimeError",
    ),
    "infinite loop": (
        {
            "activations": [
                ("def softmax_prime(z):\n", "def softmax_prime(z):\n    while True:\n        pass\n")
            ]
        },
        "activations.softmax_prime",
        "did not return",
    ),
    "os._exit in a function": (
        {
            "losses": [
                (
                    "def cross_entropy_prime(p, y):\n",
                    "def cross_entropy_prime(p, y):\n    import os\n    os._exit(0)\n",
                )
            ]
        },
        "losses.cross_entropy_prime",
        "ended",
    ),
}

@pytest.mark.parametrize("name", BROKEN)
def test_broken_submission_costs_only_its_own_functions(name, grade, make_submission):
    replacements, target, message = BROKEN[name]
    result = grade(make_submission(**replacements))
    # a broken module costs its own functions only: those that call it are right given a right one
    expected = {target} if "." in target else {f for f in FUNCTIONS if f.startswith(target + ".")}
    assert losers(result) == expected
    users = [c for c in result.cases if c.upstream]
    assert all(c.passed and c.upstream[0].startswith(target) for c in users)
    assert users or "." in target  # every module has users downstream; these two functions have none
    own = [c for c in result.cases if c.function.startswith(target) and not c.passed]
    # after a timeout, or two crashes, a function's remaining cases are skipped, saying why
    skipped = ("already timed out", "twice already")
    assert all(message in c.message or any(s in c.message for s in skipped) for c in own), {
        c.message for c in own
    }


def test_missing_file_costs_only_its_functions(grade, make_submission):
    folder = make_submission()
    (folder / "activations.py").unlink()
    result = grade(folder)
    lost = losers(result)
    assert {f for f in FUNCTIONS if f.startswith("activations.")} <= lost
    assert "linear.linear" not in lost and "losses.mse" not in lost
    assert all(
        c.function.split(".")[0] in ("activations", "network", "xor") for c in result.cases if not c.passed
    )


def test_generated_files_are_up_to_date():
    """The stubs and the example submissions are what `autograder build` makes of the reference
    and the course's planted mistakes: the correct example is the reference without markers, the
    untouched one is the stubs, the buggy one the reference with three typical mistakes."""
    from autograder import build
    from autograder.stubs import strip_markers

    assert build.differing(COURSE) == []
    examples = ROOT / "examples" / "submissions"
    for module in MODULES:
        source = (ROOT / "solutions" / f"{module}.py").read_text()
        assert (examples / "alice_correct" / f"{module}.py").read_text() == strip_markers(source)
        assert (examples / "carol_untouched" / f"{module}.py").read_text() == make_stub(source)


def test_bundled_examples_grade_as_described(grade):
    examples = ROOT / "examples" / "submissions"
    assert grade(examples / "alice_correct").score == 100
    assert grade(examples / "carol_untouched").score == 0
    bob = grade(examples / "bob_buggy")
    assert {"activations.relu_prime", "linear.linear_backward", "xor.train"} <= losers(bob)
    assert 0 < bob.score < 100


IMPORT_STYLES = {
    "relative": "from .{module} import",
    "package": "from exercises.{module} import",
}


@pytest.mark.parametrize("style", IMPORT_STYLES)
def test_sibling_imports_in_any_style_are_graded(style, grade, make_submission):
    """network.py and xor.py may import their siblings by bare name, as a package or relatively."""
    edits = {
        module: [
            (f"from {sibling} import", IMPORT_STYLES[style].format(module=sibling)) for sibling in siblings
        ]
        for module, siblings in {
            "network": ("activations", "linear", "losses"),
            "xor": ("activations", "linear", "losses"),
        }.items()
    }
    result = grade(make_submission(**edits))
    assert result.score == 100, [(c.name, c.message) for c in result.cases if not c.passed][:3]


def test_a_broken_sibling_costs_only_its_users_with_relative_imports(grade, make_submission):
    folder = make_submission(
        losses=[("def mse(y_hat, y):", "def mse(y_hat, y)")],
        xor=[(f"from {m} import", f"from .{m} import") for m in ("activations", "linear", "losses")],
    )
    result = grade(folder)
    assert losers(result) == {"losses.mse", "losses.mse_prime", "losses.cross_entropy",
                              "losses.cross_entropy_prime", "losses.softmax_cross_entropy_prime"}
    assert {c.function for c in result.cases if c.upstream} >= {"xor.gradients", "xor.train"}


def test_articles_data_matches_the_reference():
    """The data the cases use is the data the stub gives students (SPEC 1)."""
    import json
    import subprocess
    import sys

    import numpy as np

    from course import articles

    dump = (
        "import json, xor; print(json.dumps({'X': xor.XOR_X.tolist(), 'y': xor.XOR_Y.tolist(), "
        "'params': {k: v.tolist() for k, v in xor.SEED_PARAMS.items()}, "
        "'y_hat': xor.forward(xor.XOR_X[:1], xor.SEED_PARAMS).item()}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", dump], cwd=ROOT / "solutions", capture_output=True, text=True, check=True
    ).stdout
    reference = json.loads(out)
    assert np.array_equal(reference["X"], articles.XOR_X)
    assert np.array_equal(reference["y"], articles.XOR_Y)
    assert all(np.array_equal(reference["params"][k], v) for k, v in articles.SEED_PARAMS.items())
    assert abs(reference["y_hat"] - articles.Y_HAT_00) < 1e-8


def test_grade_writes_every_report_of_a_submission(tmp_path):
    """SPEC 3's files per submission, plus the plain-text summary, and grades.csv."""
    from autograder.cli import main

    out = tmp_path / "out"
    assert main(["grade", str(ROOT / "examples" / "submissions"), "--out", str(out), "--jobs", "1"]) == 0
    for sid in ("alice_correct", "bob_buggy", "carol_untouched"):
        names = {p.name for p in (out / sid).iterdir()}
        assert {"results.json", "feedback.html", "feedback.md", "summary.txt"} <= names
    assert (out / "grades.csv").read_text().startswith("id,score,max_score,")
    text = (out / "bob_buggy" / "summary.txt").read_text()
    assert "bob_buggy" in text and "activations.relu_prime" in text
    # the plots: training curves for a working train, an error heatmap for a visible wrong value
    assert "training loss per epoch" in (out / "alice_correct" / "feedback.html").read_text()
    bob = (out / "bob_buggy" / "feedback.html").read_text()
    assert "where your activations.relu_prime result differs" in bob


def test_the_solved_xor_numbers_are_torchs():
    """The public "solves XOR" case compares with constants: they are torch's, and they solve XOR."""
    import numpy as np

    from course.articles import SEED_PARAMS, SOLVE, SOLVE_LOSSES, SOLVE_PARAMS, XOR_X, XOR_Y
    from course.xor import oracle

    final, losses = oracle.train(XOR_X, XOR_Y, SEED_PARAMS, SOLVE["lr"], SOLVE["epochs"])
    assert all(abs(losses[epoch] - loss) < 1e-7 for epoch, loss in SOLVE_LOSSES.items())
    assert all(np.allclose(final[key], value, atol=1e-7) for key, value in SOLVE_PARAMS.items())
    assert np.array_equal(oracle.forward(XOR_X, SOLVE_PARAMS).round(), XOR_Y)


def test_check_shows_no_terminal_control_sequence_from_student_code(make_submission, capsys):
    """What student code prints or raises reaches `autograder check`'s terminal without escape
    sequences or carriage returns: it cannot fake a PASS line, set the window title or write
    to the clipboard."""
    from autograder.cli import main

    fake = ("\\x1b[2K\\rPASS  activations.relu                        1/1 checks"
            "\\x1b]0;pwned\\x07\\x1b]52;c;aGk=\\x07")  # a fake PASS line, a window title, the clipboard
    body = f"def relu(z):\n    print('{fake}')\n    raise ValueError('{fake}')\n\n\ndef _honest(z):\n"
    folder = make_submission(activations=[("def relu(z):\n", body)])
    assert main(["check", str(folder)]) == 1
    seen = capsys.readouterr()
    for stream in (seen.out, seen.err):
        assert "\x1b" not in stream and "\r" not in stream and "\x07" not in stream
    verdicts = [line.split()[:2] for line in seen.out.splitlines() if not line.startswith(" ")]
    assert ["PASS", "activations.relu"] not in verdicts and ["FAIL", "activations.relu"] in verdicts


@pytest.mark.parametrize("module", ["linear", "activations"])
def test_a_missing_module_costs_nothing_to_a_function_that_does_not_use_it(module, grade, make_submission):
    """xor.py imports linear and activations, but sgd_step uses neither: it keeps its points
    when either file is missing (the import gets a placeholder; only calling it fails)."""
    folder = make_submission()
    (folder / f"{module}.py").unlink()
    result = grade(folder)
    assert "xor.sgd_step" not in losers(result)
    assert {f for f in FUNCTIONS if f.startswith(module + ".")} <= losers(result)


def test_the_engine_names_no_exercise():
    """Everything about what is taught is in the course (course/, solutions/): the engine
    (autograder/, templates/) names none of its modules, functions, data or articles. Plain
    words that are also names here (a network, forward, linear ticks) are not what is looked
    for: the course's own identifiers, and its modules as files or packages, are."""
    import re

    words = {"linear", "network", "forward", "gradients", "train", "losses", "activations"}
    identifiers = {f.split(".")[1] for f in FUNCTIONS} - words
    as_files = [rf"\b{m}\.py\b|exercises\.{m}\b|[\"']{m}[\"'.]" for m in MODULES]
    pattern = re.compile("|".join([*(rf"\b{re.escape(n)}\b" for n in sorted(identifiers)), *as_files,
                                   r"\bXOR\b|SEED_PARAMS|Dismantling|Postmortem|\barticles?\b(?!\s*class)"]))
    engine = [p for p in [*(ROOT / "autograder").rglob("*"), *(ROOT / "templates").glob("*")]
              if p.is_file() and p.suffix in (".py", ".sh", ".in", ".toml", ".j2", "")
              and "__pycache__" not in p.parts]
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}" for path in engine
             for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
             if pattern.search(line) and "<article" not in line and "</article>" not in line]
    assert found == []
