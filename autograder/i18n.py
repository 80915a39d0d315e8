"""The language people read the kit in, and its text in that language (gettext catalogs).

The language in use is, first found: `--lang` (which sets AUTOGRADER_LANG, so that the
processes a command starts read the same), the environment's locale (LC_ALL, else
LC_MESSAGES, else LANG, as POSIX orders them) when it names a language the kit has,
else the course's `[course] language` (course/course.toml), else English. English is the
source language: its text is the code's own, with no catalog.

Two catalogs hold the translations: the engine's (autograder/locale/<lang>/LC_MESSAGES/
messages.po: the code's and the templates' text) and the course's (course/locale/<lang>/
LC_MESSAGES/course.po: the reference's docstrings, what the cases check, the README's
introduction), so that another course brings its own. `gettext` looks in the course's
first, then in the engine's.

A catalog is compiled on first use, not when the package is built: where a `.po` file is
there (a checkout, an editable or a wheel install), it is compiled with Babel into a
cache keyed by its content (XDG_CACHE_HOME, else ~/.cache; in memory where neither can
be written), so an edited catalog counts at once and no compiled file is kept in the
repository. What the kit writes for elsewhere (the student bundle, the Gradescope and
PrairieLearn images) carries compiled `.mo` files instead (`compiled`), and no `.po`:
there the `.mo` is read as it is, without Babel.

`N_` marks text for extraction that is translated later (`gettext(KIND_TEXT[kind])`); `later` makes
such a text from a message with named fields (a case's label "drawn inputs, {kind} ({function})"),
which `translated` says in the language in use.
"""

from __future__ import annotations

import argparse
import gettext as _gettext
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from autograder import course as courses
from autograder.text import N_  # noqa: F401 - marks text for extraction; defined where the child can import it

PACKAGE = Path(__file__).resolve().parent
#: The languages the kit speaks: English (the source) first.
LANGUAGES = ("en", "zh_CN")
SOURCE = LANGUAGES[0]
#: Set by --lang, read by this process and those it starts.
ENV = "AUTOGRADER_LANG"
#: The environment's locale variables, in the order POSIX gives them precedence.
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")
ENGINE_DOMAIN, COURSE_DOMAIN = "messages", "course"
#: Commands whose output people read: each takes --lang.
VERBS = ("check", "grade", "release", "export", "gradescope", "prairielearn", "nbgrader")


class LanguageError(ValueError):
    """A language the kit does not have (one line)."""


def known(name: str | None) -> str | None:
    """The kit's language that a locale name such as "zh_CN.UTF-8" or "en_GB" names, if any."""
    if not name:
        return None
    base = name.split(".")[0].split("@")[0].replace("-", "_")
    if base in LANGUAGES:
        return base
    language, _, territory = base.partition("_")
    if language == "zh" and territory in ("", "CN", "SG", "Hans"):
        return "zh_CN"
    return SOURCE if language == "en" else None


def choose(name: str | None) -> None:
    """Use language `name` (--lang) in this process and those it starts; None changes nothing.
    LanguageError if the kit does not have it."""
    if name is None:
        return
    if name not in LANGUAGES:
        raise LanguageError(f"unknown language {name!r} (the kit has {', '.join(LANGUAGES)})")
    os.environ[ENV] = name


def language() -> str:
    """The language in use (see the module's docstring)."""
    chosen = os.environ.get(ENV)
    if chosen in LANGUAGES:
        return chosen
    for variable in LOCALE_VARIABLES:
        value = os.environ.get(variable)
        if value:  # the first one set decides, as in POSIX; "C" or an unknown one: the course's
            found = known(value)
            if found:
                return found
            break
    return _course_default()


def _course_default() -> str:
    try:
        chosen = courses.load().language
    except courses.CourseError:
        return SOURCE
    return chosen if chosen in LANGUAGES else SOURCE


def html_lang(name: str | None = None) -> str:
    """The BCP 47 tag of a language (default: the one in use), as HTML's lang attribute wants."""
    return (name or language()).replace("_", "-")


# ---------------------------------------------------------------- the catalogs


def catalog_file(base: Path, domain: str, name: str, suffix: str) -> Path:
    """Where the `suffix` (".po" or ".mo") file of `domain` in language `name` is under `base`."""
    return base / "locale" / name / "LC_MESSAGES" / f"{domain}{suffix}"


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nn-autograder" / "locale"


def compile_po(data: bytes) -> bytes:
    """The .mo of a .po file's bytes (its fuzzy entries left out, as gettext's own msgfmt does)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    out = io.BytesIO()
    write_mo(out, read_po(io.BytesIO(data)))
    return out.getvalue()


def compiled(po: Path) -> bytes:
    """The compiled form of the catalog `po`, from the cache when it holds this version of it
    (compiled and cached otherwise)."""
    data = po.read_bytes()
    cached = _cache_dir() / f"{hashlib.sha256(data).hexdigest()[:32]}.mo"
    try:
        return cached.read_bytes()
    except OSError:
        pass
    mo = compile_po(data)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cached.parent, prefix=".mo.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(mo)
        os.replace(tmp, cached)
    except OSError:
        pass  # a read-only home: compiled again by the next process, which costs ~25 ms
    return mo


def load_catalog(base: Path, domain: str, name: str) -> _gettext.NullTranslations:
    """The catalog of `domain` in language `name` under `base`: its .po compiled, else its .mo,
    else an empty one (the source text shows)."""
    po = catalog_file(base, domain, name, ".po")
    if po.is_file():
        return _gettext.GNUTranslations(io.BytesIO(compiled(po)))
    mo = catalog_file(base, domain, name, ".mo")
    if mo.is_file():
        with mo.open("rb") as handle:
            return _gettext.GNUTranslations(handle)
    return _gettext.NullTranslations()


def compiled_catalogs(course: courses.Course) -> dict[str, bytes]:
    """Every language's compiled catalogs, by their path in a copy of the kit
    ("autograder/locale/...mo", "course/locale/...mo"): what a bundle or an image carries
    instead of the .po files (it has no Babel to compile them)."""
    found = {}
    places = ((PACKAGE, "autograder", ENGINE_DOMAIN), (course.folder, "course", COURSE_DOMAIN))
    for base, top, domain in places:
        for name in LANGUAGES[1:]:
            po = catalog_file(base, domain, name, ".po")
            if po.is_file():
                found[catalog_file(Path(top), domain, name, ".mo").as_posix()] = compiled(po)
    return found


@cache
def translations(name: str, course_folder: Path) -> _gettext.NullTranslations:
    """Language `name`'s catalogs: the course's (in `course_folder`), falling back to the engine's."""
    if name == SOURCE:
        return _gettext.NullTranslations()
    found = load_catalog(course_folder, COURSE_DOMAIN, name)
    found.add_fallback(load_catalog(PACKAGE, ENGINE_DOMAIN, name))
    return found


def current() -> _gettext.NullTranslations:
    """The catalogs of the language in use, for the course in use (looked up once for each state
    of the variables that choose them: a report asks hundreds of times, and the command line
    sets AUTOGRADER_LANG, so that the locale's variables need not be read)."""
    key = (os.environ.get(ENV), os.environ.get(courses.ENV))
    if key[0] not in LANGUAGES:
        key += tuple(os.environ.get(v) for v in LOCALE_VARIABLES)
    return _current(key)


@lru_cache(maxsize=16)
def _current(_variables: tuple[str | None, ...]) -> _gettext.NullTranslations:
    try:
        folder = courses.load().folder
    except courses.CourseError:
        folder = courses.root() / "course"
    return translations(language(), folder)


#: The catalogs `pinned` holds for a block of many lookups, if any.
_PINNED: ContextVar[_gettext.NullTranslations | None] = ContextVar("pinned catalogs", default=None)


@contextmanager
def pinned() -> Iterator[None]:
    """Look the catalogs of the language in use up once for the whole block (a report asks for
    hundreds of texts: each would read the environment again)."""
    token = _PINNED.set(current())
    try:
        yield
    finally:
        _PINNED.reset(token)


def catalogs() -> _gettext.NullTranslations:
    """The catalogs of the language in use (the pinned ones inside `pinned`)."""
    return _PINNED.get() or current()


def gettext(message: str) -> str:
    """`message` in the language in use."""
    return (_PINNED.get() or current()).gettext(message) if message else message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of `singular`/`plural` for `n`, in the language in use."""
    return (_PINNED.get() or current()).ngettext(singular, plural, n)


_ = gettext

#: What `later` made: each text's message and fields, by the English text.
_LATER: dict[str, tuple[str, dict[str, Any]]] = {}


def later(message: str, /, **fields: Any) -> str:
    """`message` (marked N_) with its named `fields` put in, in English: text made before the language
    it is shown in is known (a case's label or a hint, made when the cases are imported, which are kept
    for every language), remembered so that `translated` says it in the language in use."""
    text = message.format(**fields)
    _LATER[text] = (message, fields)
    return text


def translated(text: str) -> str:
    """`text` in the language in use: one that `later` made as its message translated with each field
    translated too (a field the catalogs do not have, such as code or a number, stays as it is);
    any other as `gettext` has it."""
    made = _LATER.get(text)
    if made is None:
        return gettext(text)
    message, fields = made
    return gettext(message).format(**{name: translated(value) if isinstance(value, str) else value
                                      for name, value in fields.items()})


_PARAGRAPH_BREAK = re.compile(r"(\n[ \t]*\n(?:[ \t]*\n)*)")


def paragraphs(text: str) -> list[str]:
    """`text` cut at its blank lines: paragraphs and the blank lines between them, alternately
    (joined, they are `text` again). Each paragraph of a Markdown text is one message."""
    return _PARAGRAPH_BREAK.split(text)


def translate_markdown(text: str) -> str:
    """Markdown `text` with each paragraph in the language in use."""
    out = []
    for block in paragraphs(text):
        core = block.strip("\n")
        out.append(block.replace(core, gettext(core), 1) if core.strip() else block)
    return "".join(out)


# ---------------------------------------------------------------- where the language is chosen


def add_option(parser: argparse.ArgumentParser) -> None:
    """The `--lang` option of a command whose output people read."""
    parser.add_argument("--lang", metavar="LANG",
                        help=f"the language of what this writes: {' or '.join(LANGUAGES)} (default: the "
                             "environment's locale, else the course's [course] language)")


def install(env: Any) -> None:
    """Give a Jinja environment `_`, `gettext`, `ngettext` and `{% trans %}` in the language in use
    at each render, and `html_lang()`.

    The callables behave as Jinja's newstyle ones (the text always %-formatted with its named
    variables, which are escaped where the template autoescapes) in one call rather than Jinja's
    three nested ones: a report makes hundreds."""
    from jinja2 import pass_context
    from markupsafe import Markup

    def formatted(context: Any, text: str, variables: dict[str, Any]) -> str:
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    @pass_context
    def template_gettext(context: Any, message: str, /, **variables: Any) -> str:
        return formatted(context, gettext(message), variables)

    @pass_context
    def template_ngettext(context: Any, singular: str, plural: str, n: int, /, **variables: Any) -> str:
        variables.setdefault("num", n)
        return formatted(context, ngettext(singular, plural, n), variables)

    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True  # as babel.cfg extracts them
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # {% trans %} compiled newstyle
    env.globals.update(_=template_gettext, gettext=template_gettext, ngettext=template_ngettext,
                       html_lang=html_lang)
