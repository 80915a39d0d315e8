"""Text that came from student code, made safe to show: in a report, and on a terminal.

`printable` is for HTML and Markdown (which escape the rest): control characters and
lone surrogates become U+FFFD. `for_terminal` goes further, because a terminal acts on
what it prints: escape sequences (colours, cursor moves, window titles, clipboard
writes), carriage returns that overwrite a line, C1 controls and the Unicode
direction overrides that reorder a line are all removed or replaced, so that student
output can never fake a line of `autograder check` or act on the instructor's terminal.
"""

from __future__ import annotations

import re
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
#: ESC sequences: CSI (ESC [ ... final), OSC and other strings (ESC ] ... BEL or ST), two-byte ones.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -~]?")
#: What a terminal still acts on after the escapes are gone: C0 but \n and \t, DEL, C1, bidi controls.
_TERMINAL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                       r"\ud800-\udfff]")


def printable(text: Any) -> str:
    """`text` as a string without control characters (which HTML and terminals mangle) or
    lone surrogates (a name that was not UTF-8, which no UTF-8 file can hold)."""
    return _CONTROL.sub("\ufffd", str(text))


def for_terminal(text: Any) -> str:
    """`text` with nothing a terminal would act on: escape sequences removed, other controls
    (carriage return included) and direction overrides shown as U+FFFD."""
    return _TERMINAL.sub("\ufffd", _ESCAPES.sub("", str(text)))
