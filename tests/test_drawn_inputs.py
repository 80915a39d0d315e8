"""Hidden drawn inputs: labelled by their kind, never by what the seed drew, and the same for the
same seed wherever they are drawn."""

from __future__ import annotations

import importlib

import numpy as np
from conftest import COURSE

from autograder import runner


def _collect(seed: int) -> list[runner.GradedCase]:
    return runner.collect(COURSE.case_files("hidden"), seed)


def test_hidden_labels_name_no_drawn_value():
    """Hidden cases' labels are shown to students: drawn under two seeds, they are the same."""
    labels = [[(c.function, c.label) for c in _collect(seed)] for seed in (1, 2)]
    assert labels[0] == labels[1]
    assert any(label.startswith("drawn inputs, ") for _, label in labels[0])


def _drawn(cases: list[runner.GradedCase]) -> dict[str, list[bytes]]:
    """The arrays of every drawn input, by case label."""
    return {case.label: [b"".join(np.asarray(a).tobytes() for a in one.args if isinstance(a, np.ndarray))
                         for one in case.run.__defaults__[1]["drawn"]]
            for case in cases if case.label.startswith("drawn inputs, ")}


def test_a_seed_draws_the_same_inputs_after_more_modules_are_loaded(tmp_path, monkeypatch):
    """`--seed` repeats a run, even in a process that has imported more code since (a notebook's
    kernel, a second run): hypothesis mixes into its draws numbers it finds in the source of the
    modules loaded so far, and must not here."""
    first = _drawn(_collect(3))
    (tmp_path / "more_code.py").write_text("".join(f"C{i} = {i * 0.37 - 2.5!r}\n" for i in range(200)))
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("more_code")
    _collect(4)  # another run between: the cases are imported afresh for seed 3
    assert _drawn(_collect(3)) == first
