"""Text that came from student code, made safe to show: in a report, and on a terminal.

`printable` is for HTML and Markdown (which escape the rest): control characters and
lone surrogates become U+FFFD. `for_terminal` goes further, because a terminal acts on
what it prints: escape sequences (colours, cursor moves, window titles, clipboard
writes), carriage returns that overwrite a line, C1 controls and the Unicode
direction overrides that reorder a line are all removed or replaced, so that student
output can never fake a line of `autograder check` or act on the instructor's terminal.
`wrap` fills lines to a terminal's width in columns, where a Chinese character takes two
and a line may break between two of them.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
#: ESC sequences: CSI (ESC [ ... final), OSC and other strings (ESC ] ... BEL or ST), two-byte ones.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -~]?")
#: What a terminal still acts on after the escapes are gone: C0 but \n and \t, DEL, C1, bidi controls.
_TERMINAL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                       r"\ud800-\udfff]")


def N_(message: str) -> str:  # noqa: N802 - the name gettext's tools look for
    """`message`, marked for extraction into the catalogs: translated later, where it is shown
    (`autograder.i18n`). Here, not there, so that the sandboxed child can mark its texts too."""
    return message


def printable(text: Any) -> str:
    """`text` as a string without control characters (which HTML and terminals mangle) or
    lone surrogates (a name that was not UTF-8, which no UTF-8 file can hold)."""
    if type(text) is str and text.isprintable():  # no control character, no surrogate: as it is
        return text
    return _CONTROL.sub("\ufffd", str(text))


def for_terminal(text: Any) -> str:
    """`text` with nothing a terminal would act on: escape sequences removed, other controls
    (carriage return included) and direction overrides shown as U+FFFD."""
    return _TERMINAL.sub("\ufffd", _ESCAPES.sub("", str(text)))


#: Punctuation that does not start a line, and punctuation that does not end one: each stays with
#: what it follows, or with what follows it (as Chinese typesetting wants).
_NO_LINE_START = frozenset("，。、：；！？）》」』】%,.:;!?)]}")
_NO_LINE_END = frozenset("（《「『【([{")


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def columns(text: str) -> int:
    """The columns `text` takes on a terminal: two for a wide (Chinese) character, one for others."""
    return sum(2 if _wide(c) else 1 for c in text)


def _pieces(text: str) -> list[str]:
    """What a line may break between: words, each wide character, and " " where there was white space;
    punctuation that may not start (end) a line is joined to the piece before (after) it."""
    pieces: list[str] = []
    for run in re.findall(r"\s+|[^\s]", text):
        if run.isspace():
            pieces.append(" ")
        elif pieces and pieces[-1] != " " and (run in _NO_LINE_START or pieces[-1][-1] in _NO_LINE_END
                                              or not _wide(run) and not _wide(pieces[-1][-1])):
            pieces[-1] += run
        else:
            pieces.append(run)
    return pieces


def wrap(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
    """`text` filled into lines of at most `width` columns, the first indented by `first`, the others
    by `rest`; white space at the ends of lines dropped. Text with no wide character wraps as
    `textwrap` does; with some, a line also breaks between two wide characters."""
    if not any(_wide(c) for c in text):
        return textwrap.wrap(text, width, initial_indent=first, subsequent_indent=rest,
                             break_on_hyphens=False, drop_whitespace=True)
    lines, line, space = [], first, False
    for piece in _pieces(text):
        if piece == " ":
            space = True
            continue
        joined = line + (" " if space and line.strip() else "") + piece
        if columns(joined) > width and line.strip():
            lines.append(line.rstrip())
            joined = rest + piece
        while columns(joined) > width and len(joined) > len(rest) + 1:  # a piece wider than a line
            cut = max(i for i in range(len(rest) + 1, len(joined)) if columns(joined[:i]) <= width) \
                if columns(joined[:len(rest) + 1]) <= width else len(rest) + 1
            lines.append(joined[:cut])
            joined = rest + joined[cut:]
        line, space = joined, False
    if line.strip():
        lines.append(line.rstrip())
    return lines
