"""Two languages, one kit: the catalogs are complete and consistent, the language is chosen as
documented, and Chinese stubs, README, checks and reports say the same as the English ones,
scores included."""

from __future__ import annotations

import ast
import csv
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from conftest import FUNCTIONS, MODULES, ROOT, SEED

from autograder import catalogs, i18n, report
from autograder import course as courses
from autograder.cli import main
from autograder.config import ConfigError, schema, validate
from autograder.stubs import make_stub, translate_docstrings

CJK = re.compile(r"[\u4e00-\u9fff]")
ZH = "zh_CN"


# ---------------------------------------------------------------- the catalogs


@pytest.mark.parametrize("spec", catalogs.specs(courses.load(ROOT)), ids=lambda s: s.domain)
def test_every_message_has_a_translation_that_keeps_its_placeholders_and_terms(spec):
    """Extracted afresh from the code: every message is in the template and translated in zh_CN,
    not fuzzy, with the same placeholders, code spans and braces (Babel's checkers and ours),
    and with the glossary's terms."""
    assert ZH in spec.translations()
    assert catalogs.problems(spec) == []


def test_the_catalog_checks_catch_what_they_look_for():
    """The checks themselves: each kind of problem is reported."""
    terms = catalogs.glossary()
    catalog = Catalog(locale=ZH)
    cases = {
        "the gradient of {x}": "{y} 的梯度",        # a placeholder lost
        "the gradient, `grad_W`": "渐变，`grad_W`",  # a term translated otherwise, an avoided word
        "shape %(shape)s": "形状 %(shape)s %(more)s",  # Babel's python-format checker
        "untranslated": "",
    }
    found = {}
    for source, translation in cases.items():
        flags = ["python-format"] if "%(" in source else []
        message = catalog.add(source, translation, flags=flags)
        found[source] = " ".join(catalogs.message_problems(message, catalog, terms))
    assert "keeps ['{x}']" in found["the gradient of {x}"]
    assert "'gradient' is '梯度'" in found["the gradient, `grad_W`"]
    assert "'渐变' is not how" in found["the gradient, `grad_W`"]
    assert found["shape %(shape)s"]
    assert found["untranslated"] == "not translated"
    fuzzy = catalog.add("fuzzy one", "模糊", flags=["fuzzy"])
    assert "fuzzy" in " ".join(catalogs.message_problems(fuzzy, catalog, terms))
    # a term inside code is code, not English
    assert catalogs.term_problems("`gradients(X, y)` and linear_backward", "代码", terms) == []


def test_the_glossary_has_the_articles_terms():
    terms = {english: chinese for english, chinese, _ in catalogs.glossary()}
    assert {"gradient": "梯度", "Jacobian": "雅可比矩阵", "cross-entropy": "交叉熵",
            "backpropagation": "反向传播", "learning rate": "学习率", "activation function": "激活函数",
            "mean squared error": "均方误差"}.items() <= terms.items()


def test_a_changed_catalog_counts_at_once_and_an_image_without_babel_reads_the_compiled_one(tmp_path):
    """A .po is compiled on first use (into the cache, by its content); a copy of the kit that has
    only the compiled .mo reads it without Babel."""
    po = i18n.catalog_file(tmp_path, "course", ZH, ".po")
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr "Content-Type: text/plain; charset=utf-8\\n"\n\n'
                  'msgid "hello"\nmsgstr "你好"\n', encoding="utf-8")
    assert i18n.load_catalog(tmp_path, "course", ZH).gettext("hello") == "你好"
    po.write_text(po.read_text(encoding="utf-8").replace("你好", "您好"), encoding="utf-8")
    assert i18n.load_catalog(tmp_path, "course", ZH).gettext("hello") == "您好"
    mo = i18n.catalog_file(tmp_path, "course", ZH, ".mo")
    mo.write_bytes(i18n.compiled(po))
    po.unlink()
    assert i18n.load_catalog(tmp_path, "course", ZH).gettext("hello") == "您好"


# ---------------------------------------------------------------- choosing the language


@pytest.fixture
def course_in(tmp_path, monkeypatch):
    """A copy of the kit's course whose course.toml says `language = LANG`, in use."""

    def _make(language: str) -> Path:
        root = tmp_path / f"course-{language}"
        for part in ("solutions", "course", "exercises"):
            shutil.copytree(ROOT / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
        toml = root / "course" / "course.toml"
        toml.write_text(re.sub(r'(?m)^language = .*$', f'language = "{language}"', toml.read_text()))
        monkeypatch.setenv(courses.ENV, str(root))
        return root

    return _make


@pytest.mark.parametrize(("variables", "expected"), [
    ({"LANG": "zh_CN.UTF-8"}, ZH),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, ZH),
    ({"LC_ALL": "en_GB.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "en"),
    ({"LC_ALL": "C.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),  # C: no language, so the course's
    ({"LANG": "fr_FR.UTF-8"}, "en"),  # one the kit does not have: the course's
    ({i18n.ENV: ZH, "LC_ALL": "en_US.UTF-8"}, ZH),  # --lang first
])
def test_the_language_comes_from_lang_then_the_locale_then_the_course(monkeypatch, variables, expected):
    for name in (i18n.ENV, *i18n.LOCALE_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert i18n.language() == expected


def test_the_course_says_the_language_when_nothing_else_does(monkeypatch, course_in):
    for name in (i18n.ENV, *i18n.LOCALE_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    course_in(ZH)
    assert i18n.language() == ZH
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert i18n.language() == ZH
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert i18n.language() == "en"


def test_an_unknown_language_is_one_line_and_exit_2(capsys):
    assert main(["check", "--lang", "fr", str(ROOT / "exercises")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown language 'fr'" in err and "Traceback" not in err


def test_the_settings_refuse_a_language_the_kit_does_not_have():
    data = {"course": {"modules": list(MODULES), "language": "fr"},
            "tolerance": {d: {"rtol": 0.0, "atol": 0.0} for d in ("float64", "float32")},
            "points": {f: 1.0 for f in FUNCTIONS}}
    with pytest.raises(ConfigError, match=r'course\.language must be one of "en", "zh_CN", not "fr"'):
        validate(data, schema(courses.load(ROOT)), Path("course.toml"))


@pytest.mark.parametrize("verb", ["check", "grade", "release", "gradescope", "nbgrader", "export"])
def test_every_verb_people_read_takes_lang(verb, capsys):
    with pytest.raises(SystemExit):
        main([verb, "--help"])
    assert "--lang LANG" in capsys.readouterr().out


# ---------------------------------------------------------------- stubs and README


def _signatures(source: str) -> list[tuple[str, str]]:
    tree = ast.parse(source)
    return [(node.name, ast.dump(node.args)) for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]


def _code(source: str) -> str:
    """The code of a module without its docstrings and the stub's message."""
    tree = ast.parse(source)
    for owner in [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))]:
        if ast.get_docstring(owner):
            owner.body = owner.body[1:]
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise):
            node.exc = None
    return ast.dump(tree)


@pytest.fixture(scope="module")
def chinese_bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release-zh") / "bundle"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(i18n.ENV, i18n.SOURCE)  # restored after: the command line sets it
        assert main(["release", "--lang", ZH, str(out)]) == 0
    return out


def test_released_chinese_stubs_parse_and_keep_their_names_signatures_and_code(chinese_bundle):
    for module in MODULES:
        english = make_stub((ROOT / "solutions" / f"{module}.py").read_text())
        chinese = (chinese_bundle / "exercises" / f"{module}.py").read_text()
        assert _signatures(chinese) == _signatures(english)
        assert _code(chinese) == _code(english)
        tree = ast.parse(chinese)
        owners = [tree, *(n for n in tree.body if isinstance(n, ast.FunctionDef))]
        assert all(CJK.search(ast.get_docstring(owner)) for owner in owners), module


def test_a_translated_docstring_is_the_translation_exactly():
    source = 'def f(x):\n    """Twice x."""\n    return 2 * x\n'
    tricky = 'x 的两倍：\n\n    "引号" 与 \\n 反斜杠，以及 """ 三引号 "'
    translated = translate_docstrings(source, lambda text: tricky)
    node = ast.parse(translated).body[0]
    assert ast.get_docstring(node) == ast.get_docstring(ast.parse(f"def g():\n    {tricky!r}").body[0])
    assert translated.endswith("    return 2 * x\n")
    assert translate_docstrings(source, lambda text: text) == source


def test_the_chinese_readme_and_settings(chinese_bundle):
    readme = (chinese_bundle / "README.md").read_text()
    assert "## 检查你的代码" in readme and "# 亲手实现神经网络：练习" in readme
    for english in ("## Checking your work", "## The rules", "You need Python", "Hand in your"):
        assert english not in readme
    for module in courses.load(ROOT).modules:
        for function in module.functions:
            assert f"| `{function.name}({', '.join(function.params)})` |" in readme
    assert re.search(r'(?m)^language = "zh_CN"$', (chinese_bundle / "course" / "course.toml").read_text())
    catalogs_shipped = sorted(p.relative_to(chinese_bundle).as_posix()
                              for p in chinese_bundle.rglob("*") if p.suffix in (".po", ".pot", ".mo"))
    assert catalogs_shipped == ["autograder/locale/zh_CN/LC_MESSAGES/messages.mo",
                                "course/locale/zh_CN/LC_MESSAGES/course.mo"]


def test_the_english_release_is_unchanged_by_the_catalogs(tmp_path):
    out = tmp_path / "bundle"
    assert main(["release", "--lang", "en", str(out)]) == 0
    for module in MODULES:
        stub = (out / "exercises" / f"{module}.py").read_text()
        assert stub == (ROOT / "exercises" / f"{module}.py").read_text()
    assert not CJK.search((out / "README.md").read_text())


# ---------------------------------------------------------------- check, grading, reports


def test_check_in_chinese_on_the_stubs(capsys):
    assert main(["check", "--lang", ZH, str(ROOT / "exercises")]) == 1
    out = capsys.readouterr().out
    blocks = re.split(r"(?m)^FAIL  ", out)[1:]
    assert len(blocks) == len(FUNCTIONS)
    assert all(CJK.search(block) for block in blocks), "a function's checks are not in Chinese"


def test_the_examples_score_the_same_in_chinese_and_their_reports_are_chinese(grade, tmp_path):
    """`grade --lang zh_CN` of the example submissions: exactly the English scores, case by case."""
    examples = ROOT / "examples" / "submissions"
    out = tmp_path / "out"
    assert main(["grade", str(examples), "--out", str(out), "--lang", ZH, "--seed", str(SEED),
                 "--no-plots"]) == 0
    with (out / "grades.csv").open() as handle:
        chinese = {row["id"]: row for row in csv.DictReader(handle)}
    assert set(chinese) == {p.name for p in examples.iterdir() if p.is_dir()}
    for name, row in chinese.items():
        english = grade(examples / name)
        assert (float(row["score"]), float(row["max_score"])) == (english.score, english.max_score), name
        page = (out / name / "feedback.html").read_text()
        assert '<html lang="zh-CN">' in page and "各函数得分" in page
        assert "检查" in (out / name / "feedback.md").read_text()
    assert "班级概要" in (out / "summary.html").read_text()


def test_a_report_in_chinese_has_the_same_numbers(monkeypatch):
    from test_report import SETTINGS, showcase_result

    result = showcase_result()
    numbers = re.compile(r"\d+(?:\.\d+)?")
    english = numbers.findall(report.render_feedback_md(result, SETTINGS))
    monkeypatch.setenv(i18n.ENV, ZH)
    page = report.render_feedback_html(result, SETTINGS)
    assert '<html lang="zh-CN">' in page and "各函数得分" in page and "Score per function" not in page
    assert report.plain_summary(result).startswith(f"提交 {result.id}：")
    assert numbers.findall(report.render_feedback_md(result, SETTINGS)) == english


def test_the_gradescope_zip_carries_compiled_catalogs_and_its_language(tmp_path):
    out = tmp_path / "autograder.zip"
    assert main(["gradescope", "--lang", ZH, str(out)]) == 0
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        script = zf.read("run_autograder").decode()
    assert "autograder/locale/zh_CN/LC_MESSAGES/messages.mo" in names
    assert "course/locale/zh_CN/LC_MESSAGES/course.mo" in names
    assert not [n for n in names if n.endswith((".po", ".pot"))]
    assert 'export AUTOGRADER_LANG="zh_CN"' in script
