"""Derive the student stubs from the reference solutions (nbgrader-style markers).

In solutions/, each function body sits between `### BEGIN SOLUTION` and
`### END SOLUTION`. A stub keeps everything else (docstrings, imports, constants
given to students) and replaces each marked block with a `raise NotImplementedError`
that names the function, so exercises/ never drifts from solutions/ (see `build`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
_DEF = re.compile(r"^\s*def\s+(\w+)\s*\(")


def make_stub(source: str, todo: str = "{function}: not implemented yet") -> str:
    """Return `source` with every solution block replaced by a NotImplementedError saying `todo`
    (its {function} the function's name)."""
    out: list[str] = []
    function = "this function"
    inside = False
    for line in source.splitlines(keepends=True):
        stripped = line.strip()
        if match := _DEF.match(line):
            function = match.group(1)
        if stripped == BEGIN:
            if inside:
                raise ValueError(f"nested {BEGIN} in {function}")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            said = todo.format(function=function).replace("\\", "\\\\").replace('"', '\\"')
            out.append(f'{indent}raise NotImplementedError("{said}")\n')
        elif stripped == END:
            if not inside:
                raise ValueError(f"{END} without {BEGIN} in {function}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{BEGIN} without {END} in {function}")
    return "".join(out)


def strip_markers(source: str) -> str:
    """The reference source without its marker lines (what a correct student file looks like)."""
    return "".join(
        line for line in source.splitlines(keepends=True) if line.strip() not in (BEGIN, END)
    )


def translate_docstrings(source: str, translate: Callable[[str], str]) -> str:
    """`source` with the module's and each function's docstring replaced by `translate(docstring)`
    (the docstring as `ast.get_docstring` cleans it: the catalog's message), indented as the
    original; the code, and any docstring `translate` leaves unchanged, stay as they are."""
    tree = ast.parse(source)
    owners = [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef)))]
    lines = source.encode("utf-8").splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    data = source.encode("utf-8")
    edits = []
    for owner in owners:
        text = ast.get_docstring(owner)
        translated = translate(text) if text else text
        if not text or translated == text:
            continue
        node = owner.body[0].value
        begin = starts[node.lineno - 1] + node.col_offset
        end = starts[node.end_lineno - 1] + node.end_col_offset
        indent = " " * node.col_offset
        closing_alone = data[:end].rsplit(b"\n", 1)[-1].strip() == b'"""' and node.lineno != node.end_lineno
        edits.append((begin, end, _literal(translated, indent, closing_alone)))
    for begin, end, literal in sorted(edits, reverse=True):
        data = data[:begin] + literal.encode("utf-8") + data[end:]
    return data.decode("utf-8")


def _literal(text: str, indent: str, closing_alone: bool) -> str:
    """A triple-quoted string literal of `text`, its lines after the first indented by `indent`,
    the closing quotes on a line of their own if `closing_alone`."""
    body = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if body.endswith('"'):
        body = body[:-1] + '\\"'
    lines = body.split("\n")
    body = "\n".join([lines[0], *(indent + line if line.strip() else "" for line in lines[1:])])
    return f'"""{body}\n{indent}"""' if closing_alone else f'"""{body}"""'
