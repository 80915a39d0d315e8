"""Mutation testing of the graded suite: how many one-point bugs in the reference does it catch?

Every mutant changes one spot inside a `### BEGIN SOLUTION` / `### END SOLUTION`
block of solutions/*.py (an operator, a comparison, a constant, an axis, a
transpose, a minus sign, sum/mean, max/min, exp/log) and is graded like a
student submission, with one collection of the cases and one sandbox for all.
A mutant is caught when it loses points anywhere; the survivors are printed
with their diff line and checked against benchmarks/equivalent_mutants.md,
which must explain each of them.

A mutant is hinted when a failed case of the function it mutates carries a hint (a known
mistake's fingerprint matched). `--planted` grades the course's planted typical mistakes
(course/<module>/mistakes.py) instead and says which get a hint, and whether it holds the
words the mistake expects.

    python benchmarks/mutation.py [--limit N] [--only FUNCTION] [--jobs N] [--list] [--planted]

Exit status 1 when a survivor is not explained in equivalent_mutants.md, or (with
--planted) when a planted mistake's expected hint does not fire.
"""

from __future__ import annotations

import argparse
import ast
import copy
import difflib
import os
import queue
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
EQUIVALENT = Path(__file__).with_name("equivalent_mutants.md")
MODULES = ("linear", "activations", "losses", "network", "xor")
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"

Change = Callable[[ast.AST], ast.AST | None]
"""Turns a (copied) node into its mutated replacement; None removes it from its list."""


@dataclass(frozen=True)
class Mutant:
    """One single-point change of one reference module."""

    module: str
    function: str
    family: str
    line: int
    before: str
    after: str
    source: str

    @property
    def tag(self) -> str:
        """The graded function it mutates, "module.function"."""
        return f"{self.module}.{self.function}"

    @property
    def key(self) -> str:
        """How equivalent_mutants.md names it: `function: before -> after`."""
        return f"{self.tag}: {self.before} -> {self.after}"


# --------------------------------------------------------------------------- operator families

BINOPS: dict[type, tuple[type, ...]] = {
    ast.Add: (ast.Sub,), ast.Sub: (ast.Add,), ast.Mult: (ast.Div, ast.Pow),
    ast.Div: (ast.Mult,), ast.Pow: (ast.Mult,), ast.MatMult: (ast.Mult,),
}
COMPARISONS: dict[type, type] = {
    ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
}
RENAMES: dict[str, tuple[str, str]] = {
    "sum": ("sum-mean", "mean"), "mean": ("sum-mean", "sum"),
    "max": ("max-min", "min"), "min": ("max-min", "max"),
    "maximum": ("max-min", "minimum"), "minimum": ("max-min", "maximum"),
    "amax": ("max-min", "amin"), "amin": ("max-min", "amax"),
    "exp": ("exp-log", "log"), "log": ("exp-log", "exp"),
}
AXES: dict[int, tuple[int, ...]] = {0: (1,), 1: (0,), -1: (0,)}
CONVERSIONS = frozenset({"float", "int", "array", "asarray"})


def _number(node: ast.AST) -> float | None:
    """The value of a numeric literal, `-n` included; None for anything else (bools too)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _number(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    return None


def _literal(value: float) -> ast.expr:
    node: ast.expr = ast.Constant(abs(value))
    return ast.UnaryOp(ast.USub(), node) if value < 0 else node


def _set_op(op: type) -> Change:
    def change(node: ast.AST) -> ast.AST:
        node.op = op()
        return node
    return change


def _set_compare(op: type) -> Change:
    def change(node: ast.AST) -> ast.AST:
        node.ops = [op()]
        return node
    return change


def _set_attr(name: str) -> Change:
    def change(node: ast.AST) -> ast.AST:
        node.attr = name
        return node
    return change


def _set_value(value: float) -> Change:
    def change(node: ast.AST) -> ast.AST:
        if isinstance(node, ast.keyword):
            node.value = _literal(value)
            return node
        return _literal(value)
    return change


def _remove(node: ast.AST) -> None:
    return None


def _child(field: str) -> Change:
    return lambda node: getattr(node, field)


def arithmetic(node: ast.AST) -> Iterator[tuple[str, Change]]:
    """+ <-> -, * -> / and **, / -> *, ** -> *, @ -> * (also in augmented assignments)."""
    if isinstance(node, (ast.BinOp, ast.AugAssign)):
        for op in BINOPS.get(type(node.op), ()):
            yield "arithmetic", _set_op(op)


def comparison(node: ast.AST) -> Iterator[tuple[str, Change]]:
    """> <-> >=, < <-> <=, == <-> !=."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARISONS:
        yield "comparison", _set_compare(COMPARISONS[type(node.ops[0])])


def constant(node: ast.AST, parent: ast.AST | None) -> Iterator[tuple[str, Change]]:
    """n -> n + 1, n - 1 and 0 (a negative literal counts as one constant)."""
    value = _number(node)
    if value is None or (isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub)):
        return
    for new in dict.fromkeys((value + 1, value - 1, type(value)(0))):
        if new != value:
            yield "constant", _set_value(new)


def axis(node: ast.AST) -> Iterator[tuple[str, Change]]:
    """axis 0 <-> 1, -1 -> 0, axis removed; keepdims True -> False, keepdims removed."""
    if not isinstance(node, ast.keyword):
        return
    if node.arg == "axis":
        for new in AXES.get(_number(node.value), ()):
            yield "axis", _set_value(new)
        yield "axis", _remove
    elif node.arg == "keepdims":
        yield "keepdims", lambda k: ast.keyword("keepdims", ast.Constant(False))
        yield "keepdims", _remove


def transpose(node: ast.AST) -> Iterator[tuple[str, Change]]:
    """x.T -> x."""
    if isinstance(node, ast.Attribute) and node.attr == "T" and isinstance(node.ctx, ast.Load):
        yield "transpose", _child("value")


def unary_minus(node: ast.AST) -> Iterator[tuple[str, Change]]:
    """-x -> x."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield "unary-minus", _child("operand")


def renamed_call(node: ast.AST, parent: ast.AST | None) -> Iterator[tuple[str, Change]]:
    """np.sum <-> np.mean, max <-> min (np.maximum/np.minimum too), np.exp <-> np.log."""
    if isinstance(node, ast.Attribute) and node.attr in RENAMES and isinstance(parent, ast.Call):
        family, name = RENAMES[node.attr]
        if parent.func is node:
            yield family, _set_attr(name)


def dropped_call(node: ast.AST) -> Iterator[tuple[str, Change]]:
    """f(x) -> x for a one-argument call of a function (sigmoid, np.abs, ...), not a conversion."""
    if not isinstance(node, ast.Call) or len(node.args) != 1 or node.keywords:
        return
    name = node.func.id if isinstance(node.func, ast.Name) else None
    if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
        name = node.func.attr if node.func.value.id == "np" else None
    if name is not None and name not in CONVERSIONS:
        yield "dropped-call", lambda call: call.args[0]


def changes(node: ast.AST, parent: ast.AST | None) -> Iterator[tuple[str, Change]]:
    """Every single-point change of `node`, with its family."""
    yield from arithmetic(node)
    yield from comparison(node)
    yield from axis(node)
    yield from constant(node, parent)
    yield from transpose(node)
    yield from unary_minus(node)
    yield from renamed_call(node, parent)
    yield from dropped_call(node)


# --------------------------------------------------------------------------- generating mutants

def solution_lines(text: str) -> list[tuple[int, int]]:
    """(first, last) line numbers of every solution block's body."""
    blocks, start = [], None
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() == BEGIN:
            start = number
        elif line.strip() == END and start is not None:
            blocks.append((start + 1, number - 1))
            start = None
    return blocks


def _replace(tree: ast.AST, old: ast.AST, new: ast.AST | None) -> None:
    """Put `new` where `old` is in `tree` (None drops it from its list)."""
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is old and new is not None:
                setattr(parent, field, new)
                return
            if isinstance(value, list) and any(v is old for v in value):
                index = next(i for i, v in enumerate(value) if v is old)
                value[index:index + 1] = [] if new is None else [new]
                return
    raise LookupError("node not found in its tree")


def _diff(base: str, mutated: str) -> tuple[str, str]:
    """The first changed line before and after, stripped."""
    old, new = base.splitlines(), mutated.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag != "equal":
            return " ".join(x.strip() for x in old[i1:i2]), " ".join(x.strip() for x in new[j1:j2])
    return "", ""


def _owners(tree: ast.Module, blocks: list[tuple[int, int]]) -> dict[int, str]:
    """id(node) -> name of the top-level function whose solution block holds the node."""
    owners = {}
    for func in tree.body:
        if isinstance(func, ast.FunctionDef):
            for node in ast.walk(func):
                line = getattr(node, "lineno", None)
                if line is not None and any(a <= line <= b for a, b in blocks):
                    owners[id(node)] = func.name
    return owners


def module_mutants(module: str, text: str) -> Iterator[Mutant]:
    """Every distinct mutant of one module's solution blocks, in source order."""
    tree = ast.parse(text)
    base = ast.unparse(tree)
    owners = _owners(tree, solution_lines(text))
    parents = {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    nodes = list(ast.walk(tree))
    seen = {base}
    for index in sorted(range(len(nodes)), key=lambda i: (getattr(nodes[i], "lineno", 0), i)):
        node = nodes[index]
        if id(node) not in owners:
            continue
        for family, change in changes(node, parents.get(id(node))):
            mutated = copy.deepcopy(tree)
            target = list(ast.walk(mutated))[index]
            new = change(target)
            if new is not target:
                _replace(mutated, target, new)
            source = ast.unparse(mutated)
            if source in seen:
                continue
            seen.add(source)
            before, after = _diff(base, source)
            yield Mutant(module, owners[id(node)], family, node.lineno, before, after, source)


def all_mutants(folder: Path = SOLUTIONS) -> list[Mutant]:
    """The mutants of every reference module."""
    return [m for module in MODULES for m in module_mutants(module, (folder / f"{module}.py").read_text())]


def spread(items: list, limit: int | None) -> list:
    """At most `limit` items, evenly spaced so that every module is represented."""
    if limit is None or limit >= len(items):
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


# --------------------------------------------------------------------------- grading


class Grader:
    """One collection of the graded cases and `jobs` sandboxes, reused for many submissions.

    `grade` may be called from `jobs` threads at once: each call borrows a sandbox.
    """

    def __init__(self, jobs: int = 1) -> None:
        from autograder import runner
        from autograder.config import load
        from autograder.sandbox.session import Sandbox

        self.settings = load()
        self.suite = runner.Suite.prepare(("public", "hidden"), self.settings)
        self.reference = {m: (SOLUTIONS / f"{m}.py").read_text() for m in MODULES}
        self.sandboxes: queue.Queue = queue.Queue()
        for _ in range(jobs):
            self.sandboxes.put(Sandbox())

    def grade(self, sources: dict[str, str], sid: str = "submission"):
        """The SubmissionResult of `sources` (module -> text; missing modules from the reference)."""
        from autograder import runner
        from autograder.intake import Submission

        submission = Submission(sid, sources={**self.reference, **sources})
        sandbox = self.sandboxes.get()
        try:
            return runner.grade_submission(submission, self.suite, sandbox, self.settings)
        finally:
            self.sandboxes.put(sandbox)

    def grade_mutant(self, mutant: Mutant):
        return self.grade({mutant.module: mutant.source}, f"{mutant.tag}:{mutant.line}")

    def close(self) -> None:
        while not self.sandboxes.empty():
            self.sandboxes.get().close()

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def losers(result) -> list[str]:
    """The functions that lost points."""
    return [f for f, (score, most) in result.function_scores().items() if score < most - 1e-9]


def hints(result, function: str) -> list[str]:
    """The hints on the failed cases of `function`, in case order."""
    return [c.details["hint"] for c in result.cases
            if c.function == function and not c.passed and c.details.get("hint")]


def explained(path: Path = EQUIVALENT) -> str:
    """The text of equivalent_mutants.md ("" if missing): a survivor is explained if its key is in it."""
    return path.read_text() if path.exists() else ""


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="grade at most N mutants, evenly spread")
    parser.add_argument("--only", default=None, help="mutants of one function, e.g. activations.softmax")
    parser.add_argument("--list", action="store_true", help="list the mutants without grading them")
    parser.add_argument("--jobs", type=int, default=min(os.cpu_count() or 1, 4),
                        help="sandboxes grading in parallel (default: cores, at most 4)")
    parser.add_argument("--planted", action="store_true",
                        help="grade the course's planted typical mistakes: which get a hint?")
    return parser.parse_args(argv)


def planted_mistakes() -> dict:
    """The course's planted typical mistakes by name (autograder.mistakes.Planted)."""
    from autograder import build, course

    return build.planted(course.load())


def grade_planted(grader: Grader, name: str, mistake) -> tuple[list[str], list[str]]:
    """The functions the planted mistake `name` costs, and the hints its own function gets."""
    from autograder.stubs import strip_markers

    source = mistake.apply(strip_markers(grader.reference[mistake.module]))
    result = grader.grade({mistake.module: source}, name)
    return losers(result), hints(result, mistake.function)


def main_planted(jobs: int) -> int:
    """Grade every planted mistake; print what each costs and its hint; 1 if an expected hint
    is missing."""
    mistakes = planted_mistakes()
    with Grader(jobs) as grader, ThreadPoolExecutor(jobs) as pool:
        graded = list(pool.map(lambda item: grade_planted(grader, *item), mistakes.items()))
    hinted = expected = missing = 0
    for (name, mistake), (lost, found) in zip(mistakes.items(), graded, strict=True):
        hinted += bool(found)
        named = mistake.hint is not None and any(mistake.hint in h for h in found)
        expected += named
        missing += mistake.hint is not None and not named
        costs = ", ".join(lost) or "nothing"
        print(f"[{'hint' if found else 'NO HINT'}] {name} ({mistake.function}; costs {costs})"
              + (f": {found[0]}" if found else ""))
    print(f"planted mistakes with a hint in their function: {hinted}/{len(mistakes)}"
          f" ({expected} with the expected words; {missing} expected hints missing)")
    return 1 if missing else 0


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.planted:
        return main_planted(args.jobs)
    mutants = [m for m in all_mutants() if args.only in (None, m.tag)]
    mutants = spread(mutants, args.limit)
    if args.list:
        for m in mutants:
            print(f"[{m.family}] {m.key}")
        return 0
    started = time.monotonic()
    with Grader(args.jobs) as grader:
        collected = time.monotonic()
        print(f"collected {len(grader.suite.cases)} cases in {collected - started:.1f} s", flush=True)
        with ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(grader.grade_mutant, mutants))
    lost = [losers(result) for result in results]
    survivors = [m for m, where in zip(mutants, lost, strict=True) if not where]
    elsewhere = sum(bool(where) and m.tag not in where for m, where in zip(mutants, lost, strict=True))
    own = [(m, r) for m, r, where in zip(mutants, results, lost, strict=True) if m.tag in where]
    hinted = sum(bool(hints(r, m.tag)) for m, r in own)
    print(f"hinted: {hinted} of the {len(own)} mutants caught in their own function get a hint there")
    return _report(mutants, survivors, elsewhere, time.monotonic() - collected)


def _report(mutants: list[Mutant], survivors: list[Mutant], elsewhere: int, seconds: float) -> int:
    total, text = len(mutants), explained()
    equivalent = [m for m in survivors if m.key in text]
    caught = total - len(survivors)
    print(f"{total} mutants graded in {seconds:.1f} s ({1000 * seconds / max(total, 1):.0f} ms each)")
    print(f"caught: {caught}/{total} = {100 * caught / max(total, 1):.1f}%"
          f" ({elsewhere} only by another function)")
    print(f"caught among non-equivalent: {caught}/{total - len(equivalent)}"
          f" = {100 * caught / max(total - len(equivalent), 1):.1f}%")
    print(f"survivors: {len(survivors)} ({len(equivalent)} explained in {EQUIVALENT.name})")
    for m in survivors:
        status = "equivalent" if m in equivalent else "NOT EXPLAINED"
        print(f"  [{m.family}] {m.module}.py:{m.line} `{m.key}`  ({status})")
    return 0 if len(equivalent) == len(survivors) else 1


if __name__ == "__main__":
    sys.exit(main())
