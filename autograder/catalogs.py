"""The translators' side of the catalogs: extract, update and check them (`tools/i18n.sh`).

Two catalogs, each with its Babel mapping file (which files, read how):

- the engine's, autograder/locale/: `_()`, `ngettext()` and `N_()` in autograder/**.py and
  `{% trans %}` and `_()` in templates/*.j2 (babel.cfg at the top of the repository);
- the course's, course/locale/: the reference's module and function docstrings (the stubs'
  docstrings), the first line of every case's docstring (what the case checks), the
  paragraphs of course/student_intro.md, the title and the [about] texts of course.toml,
  and `_()`/`N_()` in course/**.py (course/babel.cfg).

`python -m autograder.catalogs update` extracts both into their templates (.pot) and merges
those into every language's .po; `check` lists what stops a language from being complete:
a template older than the code, a message without a translation or marked fuzzy, a
translation whose placeholders, code spans or formulas' braces differ from its source's, and
a term translated otherwise than docs/glossary.md says. Both also list, apart and without
counting them as problems, the string literals that read as words for people but are not
marked for translation yet, in the course's Python files and in the engine's files named in
WATCHED (`left_to_mark`): what a course's author has left to mark. Not listed: docstrings, code,
and what only a course's author reads (`_SKIPPED_CALLS`, `_NAMES`). Nothing here runs in the grader or
in the student bundle; `autograder.i18n` reads the catalogs.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_python
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from autograder import course as courses
from autograder import i18n

KIT = i18n.PACKAGE.parent
GLOSSARY = KIT / "docs" / "glossary.md"
WIDTH = 100
#: Placeholders and code that a translation keeps as they are: str.format fields (and the
#: braces of a formula), %-style fields (Jinja's {% trans %}) and `code spans`.
_KEPT = re.compile(r"\{[^{}\n]*\}|%\(\w+\)[sdfr]|%[sdfr]|`[^`\n]+`")
#: Words that are code, not English: code spans, placeholders, identifiers with _ or ., calls,
#: comparisons, a name given a value ("rtol=1e-07", "keepdims=True").
_CODE = re.compile(r"`[^`]*`|\{[^{}]*\}|%\(\w+\)[sdfr]|\b\w+(?:[._]\w+)+\b|\b\w+\(|\S+\s*[=!<>]=\s*\S+"
                   r"|\b[A-Za-z_]\w*=")


@dataclass(frozen=True)
class Spec:
    """One catalog: its domain, the folder its locale/ is in, the folder its mapping's patterns
    start from, and its mapping file."""

    domain: str
    base: Path
    root: Path
    mapping: Path

    @property
    def template(self) -> Path:
        return self.base / "locale" / f"{self.domain}.pot"

    def translations(self) -> dict[str, Path]:
        """Each language's .po file, by language."""
        found = sorted(self.base.glob(f"locale/*/LC_MESSAGES/{self.domain}.po"))
        return {path.parts[-3]: path for path in found}


def specs(course: courses.Course | None = None) -> tuple[Spec, Spec]:
    """The engine's catalog and the course's."""
    course = course or courses.load()
    return (Spec(i18n.ENGINE_DOMAIN, i18n.PACKAGE, KIT, KIT / "babel.cfg"),
            Spec(i18n.COURSE_DOMAIN, course.folder, course.root, course.folder / "babel.cfg"))


# ---------------------------------------------------------------- extractors (named in the mapping files)


def docstrings(tree: ast.Module, which: str) -> Iterator[tuple[int, str, str]]:
    """(line, where, text) of the docstrings `which` asks for: "reference" (the module's and its
    public functions', as `autograder.stubs.translate_docstrings` looks them up) or "cases" (the
    first line of each test function's, as `autograder.runner` shows it)."""
    if which == "reference":
        if text := ast.get_docstring(tree):
            yield tree.body[0].lineno, "module", text
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                if text := ast.get_docstring(node):
                    yield node.body[0].lineno, node.name, text
    elif which == "cases":
        from autograder.runner import headline

        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                if text := ast.get_docstring(node):
                    yield node.body[0].lineno, node.name, headline(text)


def extract_docstrings(fileobj: Any, keywords: Any, comment_tags: Any, options: dict) -> Iterator[tuple]:
    """Babel extractor: the docstrings `options["docstrings"]` names (see `docstrings`), then
    what Babel's own Python extractor finds (`_()`, `N_()`)."""
    source = fileobj.read()
    for line, where, text in docstrings(ast.parse(source), options.get("docstrings", "")):
        yield line, None, text, [f"docstring of {where}"]
    yield from extract_python(io.BytesIO(source), keywords, comment_tags, options)


def extract_markdown(fileobj: Any, keywords: Any, comment_tags: Any, options: dict) -> Iterator[tuple]:
    """Babel extractor: each paragraph of a Markdown file (as `i18n.translate_markdown` splits it)."""
    line = 1
    for block in i18n.paragraphs(fileobj.read().decode("utf-8")):
        if block.strip():
            yield line + len(block) - len(block.lstrip("\n")), None, block.strip("\n"), []
        line += block.count("\n")


def extract_toml(fileobj: Any, keywords: Any, comment_tags: Any, options: dict) -> Iterator[tuple]:
    """Babel extractor: the texts of a course.toml that people read: [course] title, [about]."""
    data = tomllib.loads(fileobj.read().decode("utf-8"))
    texts = [data.get("course", {}).get("title", ""), *data.get("about", {}).values()]
    for text in texts:
        if isinstance(text, str) and text:
            yield 0, None, text, []


# ---------------------------------------------------------------- extract, update


def extract(spec: Spec) -> Catalog:
    """A fresh template of `spec`'s catalog, from the code as it is now."""
    with spec.mapping.open() as handle:
        method_map, options_map = parse_mapping_cfg(handle, str(spec.mapping))
    catalog = Catalog(project="nn-autograder", msgid_bugs_address="", charset="utf-8",
                      copyright_holder="", fuzzy=False)
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    for path, line, message, comments, context in extract_from_dir(
            spec.root, method_map, options_map, keywords, comment_tags=("Translators:",),
            strip_comment_tags=True):
        catalog.add(message, None, [(path, line)], auto_comments=comments, context=context)
    return catalog


def _write(path: Path, catalog: Catalog) -> None:
    out = io.BytesIO()
    write_po(out, catalog, width=WIDTH, include_lineno=False, ignore_obsolete=True, sort_output=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())


def _read(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def update(spec: Spec) -> list[Path]:
    """Write `spec`'s template afresh and merge it into every language's catalog; the files written."""
    template = extract(spec)
    _write(spec.template, template)
    written = [spec.template]
    for language, path in spec.translations().items():
        catalog = _read(path, language)
        catalog.update(template, update_header_comment=False)
        _write(path, catalog)
        written.append(path)
    return written


# ---------------------------------------------------------------- what is left to mark

#: Engine files whose texts people read are of the course's kind (cases' labels, kinds of input, hints):
#: `left_to_mark` looks at them beside the course's files.
WATCHED = ("autograder/casekit.py", "autograder/properties.py", "autograder/strategies.py",
           "autograder/mistakes.py")
#: Calls whose string arguments are not text to translate: the marks themselves; a planted mistake's
#: edits (code) and hint words (which the tests look for in the English hint); and the errors only a
#: course's author meets, raised where a case or a planted mistake is written wrong (a student's or an
#: instructor's failure is a CaseFailure, or an error of the engine's own that is translated).
_SKIPPED_CALLS = {"_", "gettext", "ngettext", "N_", "Planted", "TypeError", "ValueError"}
#: Module constants that hold names, not text: the planted mistakes by name (course/*/mistakes.py) and
#: the mistakes each example plants (course/examples.py), which `build` and the kit's tests use and no
#: student or instructor reads.
_NAMES = {"PLANTED", "EXAMPLES"}


def prose(text: str) -> bool:
    """Whether a string literal reads as words for people: two words or more outside code, and not
    a line of Python."""
    if len(re.findall(r"[A-Za-z]{2,}", _CODE.sub(" ", text))) < 2:
        return False
    try:
        ast.parse(text)
    except SyntaxError:
        return True
    return False


def _skipped(tree: ast.AST) -> set[int]:
    """The ids of the string nodes `left_to_mark` does not look at: docstrings, the arguments of
    _SKIPPED_CALLS, the values of _NAMES, and the parts of f-strings (looked at whole)."""
    skipped = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skipped.add(id(body[0].value))
        name = getattr(getattr(node, "func", None), "id", getattr(getattr(node, "func", None), "attr", ""))
        names = isinstance(node, ast.Assign) and any(getattr(t, "id", "") in _NAMES for t in node.targets)
        inside = (isinstance(node, ast.Call) and name in _SKIPPED_CALLS) or isinstance(node, ast.JoinedStr)
        if inside or names:
            skipped.update(id(n) for n in ast.walk(node) if n is not node)
    return skipped


def left_to_mark(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of each string literal of the Python file `path` that reads as words for people
    (`prose`) and is not marked for translation; an f-string shows its fields as {}."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _skipped(tree)
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        else:
            continue
        if prose(text):
            yield node.lineno, text


def unmarked(course: courses.Course | None = None) -> list[str]:
    """`left_to_mark` of the course's Python files and of WATCHED, one line each: "path:line: text"."""
    course = course or courses.load()
    files = [*sorted(course.folder.rglob("*.py")), *(KIT / name for name in WATCHED)]
    found = []
    for path in files:
        where = path.relative_to(course.root if path.is_relative_to(course.root) else KIT)
        found += [f"{where}:{line}: {_short(text)}" for line, text in sorted(left_to_mark(path))]
    return found


# ---------------------------------------------------------------- check


def glossary(path: Path = GLOSSARY) -> list[tuple[str, str, list[str]]]:
    """(English term, its Chinese, translations to avoid) of each row of the glossary's term table
    (the rows between the `<!-- terms -->` and `<!-- /terms -->` markers)."""
    text = path.read_text(encoding="utf-8")
    table = text.split("<!-- terms -->", 1)[1].split("<!-- /terms -->", 1)[0]
    rows = []
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] and not set(cells[0]) <= set("-: ") and cells[0] != "English":
            avoid = [w.strip() for w in cells[2].split(",")] if len(cells) > 2 and cells[2] else []
            rows.append((cells[0], cells[1], [w for w in avoid if w]))
    return rows


def _kept(text: str) -> list[str]:
    return sorted(_KEPT.findall(text))


def _forms(message: Message) -> list[tuple[str, str]]:
    """(source, translation) pairs of a message (two for a plural)."""
    ids = message.id if isinstance(message.id, (list, tuple)) else (message.id,)
    strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
    return [(ids[min(i, len(ids) - 1)], s) for i, s in enumerate(strings)]


def term_problems(source: str, translation: str, terms: list[tuple[str, str, list[str]]]) -> list[str]:
    """How `translation` departs from the glossary: a term of `source` (outside code) whose
    Chinese it lacks, or a translation the glossary says to avoid."""
    prose = _CODE.sub(" ", source)
    found = []
    for english, chinese, avoid in terms:
        plural = re.escape(english[:-1]) + "ies|" if english.endswith("y") else ""
        used = re.search(rf"(?i)\b(?:{plural}{re.escape(english)}(?:e?s)?)\b", prose)
        if used and chinese.lower() not in translation.lower():
            found.append(f"{english!r} is {chinese!r} (docs/glossary.md)")
        found += [f"{word!r} is not how the glossary translates {english!r}"
                  for word in avoid if word in translation]
    return found


def message_problems(message: Message, catalog: Catalog,
                     terms: list[tuple[str, str, list[str]]]) -> list[str]:
    """Why one message of a language's `catalog` is not done, if it is not."""
    if message.fuzzy:
        return ["marked fuzzy: check the translation, then remove the flag"]
    pairs = _forms(message)
    if not all(translation for _, translation in pairs):
        return ["not translated"]
    found = [str(error) for error in message.check(catalog)]  # Babel's checkers (python-format...)
    for source, translation in pairs:
        if _kept(source) != _kept(translation):
            found.append(f"keeps {_kept(source)} in the source but {_kept(translation)} in the translation")
        found += term_problems(source, translation, terms)
    return found


def problems(spec: Spec, terms: list[tuple[str, str, list[str]]] | None = None) -> list[str]:
    """Everything that stops `spec`'s catalogs from being complete, one line each."""
    terms = glossary() if terms is None else terms
    fresh = extract(spec)
    found = []
    stored = _read(spec.template) if spec.template.is_file() else Catalog()
    if {m.id for m in fresh if m.id} != {m.id for m in stored if m.id}:
        found.append(f"{spec.template}: out of date with the code (run tools/i18n.sh)")
    for language, path in spec.translations().items():
        catalog = _read(path, language)
        for message in fresh:
            if not message.id:
                continue
            done = catalog.get(message.id, message.context)
            why = ["missing (run tools/i18n.sh)"] if done is None else message_problems(done, catalog, terms)
            found += [f"{path}: {_short(message.id)}: {reason}" for reason in why]
    return found


def _short(message_id: Any) -> str:
    text = message_id[0] if isinstance(message_id, (list, tuple)) else message_id
    line = " ".join(text.split())
    return repr(line if len(line) <= 60 else line[:57] + "...")


def main(argv: list[str] | None = None) -> int:
    """`update` (extract and merge, then check) or `check` (only check): exit 1 on a problem."""
    parser = argparse.ArgumentParser(prog="tools/i18n.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", nargs="?", choices=("update", "check"), default="update")
    args = parser.parse_args(argv)
    try:
        chosen = specs()
    except courses.CourseError as exc:
        print(f"i18n: error: {exc}", file=sys.stderr)
        return 2
    if args.action == "update":
        for spec in chosen:
            for path in update(spec):
                print(f"wrote {path.relative_to(spec.root)}")
    left = unmarked()
    if left:
        print(f"{len(left)} text{'s' if len(left) != 1 else ''} not marked for translation yet "
              "(mark each with N_() or _(), then run this again; not counted as problems):")
        print("\n".join(f"  {line}" for line in left))
    found = [line for spec in chosen for line in problems(spec)]
    for line in found:
        print(line)
    print(f"{len(found)} problem{'s' if len(found) != 1 else ''} in the catalogs" if found
          else "the catalogs are complete")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
