"""Typical mistakes a course plants in its reference: for example submissions and for tests.

A course's `course/<module>/mistakes.py` lists `PLANTED`: each mistake a student
typically makes in one function, as edits of the reference (old text, new text,
each must match exactly once) and the words the hint it should get contains. The
example submissions are built from them (`build`), and the kit's tests plant each
one alone to check that it costs exactly its function.
"""

from __future__ import annotations

from dataclasses import dataclass

from autograder.course import module_of


@dataclass(frozen=True)
class Planted:
    """One typical mistake: in `function`, the reference edited by `edits`; `hint`, words the
    grader's hint for it contains (None: no fingerprint expected)."""

    function: str
    edits: tuple[tuple[str, str], ...]
    hint: str | None = None

    @property
    def module(self) -> str:
        return module_of(self.function)

    def apply(self, source: str) -> str:
        """`source` (the module's reference, markers stripped) with the mistake made."""
        for old, new in self.edits:
            if source.count(old) != 1:
                raise ValueError(f"planting a mistake in {self.function}: {old!r} is not in its module "
                                 "exactly once")
            source = source.replace(old, new)
        return source
