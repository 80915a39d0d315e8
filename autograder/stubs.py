"""Derive the student stubs from the reference solutions (nbgrader-style markers).

In solutions/, each function body sits between `### BEGIN SOLUTION` and
`### END SOLUTION`. A stub keeps everything else (docstrings, imports, constants
given to students) and replaces each marked block with a `raise NotImplementedError`
that names the function, so exercises/ never drifts from solutions/ (see `build`).
"""

from __future__ import annotations

import re

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
_DEF = re.compile(r"^\s*def\s+(\w+)\s*\(")


def make_stub(source: str) -> str:
    """Return `source` with every solution block replaced by a NotImplementedError."""
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
            out.append(f'{indent}raise NotImplementedError("{function}: not implemented yet")\n')
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
