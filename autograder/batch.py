"""Grade many submissions: the suite prepared once, parallel workers, each result written as it comes.

The parent process imports torch once (through the hidden cases), computes every
expected value and records the cases' calls (`Suite`), then forks `jobs` workers.
Each worker owns one zygote and grades one submission at a time, each in a fresh
sandboxed child, and writes that submission's files atomically.

The parent hands out one submission at a time and knows which one each worker
holds. A worker that dies (the kernel killed it, say) costs only that submission:
the worker is replaced, the submission tried once more on the new one, and if
that worker dies too, the submission is recorded as "could not be graded".
Nobody else's result is touched.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from autograder import callplan, figures, outputs, report, runner
from autograder import course as courses
from autograder.config import Settings
from autograder.i18n import gettext, pinned
from autograder.intake import Submission
from autograder.results import SubmissionResult, sync_to_disk
from autograder.sandbox import namespaces
from autograder.sandbox.confine import Limits
from autograder.sandbox.session import Policy, Sandbox

#: How many times a submission is given to a worker before it is recorded as not gradable.
ATTEMPTS = 2


@dataclass
class _WorkerState:
    suite: runner.Suite
    settings: Settings
    policy: Policy
    out: Path
    plots: bool = True
    sandbox: Sandbox | None = None


_STATE: _WorkerState | None = None


def prepare_suite(settings: Settings, seed: int | None = None) -> runner.Suite:
    """The hidden and public cases, their points, their calls recorded against the oracle, and
    the functions whose calls the course's figures draw."""
    suite = runner.Suite.prepare(("public", "hidden"), settings, seed)
    return replace(suite, plan=plan_calls(list(suite.cases), settings),
                   recorded=figures.recorded(courses.load()))


def plan_calls(cases: list[runner.GradedCase], settings: Settings) -> runner.Plan:
    """The calls the cases make, recorded once per run against the course's torch oracle (see
    `callplan`)."""
    return callplan.record([case.run for case in cases], settings, courses.load().oracle)


def policy_from(settings: Settings, require: bool) -> Policy:
    limits = Limits(**{k: v for k, v in settings.limits.items() if k != "tmpfs_mb"})
    return Policy(limits=limits, require=require, tmpfs_mb=settings.limits.get("tmpfs_mb", 64))


# --------------------------------------------------------------------------- in a worker


def _worker_main(conn: multiprocessing.connection.Connection, slot: int, parent: int) -> None:
    """A worker: die with the grader, own a sandbox with a uid of its own, and grade what the
    parent sends, one submission at a time, until it sends None."""
    state = _STATE
    assert state is not None
    namespaces.set_pdeathsig(signal.SIGKILL)
    if os.getppid() != parent:  # the grader died before the line above took effect
        os._exit(1)
    _pin_to_one_cpu(slot)
    with Sandbox(state.policy, slot=slot, run_id=parent) as sandbox:
        state.sandbox = sandbox
        while (submission := conn.recv()) is not None:
            conn.send(_grade_one(submission))


def _pin_to_one_cpu(slot: int) -> None:
    """Keep a worker and its sandboxed children on one CPU.

    A worker and its child take turns (call, answer, call...), never run at once;
    on one CPU each hand-over skips a cross-CPU wake-up, which roughly halves the
    round trip of a call (measured: about 300 us free, 160-220 us pinned).
    """
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[slot % len(cpus)]})


@pinned()  # grading, plots and reports look the language up once
def _grade_one(submission: Submission) -> SubmissionResult:
    """In a worker: grade one submission and write its files. A fault of the grader itself
    (an exception here, OUT that cannot be written) makes it "could not be graded"."""
    state = _STATE
    assert state is not None and state.sandbox is not None
    try:
        record: dict = {}
        result = runner.grade_submission(submission, state.suite, state.sandbox, state.settings, record)
        plots = figures.report_plots(record, courses.load()) if state.plots else {}
    except Exception as exc:  # noqa: BLE001 - a grader bug must cost this submission only
        traceback.print_exc(file=sys.stderr)
        why = gettext("internal error of the grader: {error}").format(error=f"{type(exc).__name__}: {exc}")
        result = not_graded(submission, why, state.suite)
        plots = {}
    return write(state.out, result, state.settings, plots)


def write(out: Path, result: SubmissionResult, settings: Settings,
          plots: dict[str, str] | None = None) -> SubmissionResult:
    """Write a submission's files; if OUT cannot take them, the result says so (not written)."""
    try:
        outputs.write_submission(out, result, settings, plots)
    except OSError as exc:
        text = gettext("could not write {folder}: {why}")
        why = text.format(folder=out / result.id, why=exc.strerror or exc)
        return replace(result, status="error", error=why, unwritten=True)
    return result


def not_graded(submission: Submission, error: str, suite: runner.Suite) -> SubmissionResult:
    """The result of a submission the grader could not grade, for a reason not the student's."""
    return SubmissionResult(submission.id, notes=list(submission.notes), meta=dict(submission.meta),
                            status="error", error=error, seed=suite.seed, digest=suite.digest(submission))


# --------------------------------------------------------------------------- the parent


@dataclass
class _Worker:
    """A worker process, the parent's end of its pipe, and the submission it is grading."""

    slot: int
    process: multiprocessing.process.BaseProcess
    conn: multiprocessing.connection.Connection
    holding: Submission | None = None


class Pool:
    """`jobs` forked workers, each given one submission at a time; a dead one is replaced."""

    def __init__(self, jobs: int) -> None:
        self.context = multiprocessing.get_context("fork")
        self.workers = [self._start(slot) for slot in range(jobs)]

    def _start(self, slot: int) -> _Worker:
        ours, theirs = self.context.Pipe()
        process = self.context.Process(target=_worker_main, args=(theirs, slot, os.getpid()), daemon=True)
        process.start()
        theirs.close()
        return _Worker(slot, process, ours)

    def grade(self, submissions: list[Submission]) -> Iterator[tuple[Submission, SubmissionResult | None]]:
        """Each submission with its result, as they finish; None when its worker died."""
        queue = list(reversed(submissions))
        while queue or any(w.holding for w in self.workers):
            for worker in self.workers:
                if worker.holding is None and queue:
                    worker.holding = queue.pop()
                    worker.conn.send(worker.holding)
            busy = [w for w in self.workers if w.holding is not None]
            waited = [w.conn for w in busy] + [w.process.sentinel for w in busy]
            ready = multiprocessing.connection.wait(waited)
            for worker in busy:
                if worker.conn in ready or worker.process.sentinel in ready:
                    yield worker.holding, self._answer(worker)

    def _answer(self, worker: _Worker) -> SubmissionResult | None:
        """The worker's result, or None (and a new worker in its place) if it died."""
        worker.holding = None
        try:
            return worker.conn.recv()
        except (EOFError, OSError):
            worker.process.join(1)
            worker.conn.close()
            self.workers[self.workers.index(worker)] = self._start(worker.slot)
            return None

    def close(self) -> None:
        for worker in self.workers:
            try:
                worker.conn.send(None)
            except OSError:
                pass
        for worker in self.workers:
            worker.process.join(10)
            if worker.process.is_alive():
                worker.process.kill()


def grade_all(submissions: list[Submission], out: Path, settings: Settings, *, suite: runner.Suite,
              jobs: int, require_sandbox: bool, on_result: Callable[[SubmissionResult], None],
              plots: bool = True) -> list[SubmissionResult]:
    """Grade `submissions` against `suite` (`prepare_suite`) into `out` with `jobs` workers; call
    on_result as each finishes."""
    global _STATE
    _STATE = _WorkerState(suite, settings, policy_from(settings, require_sandbox), out, plots)
    report.warm()  # what every worker needs, done once before they fork
    # Everything made so far (torch, the suite) lives as long as the run: out of the collector's
    # sight, a full collection in a worker neither walks it nor copies its pages (fork shares them)
    gc.freeze()
    results: list[SubmissionResult] = []
    attempts: dict[str, int] = {}
    pending = list(submissions)
    pool = Pool(min(jobs, max(1, len(submissions))))
    try:
        while pending:
            retry = []
            for submission, result in pool.grade(pending):
                if result is None:
                    attempts[submission.id] = attempts.get(submission.id, 0) + 1
                    if attempts[submission.id] < ATTEMPTS:
                        retry.append(submission)
                        continue
                    text = gettext("the grading worker died {count} times on this submission "
                                   "(out of memory?)")
                    why = text.format(count=ATTEMPTS)
                    result = write(out, not_graded(submission, why, suite), settings)
                results.append(result)
                on_result(result)
            pending = retry
    finally:
        pool.close()
    sync_to_disk()
    return results


class Progress:
    """A progress bar on a terminal; plain periodic lines otherwise (CI, logs)."""

    def __init__(self, total: int, stream=sys.stderr) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.started = time.monotonic()
        self.last_line = 0.0
        self.bar = None
        if stream.isatty() and total:
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as Bar

            self.bar = Bar(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                           TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), transient=True)
            self.task = self.bar.add_task("grading", total=total, rate="")
            self.bar.start()

    def advance(self, result: SubmissionResult) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.started
        rate = self.done / elapsed if elapsed else 0.0
        if self.bar is not None:
            self.bar.update(self.task, advance=1, rate=f"{rate:.1f}/s")
        elif time.monotonic() - self.last_line > 5 or self.done == self.total:
            self.last_line = time.monotonic()
            eta = (self.total - self.done) / rate if rate else 0.0
            text = gettext("graded {done}/{total} ({rate}/s, about {left} s left)")
            print(text.format(done=self.done, total=self.total, rate=f"{rate:.1f}", left=f"{eta:.0f}"),
                  file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)))
