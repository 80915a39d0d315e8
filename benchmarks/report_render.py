"""Time to render one student's feedback (feedback.html and feedback.md), per language.

    python benchmarks/report_render.py [--runs 200]

Grades the example submissions (examples/submissions/) once with the public and hidden
cases, then renders each one's feedback.html and feedback.md `--runs` times in every
language of the kit, and prints the median time per page pair (HTML + Markdown) for each
submission and over all of them. Only the rendering is timed, not the grading nor writing
the files. The first pass of the translation measured ~3.2 ms per page pair.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from autograder import course as courses
from autograder import i18n, intake, report, runner
from autograder.config import load
from autograder.results import SubmissionResult
from autograder.sandbox.session import Sandbox

SEED = 20261122


def graded_examples() -> list[SubmissionResult]:
    """The example submissions, graded in English (scores do not depend on the language)."""
    folder = courses.load().root / "examples" / "submissions"
    settings = load()
    suite = runner.Suite.prepare(("public", "hidden"), settings, SEED)
    with Sandbox() as sandbox:
        return [runner.grade_submission(intake.load_one(path), suite, sandbox, settings)
                for path in sorted(folder.iterdir()) if path.is_dir()]


def median_ms(result: SubmissionResult, runs: int) -> float:
    """The median time, in ms, of rendering `result`'s feedback.html and feedback.md once."""
    settings = load()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        report.render_feedback_html(result, settings)
        report.render_feedback_md(result, settings)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    os.environ[i18n.ENV] = i18n.SOURCE
    results = graded_examples()
    report.warm()
    for language in i18n.LANGUAGES:
        os.environ[i18n.ENV] = language
        medians = {r.id: median_ms(r, args.runs) for r in results}
        shown = ", ".join(f"{name} {ms:.2f}" for name, ms in medians.items())
        print(f"{language}: {statistics.fmean(medians.values()):.2f} ms per feedback (HTML + MD), "
              f"mean of the medians; {shown}")


if __name__ == "__main__":
    main()
