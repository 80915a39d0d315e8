"""The rendered reports in a real browser: headless Chromium, driven over the DevTools protocol.

Chromium is started with ``--remote-debugging-pipe`` (commands on fd 3, replies
on fd 4, NUL-separated JSON), so a few lines of stdlib replace a browser driver.
Each page must load with no request other than file: and data: URLs, no failed
request, no console error and every image decoded. Screenshots and the pages go
to tests/artifacts/ for a human to look at.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
import select
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_report import (
    SETTINGS,
    grading_error,
    hidden_failure,
    import_problem,
    showcase_plots,
    showcase_result,
)

from autograder import i18n, report

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WIDTH, HEIGHT = 1200, 2000
TIMEOUT = 30.0
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         "--mute-audio", "--enable-logging=stderr", "--v=0", f"--window-size={WIDTH},{HEIGHT}",
         "--remote-debugging-pipe"]
# Run Chromium with our stdin as its fd 3 (commands) and our stdout as its fd 4 (replies).
PIPE_SHIM = 'exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>&2'
LOCAL_SCHEMES = ("file:", "data:", "about:")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason=f"{CHROMIUM} is absent: install the `chromium` apt package")


class Browser:
    """Headless Chromium and one DevTools session per page load."""

    def __init__(self, profile: Path) -> None:
        self.log = profile.with_suffix(".log")
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                ["/bin/sh", "-c", PIPE_SHIM, str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
            )
        self.buffer = b""
        self.events: list[dict[str, Any]] = []
        self.last_id = 0

    def close(self) -> None:
        """Ask Chromium to quit; kill it if it does not."""
        try:
            self.send("Browser.close")
        except (OSError, RuntimeError, TimeoutError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Run one DevTools command and return its result; events seen meanwhile are kept."""
        self.last_id += 1
        message = {"id": self.last_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.process.stdin.write(json.dumps(message).encode() + b"\0")
        self.process.stdin.flush()
        while True:
            reply = self._receive()
            if reply.get("id") != self.last_id:
                self.events.append(reply)
            elif "error" in reply:
                raise RuntimeError(f"{method}: {reply['error']}")
            else:
                return reply.get("result", {})

    def wait_for(self, method: str, session: str) -> dict:
        """The first event `method` of `session`, waiting for it if needed."""
        while True:
            for event in self.events:
                if event.get("method") == method and event.get("sessionId") == session:
                    return event
            self.events.append(self._receive())

    def _receive(self) -> dict:
        """The next NUL-terminated message from fd 4, within TIMEOUT seconds."""
        deadline = time.monotonic() + TIMEOUT
        fd = self.process.stdout.fileno()
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError(f"no reply from Chromium; its log: {self.log}")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise RuntimeError(f"Chromium exited; its log:\n{self.log.read_text()[-3000:]}")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def open(self, page: Path, width: int = WIDTH) -> Page:
        """Load `page` in a new tab `width` pixels wide and wait for its load event."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False}, session)
        self.send("Page.navigate", {"url": page.as_uri()}, session)
        self.wait_for("Page.loadEventFired", session)
        return Page(self, session)


class Page:
    """A loaded page: what happened while loading, script evaluation, screenshots."""

    def __init__(self, browser: Browser, session: str) -> None:
        self.browser, self.session = browser, session

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (promises awaited)."""
        reply = self.browser.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                       "returnByValue": True}, self.session)
        return reply["result"].get("value")

    def problems(self) -> list[str]:
        """Failed or non-local requests, console errors, uncaught exceptions, error log entries."""
        found = []
        for event in self.browser.events:
            if event.get("sessionId") == self.session:
                found += _problem(event.get("method", ""), event.get("params", {}))
        return found

    def missing_glyphs(self) -> dict[str, list[str]]:
        """Each character of the page's rendered text that no font Chromium drew its element with
        has (a missing glyph: drawn as an empty box), with the fonts it used there. The fonts come
        from Chromium itself (CSS.getPlatformFontsForNode), what they cover from their files."""
        self.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        for domain in ("DOM", "CSS"):
            self.browser.send(f"{domain}.enable", session=self.session)
        root = self.browser.send("DOM.getDocument", {"depth": -1}, self.session)["root"]
        coverage = font_coverage()
        missing: dict[str, list[str]] = {}
        for node, text in _text_owners(root):
            fonts = [f["familyName"] for f in self.browser.send(
                "CSS.getPlatformFontsForNode", {"nodeId": node}, self.session)["fonts"]]
            if not fonts:  # not rendered (display: none)
                continue
            covered = set().union(*(coverage.get(family, set()) for family in fonts))
            for char in set(re.sub(r"\s", "", text)) - {"\u00ad"}:
                if ord(char) not in covered:
                    missing.setdefault(char, sorted(fonts))
        return missing

    def screenshot(self, path: Path) -> int:
        """Save a PNG of the whole page; returns the page height in CSS pixels."""
        size = self.browser.send("Page.getLayoutMetrics", session=self.session)["cssContentSize"]
        height = int(size["height"])
        clip = {"x": 0, "y": 0, "width": int(size["width"]), "height": height, "scale": 1}
        data = self.browser.send("Page.captureScreenshot", {"format": "png", "clip": clip,
                                                            "captureBeyondViewport": True}, self.session)
        path.write_bytes(base64.b64decode(data["data"]))
        return height


SKIPPED_ELEMENTS = {"HEAD", "STYLE", "SCRIPT", "TITLE"}


def _text_owners(node: dict) -> Iterator[tuple[int, str]]:
    """(element id, its own text) of every element of the DOM tree `node` that holds text."""
    if node.get("nodeName") in SKIPPED_ELEMENTS:
        return
    children = node.get("children", [])
    text = "".join(c.get("nodeValue", "") for c in children if c.get("nodeType") == 3)
    if node.get("nodeType") == 1 and text.strip():
        yield node["nodeId"], text
    for child in children:
        yield from _text_owners(child)


@functools.cache
def font_coverage() -> dict[str, set[int]]:
    """The code points each installed font family has a glyph for (fontconfig's list, the fonts'
    cmap tables read with fontTools)."""
    from fontTools.ttLib import TTFont

    listed = subprocess.run(["fc-list", "--format", "%{family}\t%{file}\t%{index}\n"], capture_output=True,
                            text=True, check=True).stdout
    coverage: dict[str, set[int]] = {}
    for line in listed.splitlines():
        families, path, index = line.split("\t")
        try:
            with TTFont(path, fontNumber=int(index or 0), lazy=True) as font:
                points = set(font.getBestCmap() or {})
        except Exception:  # noqa: BLE001 - a font fontTools cannot read covers nothing here
            continue
        for family in families.split(","):
            coverage.setdefault(family.strip(), set()).update(points)
    return coverage


def _problem(method: str, params: dict) -> list[str]:
    """What is wrong with one DevTools event, if anything."""
    if method == "Network.requestWillBeSent" and not params["request"]["url"].startswith(LOCAL_SCHEMES):
        return [f"request to {params['request']['url']}"]
    if method == "Network.loadingFailed":
        return [f"failed request: {params.get('errorText')} {params.get('blockedReason') or ''}"]
    if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
        return [f"console error: {[a.get('value') for a in params.get('args', [])]}"]
    if method == "Runtime.exceptionThrown":
        return [f"exception: {params['exceptionDetails'].get('text')}"]
    if method == "Log.entryAdded" and params["entry"].get("level") == "error":
        return [f"log error: {params['entry'].get('text')}"]
    return []


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    chromium = Browser(tmp_path_factory.mktemp("chromium") / "profile")
    try:
        yield chromium
    finally:
        chromium.close()


def _write(name: str, text: str) -> Path:
    """Save a page under tests/artifacts/ (gitignored) for the browser and for people."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    path.write_text(text, encoding="utf-8")
    return path


def _feedback_page() -> Path:
    """The showcase feedback, with plots."""
    html = report.render_feedback_html(showcase_result(), SETTINGS, showcase_plots())
    return _write("feedback.html", html)


def _summary_page() -> Path:
    """A class summary of four submissions, one that could not be graded."""
    results = [showcase_result(), hidden_failure(), import_problem(), grading_error()]
    return _write("summary.html", report.render_summary_html(results, SETTINGS))


# JavaScript: every image decoded to a non-empty bitmap.
IMAGES_DECODED = ("Promise.all([...document.images].map("
                  "i => i.decode().then(() => i.naturalWidth > 0, () => false)))")
NO_HORIZONTAL_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def test_feedback_loads_cleanly(browser: Browser) -> None:
    page = browser.open(_feedback_page())
    assert page.evaluate(IMAGES_DECODED) == [True, True, True]
    assert page.problems() == []
    assert page.evaluate("document.querySelectorAll('h1').length") == 1
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.evaluate("[...document.querySelectorAll('details')].every(d => !d.open)")
    assert page.evaluate(NO_HORIZONTAL_SCROLL)
    assert page.screenshot(ARTIFACTS / "feedback.png") > HEIGHT / 2


@pytest.mark.parametrize("make", [hidden_failure, import_problem, grading_error])
def test_other_feedback_loads_cleanly(browser: Browser, make) -> None:
    page = browser.open(_write(f"feedback-{make.__name__}.html",
                               report.render_feedback_html(make(), SETTINGS)))
    assert page.problems() == []


def test_summary_loads_cleanly(browser: Browser) -> None:
    page = browser.open(_summary_page())
    assert page.problems() == []
    assert page.evaluate(NO_HORIZONTAL_SCROLL)
    page.screenshot(ARTIFACTS / "summary.png")


@pytest.mark.parametrize("make", [_feedback_page, _summary_page])
def test_pages_fit_a_phone(browser: Browser, make) -> None:
    """No sideways scrolling 390 px wide."""
    path = make()
    page = browser.open(path, width=390)
    assert page.problems() == []
    assert page.evaluate(NO_HORIZONTAL_SCROLL)
    page.screenshot(ARTIFACTS / f"{path.stem}-phone.png")


#: CSS pixels of a laptop's first screen: what a student sees before scrolling.
FIRST_SCREEN = 900
#: JavaScript: where the first element showing the text %r ends, in CSS pixels from the top.
BOTTOM_OF = ("(() => {{ const all = [...document.querySelectorAll('.hint, .start li')]"
             ".filter(e => e.offsetParent !== null && e.textContent.includes({!r}));"
             " return all.length ? all[0].getBoundingClientRect().bottom + window.scrollY : null; }})()")


def test_one_failure_puts_its_hint_on_the_first_screen(browser: Browser, grade, make_submission) -> None:
    """A submission with one wrong function (relu'(0) = 1): its hint is seen without scrolling."""
    result = grade(make_submission(activations=[("return (z > 0)", "return (z >= 0)")]))
    assert [f for f, (s, m) in result.function_scores().items() if s < m] == ["activations.relu_prime"]
    hint = next(c.details["hint"] for c in result.cases if not c.passed and c.details.get("hint"))
    page = browser.open(_write("feedback-one-failure.html", report.render_feedback_html(result, SETTINGS)))
    bottom = page.evaluate(BOTTOM_OF.format(hint[:40]))
    height = page.screenshot(ARTIFACTS / "feedback-one-failure.png")
    print(f"one-failure feedback: page {height} px high, its hint ends at {bottom} px")
    assert bottom is not None and bottom <= FIRST_SCREEN, f"the hint ends at {bottom} px of {height}"


def test_chinese_feedback_declares_its_language_and_misses_no_glyph(browser: Browser, monkeypatch) -> None:
    """A zh_CN report rendered with the fonts the project's set-up installs (tools/install.sh
    --test: fonts-wqy-microhei): every character has a glyph in a font Chromium drew it with."""
    monkeypatch.setenv(i18n.ENV, "zh_CN")
    for name, html in (("feedback-zh_CN.html", report.render_feedback_html(showcase_result(), SETTINGS,
                                                                            showcase_plots())),
                       ("summary-zh_CN.html", report.render_summary_html(
                           [showcase_result(), hidden_failure(), grading_error()], SETTINGS))):
        page = browser.open(_write(name, html))
        assert page.problems() == []
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        assert re.search(r"[\u4e00-\u9fff]", page.evaluate("document.body.innerText"))
        assert page.missing_glyphs() == {}, "characters drawn as empty boxes (is a CJK font installed?)"
        page.screenshot(ARTIFACTS / name.replace(".html", ".png"))


def test_the_glyph_check_finds_a_missing_glyph(browser: Browser) -> None:
    """The harness itself: a character no installed font has (a Mayan numeral) is reported."""
    page = browser.open(_write("tofu.html", '<!DOCTYPE html><html lang="zh-CN"><meta charset="utf-8">'
                                            "<title>tofu</title><p>梯度 \U0001d2e0</p></html>"))
    missing = page.missing_glyphs()
    assert list(missing) == ["\U0001d2e0"]


def test_the_checks_catch_requests_and_console_errors(browser: Browser) -> None:
    """The harness itself: a page that breaks the rules is caught."""
    bad = ('<!DOCTYPE html><html lang="en"><title>bad</title><img src="http://127.0.0.1:9/x.png" alt="x">'
           '<script>console.error("boom")</script></html>')
    problems = browser.open(_write("bad.html", bad)).problems()
    assert any("request to http://127.0.0.1:9/x.png" in p for p in problems)
    assert any("boom" in p for p in problems)
