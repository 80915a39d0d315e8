"""Two languages, one kit: the catalogs are complete and consistent, the language is chosen as
documented, and Chinese stubs, README, checks and reports say the same as the English ones,
scores included."""

from __future__ import annotations

import ast
import csv
import json
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


def test_what_is_left_to_mark_is_listed(tmp_path):
    """tools/i18n.sh lists the string literals people would read that no N_() or _() marks: not the
    marked ones, docstrings, code, a planted mistake's edits, or single words; nor what only a course's
    author reads (the names of the planted mistakes and of what the examples plant, an error of a case
    written wrong)."""
    source = tmp_path / "hidden.py"
    source.write_text('''"""Module docstring with several words."""
from autograder.i18n import N_, gettext
LABELS = ["batch of one, K=4", N_("logits of +-1000"), "float32", "z = x @ W.T + b", f"rtol={r}, atol={a}"]
HINT = f"d{key} is m times too large"
PLANTED = {"dW transposed": Planted("f", (("return x.T @ g", "return g @ x"),), "is transposed here")}
EXAMPLES = {"bob_buggy": ("dW transposed", "loss recorded after the step")}
def test(student):
    """the gradient of the loss"""
    if student is None:
        raise TypeError("a case needs a student")
    raise ValueError(gettext("expected a tuple"))
''')
    found = sorted(catalogs.left_to_mark(source))
    assert found == [(3, "batch of one, K=4"), (4, "d{} is m times too large")]


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


EXAMPLES = ROOT / "examples" / "submissions"


@pytest.fixture(scope="module")
def graded_in_chinese(tmp_path_factory) -> Path:
    """`grade --lang zh_CN` of the example submissions: the folder it writes."""
    out = tmp_path_factory.mktemp("grade-zh") / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(i18n.ENV, i18n.SOURCE)  # restored after: the command line sets it
        assert main(["grade", str(EXAMPLES), "--out", str(out), "--lang", ZH, "--seed", str(SEED),
                     "--no-plots"]) == 0
    return out


def test_the_examples_score_the_same_in_chinese_and_their_reports_are_chinese(grade, graded_in_chinese):
    """`grade --lang zh_CN` of the example submissions: exactly the English scores, case by case."""
    examples, out = EXAMPLES, graded_in_chinese
    with (out / "grades.csv").open() as handle:
        chinese = {row["id"]: row for row in csv.DictReader(handle)}
    assert set(chinese) == {p.name for p in examples.iterdir() if p.is_dir()}
    for name, row in chinese.items():
        english = grade(examples / name)
        assert (float(row["score"]), float(row["max_score"])) == (english.score, english.max_score), name
        tests = json.loads((out / name / "results.json").read_text())["tests"]
        assert [(t["tags"], t["score"], t["max_score"]) for t in tests] == [
            ([c.function], c.score, c.max_score) for c in english.cases], name
        page = (out / name / "feedback.html").read_text()
        assert '<html lang="zh-CN">' in page and "各函数得分" in page
        assert "检查" in (out / name / "feedback.md").read_text()
    assert "班级概要" in (out / "summary.html").read_text()


#: Code a Chinese text keeps: names with _ or ., names given a value, derivatives, numbers and dtypes.
CODE = re.compile(r"`[^`]*`|\b\w+(?:[._]\w+)+\b|\b\w+ ?= ?\S+|\bd\w+/d\w+|\d\S*|float(?:32|64)")


def _english(text: str) -> list[str]:
    """The English words of `text` outside code and KEPT_WORDS."""
    return [w for w in re.findall(r"[A-Za-z]{2,}", CODE.sub(" ", text)) if w not in KEPT_WORDS]


def test_a_hidden_failure_on_drawn_inputs_is_chinese(graded_in_chinese):
    """bob_buggy's dL/dW is transposed, which every drawn layer with one input feature shows: graded in
    Chinese, the hidden case names that kind of input, what it checks and the likely mistake in Chinese
    (results.json, the text a student reads on Gradescope), and the report's table names the kind."""
    tests = json.loads((graded_in_chinese / "bob_buggy" / "results.json").read_text())["tests"]
    [drawn] = [t for t in tests if t["tags"] == ["linear.linear_backward"] and "n_in = 1" in t["name"]]
    label = "随机抽取的输入，只有一个输入特征，n_in = 1（linear.linear_backward）"
    assert drawn["status"] == "failed" and drawn["name"] == f"linear.linear_backward: {label}"
    head, hint = drawn["output"].splitlines()
    assert head.startswith("隐藏检查未通过：") and f"（{label}）" in head and "torch" in head
    assert hint.startswith("可能的错误：dL/dW 被转置了")
    assert not _english(drawn["output"]), drawn["output"]
    page = (graded_in_chinese / "bob_buggy" / "feedback.html").read_text()
    assert label in page and "drawn inputs" not in page and "edge input" not in page


def test_the_hints_of_several_matching_mistakes_are_joined_in_chinese(chinese, grade, make_submission):
    """mse_prime without its mean, on a batch of one, is also mse_prime divided by the rows: each hint
    in Chinese, and the words that join them too, in the student's report and in the class summary's
    list of mistakes."""
    from test_report import SETTINGS

    without_mean = ("return 2 * (y_hat - y) / y_hat.size", "return 2 * (y_hat - y)")
    result = grade(make_submission(losses=[without_mean]))
    hints = {c.shown().hint for c in result.cases if c.function == "losses.mse_prime" and not c.passed}
    joined = "梯度大了 N 倍：忘了平均值中的 1/N；或者：梯度除以的是行数"
    assert any(hint.startswith(joined) for hint in hints) and not any(map(_english, hints)), hints
    assert joined in report.render_feedback_md(result, SETTINGS)
    assert joined in report.render_summary_html([result], SETTINGS)


def test_a_report_in_chinese_has_the_same_numbers(monkeypatch):
    from test_report import SETTINGS, showcase_result

    result = showcase_result()
    numbers = re.compile(r"\d+(?:\.\d+)?")
    english = sorted(numbers.findall(report.render_feedback_md(result, SETTINGS)))  # in Chinese's order
    monkeypatch.setenv(i18n.ENV, ZH)
    page = report.render_feedback_html(result, SETTINGS)
    assert '<html lang="zh-CN">' in page and "各函数得分" in page and "Score per function" not in page
    assert report.plain_summary(result, SETTINGS).startswith(f"提交 {result.id}：")
    assert sorted(numbers.findall(report.render_feedback_md(result, SETTINGS))) == english


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


def test_the_prairielearn_image_carries_compiled_catalogs_and_its_language(tmp_path):
    """As the Gradescope zip: the image grades in the language it was written with, whatever
    the container's locale."""
    out = tmp_path / "image"
    assert main(["prairielearn", "--lang", ZH, str(out)]) == 0
    assert (out / "autograder/locale/zh_CN/LC_MESSAGES/messages.mo").is_file()
    assert 'export AUTOGRADER_LANG="zh_CN"' in (out / "grade.sh").read_text(encoding="utf-8")


# ---------------------------------------------------------------- the cause-first reports, part by part


@pytest.fixture
def chinese(monkeypatch):
    monkeypatch.setenv(i18n.ENV, ZH)


def test_the_start_here_box_is_chinese(chinese):
    from test_feedback_cause import renders
    from test_report import hinted_failure

    for name, text in renders(hinted_failure()).items():
        assert "从这里开始" in text and "Start here" not in text, name
        box = text.split("从这里开始", 1)[1]
        assert "linear.linear_backward" in box and "返回值的形状不对" in box, name
        assert "可能的错误" in box and "Likely mistake" not in text, name
        assert "wrong shape" not in text and "check:" not in text.lower(), name


def test_a_knock_on_sentence_is_chinese(chinese):
    from test_feedback_cause import flat, knock_on, renders

    credited = ("xor.gradients 在辅助函数正确时是对的；用你的辅助函数时它未通过，"
                "因为 activations.sigmoid_prime 有错")
    too = "即使辅助函数正确也是错的（而且 activations.sigmoid_prime 有错）"
    texts = renders(knock_on())
    for name in ("html", "md"):
        assert credited in flat(texts[name]) and too in flat(texts[name]), name
    breaks = "因为它，你的 xor.gradients 也未通过，尽管在辅助函数正确时是对的。"
    assert all(breaks in flat(text) for text in texts.values())
    assert not any("right given correct helpers" in text for text in texts.values())


def test_the_root_causes_of_the_class_summary_are_chinese(chinese):
    from test_feedback_cause import import_problem, knock_on, replace_cases, stub, summary_of
    from test_report import SETTINGS, full_marks

    timed_out = replace_cases(full_marks(), "xor.train", passed=False, kind="timeout", message="took 1 s")
    timed_out.id = "tim"
    results = [stub(), import_problem(), knock_on(), timed_out]
    rows = [" ".join(row.split()) for row in summary_of(results).rows]
    starts = {"linear.py 尚未开始（其中的函数仍然抛出 NotImplementedError）": "carl",
              "losses.py 无法使用（见下方的文件）": "dave",
              "activations.sigmoid_prime 有错，调用它的函数也因此未通过": "kim",
              "xor.train：调用耗时过长": "tim"}
    for start, student in starts.items():
        row = next((r for r in rows if r.startswith(start)), "")
        assert student in row, start
    assert any("该文件的每个函数" in r for r in rows)
    page = report.render_summary_html(results, SETTINGS)
    assert "失败从哪里开始" in page and "Where failures start" not in page and "every function of" not in page


def test_check_in_chinese_on_a_buggy_submission(capsys, monkeypatch):
    """bob_buggy's check: its hints and explanations in Chinese, wrapped to the terminal's columns (a
    Chinese character takes two)."""
    from autograder.text import columns

    monkeypatch.setenv("COLUMNS", "60")
    assert main(["check", "--lang", ZH, str(ROOT / "examples" / "submissions" / "bob_buggy")]) == 1
    out = capsys.readouterr().out
    assert max(columns(line) for line in out.splitlines()) <= 60
    block = re.split(r"(?m)^(?:PASS|FAIL)  ", out)[2]
    assert block.startswith("linear.linear_backward") and "可能的错误：dL/dW 被转置了" in block
    assert "项公开检查通过" in out and "项检查" in out.splitlines()[0]
    for english in ("likely mistake", "checks", "expected shape", "public checks pass"):
        assert english not in out


def test_the_childs_failures_are_worded_by_the_grader(chinese, grade, make_submission):
    """A syntax error, found in the sandboxed child: the child sends a key and the values, and the
    grader words them in the language in use (the file's problem, its cases' messages)."""
    result = grade(make_submission("broken", losses=[("def mse(", "def mse(:")]))
    assert "losses.py 无法解析：" in result.problems["losses"]
    messages = {c.message for c in result.cases if c.function.startswith("losses.")}
    assert all(m.startswith("losses.py 无法使用：losses.py 无法解析") for m in messages), messages


def test_a_failure_text_from_the_child_is_a_known_key_with_values():
    from autograder.sandbox.protocol import Failure, ProtocolError

    sent = Failure.worded("missing", "no_function", module="linear", name="linear")
    assert sent.message == "linear.py defines no function linear"
    received = Failure.from_wire(sent.to_wire())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(i18n.ENV, ZH)
        assert received.said() == "linear.py 没有定义函数 linear"
    assert received.said() == sent.message
    with pytest.raises(ProtocolError):
        Failure.from_wire({**sent.to_wire(), "text": "made_up"})
    with pytest.raises(ProtocolError):
        Failure.from_wire({**sent.to_wire(), "values": {"module": 3}})


def test_intake_words_its_notes_in_chinese_and_still_merges_a_rejected_zip(chinese, tmp_path):
    from test_intake import rejected_zip_with_loose_file

    sub = rejected_zip_with_loose_file(tmp_path)
    assert all(p.startswith("zip 被拒绝：") for p in sub.problems.values())
    assert any(n.startswith("已忽略 hw.zip：zip 被拒绝") for n in sub.notes)


#: Latin words a Chinese report may show: names of tools (hypothesis draws the hidden inputs), of Python's
#: own things and of the sandbox's layers, "ID", and the values of a dtype.
KEPT_WORDS = {"NumPy", "torch", "hypothesis", "Traceback", "NotImplementedError", "dtype", "Dtype", "ID",
              "bool", "inf", "landlock", "user", "pid", "net", "namespaces", "rlimits"}


def _chinese_fields(result):
    """`result` with every text that comes from the course or the student in Chinese or code, so that
    any English left in its reports is the kit's own."""
    for case in result.cases:
        case.label, case.checked = "m=4", "检查内容"
        if not case.passed:
            case.message = "出错的值"
            case.details = {**case.details, **({"hint": "提示"} if case.details.get("hint") else {})}
            if case.details.get("detail"):
                case.details["detail"] = "xor.py:1"
        if case.details.get("with_yours"):
            case.details["with_yours"] = {"kind": "shape", "message": "形状"}
    result.problems = {module: "无法解析" for module in result.problems}
    result.notes = ["说明" for _ in result.notes]
    result.meta = {key: "某人" for key in result.meta}
    result.output = "打印" if result.output else ""
    return result


def test_a_chinese_report_has_no_english_of_its_own(chinese):
    """Every text the kit itself writes into feedback.html, feedback.md, summary.txt and
    summary.html is translated: what is left in Latin letters is code, numbers or a kept name."""
    from test_feedback_cause import import_problem, knock_on, replace_cases, stub
    from test_report import SETTINGS, grading_error, showcase_result, text_of

    timed_out = replace_cases(knock_on(), "xor.train", passed=False, kind="timeout", message="took 1 s")
    results = [_chinese_fields(r) for r in (showcase_result(), import_problem(), stub(), timed_out)]
    error = grading_error()
    error.error = "沙箱无法启动"
    texts = [report.plain_summary(error, SETTINGS), text_of(report.render_feedback_html(error, SETTINGS))]
    for result in results:
        texts += [text_of(report.render_feedback_html(result, SETTINGS)),
                  report.render_feedback_md(result, SETTINGS), report.plain_summary(result, SETTINGS)]
    texts.append(text_of(report.render_summary_html([*results, error], SETTINGS)))
    code = re.compile(r"`[^`]*`|\b\w+(?:[._]\w+)+\b|\w+\.py\b|\b[a-z]+=\S+|\d\S*")
    ids = {r.id for r in [*results, error]}
    english = {word for text in texts
               for word in re.findall(r"[A-Za-z]{2,}", code.sub(" ", text.replace("\\", "")))}
    left = sorted(english - KEPT_WORDS - ids)
    assert not left, " ".join(left)


def test_a_check_named_by_what_it_checks_says_it_once(chinese):
    """A public case without inputs of its own is labelled by what it checks: its plain text (results.json,
    nbgrader) says that once, in either language."""
    from autograder.results import CaseResult

    checked = "relu([-2, 0, 3]) = [0, 0, 3]"
    case = CaseResult("activations.relu", checked, checked, 0.0, 1.0, False, False, kind="value")
    assert case.student_text().splitlines()[0] == f"未通过：{checked}：返回值错误。"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(i18n.ENV, i18n.SOURCE)
        assert case.student_text() == f"Failed: {checked}: the returned value is wrong."
