"""Throughput of `autograder grade` against a naive one-pytest-process-per-submission baseline.

    python benchmarks/throughput.py [--sizes 200,1000] [--jobs 2] [--baseline 5] [--n N]

Generates submissions into a temp dir (copies of examples/submissions/alice_correct,
bob_buggy, alice with a syntax error in losses.py, and at most 1 per 100 whose
activations.softmax_prime loops forever), then times:

* `python -c "import torch"` in a fresh process (this run's reference unit),
* `autograder grade DIR --out OUT --jobs J` for each size, wall time and peak RSS,
* a naive baseline: one fresh `python -m pytest` per submission that imports torch
  and compares the submission's softmax with torch's,
* `autograder check examples/submissions/alice_correct`, best and mean of 3 runs.

Peak RSS is measured by polling /proc of the grade process tree every 50 ms and
keeping the largest RSS of any single process (VmRSS); ru_maxrss of waited
children (resource.getrusage(RUSAGE_CHILDREN)) is printed next to it, which is
the max over all descendants ever waited for by this process, cumulative over
the whole run, so it is only an upper-bound cross-check.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUBS = ROOT / "examples" / "submissions"
ALICE = SUBS / "alice_correct"
BOB = SUBS / "bob_buggy"

LOOP_FOREVER = """

def softmax_prime(z):  # benchmark: never returns
    while True:
        pass
"""

BASELINE_TEST = """
import numpy as np
import torch

from activations import softmax


def test_softmax_matches_torch():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(8, 5))
    expected = torch.softmax(torch.tensor(z), dim=-1).numpy()
    assert np.allclose(softmax(z), expected, atol=1e-8)
"""


def make_submissions(dest: Path, n: int) -> dict[str, int]:
    """Create n submission folders in dest; return counts by kind."""
    dest.mkdir(parents=True, exist_ok=True)
    n_loop = n // 100  # at most 1 per 100
    counts = {"correct": 0, "buggy": 0, "syntax": 0, "loop": 0}
    for i in range(n):
        if i < n_loop:
            kind = "loop"
        else:
            kind = ("correct", "correct", "buggy", "syntax")[i % 4]
        d = dest / f"s{i:05d}_{kind}"
        shutil.copytree(BOB if kind == "buggy" else ALICE, d, ignore=shutil.ignore_patterns("__pycache__"))
        if kind == "syntax":
            with open(d / "losses.py", "a") as f:
                f.write("\ndef broken(:\n    return\n")
        elif kind == "loop":
            with open(d / "activations.py", "a") as f:
                f.write(LOOP_FOREVER)
        counts[kind] += 1
    return counts


def _tree_peak_rss(root_pid: int, stop: threading.Event, out: list[int]) -> None:
    """Poll /proc every 50 ms; out[0] = largest VmRSS (kB) of any process in root_pid's tree."""
    page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
    while not stop.is_set():
        children: dict[int, list[int]] = {}
        rss: dict[int, int] = {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/stat") as f:
                    stat = f.read()
                fields = stat[stat.rfind(")") + 2 :].split()
                pid, ppid = int(name), int(fields[1])
                children.setdefault(ppid, []).append(pid)
                rss[pid] = int(fields[21]) * page_kb
            except (OSError, ValueError, IndexError):
                continue
        todo, seen = [root_pid], set()
        while todo:
            p = todo.pop()
            if p in seen:
                continue
            seen.add(p)
            out[0] = max(out[0], rss.get(p, 0))
            todo.extend(children.get(p, []))
        stop.wait(0.05)


LAYERS = ("namespaces", "tmpfs", "cgroup", "uid ", "landlock", "seccomp", "rlimits")


def isolation_held(out_dir: Path) -> str:
    """Which sandbox layers held in every graded submission (a fast run that lost one proves nothing)."""
    missing: dict[str, int] = {}
    total = 0
    for path in out_dir.glob("*/result.full.json"):
        total += 1
        held = " ".join(entry for entry in json.loads(path.read_text()).get("isolation", [])
                        if not entry.startswith("missing "))  # "missing <layer>: <why>"
        for layer in LAYERS:
            if layer not in held:
                missing[layer] = missing.get(layer, 0) + 1
    if not missing:
        return f"every layer ({', '.join(s.strip() for s in LAYERS)}) held in all {total} submissions"
    return "MISSING layers: " + ", ".join(f"{k.strip()} in {v} of {total}" for k, v in missing.items())


def run_timed(cmd: list[str], **kw) -> tuple[float, int, subprocess.CompletedProcess]:
    """Run cmd; return (wall seconds, peak single-process RSS in kB, completed process)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    stop, peak = threading.Event(), [0]
    th = threading.Thread(target=_tree_peak_rss, args=(proc.pid, stop, peak), daemon=True)
    th.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    stop.set()
    th.join()
    return wall, peak[0], subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def autograder_cmd() -> list[str]:
    exe = shutil.which("autograder")
    return [exe] if exe else [sys.executable, "-m", "autograder"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=None, help="a single size (overrides --sizes)")
    ap.add_argument("--sizes", default="200,1000",
                    help="comma-separated numbers of submissions (the targets are set at 200 and 1000)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--baseline", type=int, default=5, help="submissions for the naive baseline (at least 1)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--no-plots", action="store_true", help="grade with --no-plots (reports without figures)")
    args = ap.parse_args(argv)
    if args.baseline < 1:
        ap.error("--baseline must be at least 1: the ratio needs the baseline")
    sizes = [args.n] if args.n else sorted(int(s) for s in args.sizes.split(",") if s.strip())

    tmp = Path(tempfile.mkdtemp(prefix="ag_throughput_"))
    try:
        # 2. reference unit: import torch in a fresh interpreter (best of 3)
        torch_times = [run_timed([sys.executable, "-c", "import torch"])[0] for _ in range(3)]
        t_torch = min(torch_times)
        print(f"import torch (fresh process, best of 3): {t_torch * 1000:.0f} ms")

        # 3. autograder grade for each size
        results = {}
        failed: list[str] = []  # a run that did not finish is never timed as a success
        for n in sizes:
            sub_dir = tmp / f"subs_{n}"
            counts = make_submissions(sub_dir, n)
            out_dir = tmp / f"out_{n}"
            wall, peak_kb, cp = run_timed(
                autograder_cmd()
                + ["grade", str(sub_dir), "--out", str(out_dir), "--jobs", str(args.jobs)]
                + (["--no-plots"] if args.no_plots else []),
                cwd=ROOT,
            )
            results[n] = (wall, peak_kb)
            print(f"\ngrade N={n} {counts} --jobs {args.jobs}: exit {cp.returncode}")
            if cp.returncode != 0:
                print("  stderr tail:", cp.stderr.strip()[-800:])
                failed.append(f"grade N={n} exited {cp.returncode}")
            print(f"  wall {wall:.2f} s, {n / wall:.1f} submissions/s, {wall / n * 1000:.1f} ms/submission")
            print(
                f"  peak RSS of largest single process (polled /proc every 50 ms): {peak_kb / 1024:.0f} MiB"
            )
            print(f"  sandbox: {isolation_held(out_dir)}")
        ru = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(f"  (cross-check: ru_maxrss over all waited children so far: {ru / 1024:.0f} MiB)")

        # 4. naive baseline: one pytest process per submission
        base_dir = tmp / "baseline"
        make_submissions(base_dir, args.baseline)
        test_file = tmp / "test_softmax_vs_torch.py"
        test_file.write_text(BASELINE_TEST)
        base_times, outcomes, base_peak = [], [], 0
        for d in sorted(base_dir.iterdir()):
            env = dict(os.environ, PYTHONPATH=str(d), PYTHONDONTWRITEBYTECODE="1")
            wall, peak_kb, cp = run_timed(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
                cwd=tmp,
                env=env,
            )
            base_times.append(wall)
            outcomes.append(cp.returncode)
            base_peak = max(base_peak, peak_kb)
        base_ms = sum(base_times) / len(base_times) * 1000
        print(
            f"\nnaive baseline ({args.baseline} x fresh `python -m pytest` importing torch, one at a time): "
            f"{1000 / base_ms:.2f} submissions/s, {base_ms:.0f} ms/submission, "
            f"peak RSS {base_peak / 1024:.0f} MiB (exit codes {outcomes})"
        )

        # 5. summary
        small, large = sizes[0], sizes[-1]
        ms_large = results[large][0] / large * 1000
        print("\nsummary")
        print(
            f"  autograder: {large / results[large][0]:.1f} submissions/s, "
            f"{ms_large:.1f} ms/submission at N={large}"
        )
        print(f"  peak RSS (largest single process): {max(p for _, p in results.values()) / 1024:.0f} MiB")
        speedup = base_ms / ms_large
        print(f"  baseline: {base_ms:.0f} ms/submission; baseline / autograder = {speedup:.1f}x "
              f"(the baseline run {args.jobs} at a time: at best {speedup / args.jobs:.1f}x)")
        if large != small:
            print(
                f"  growth N {small} -> {large} ({large / small:.0f}x more): time x"
                f"{results[large][0] / results[small][0]:.2f}"
            )
        ref_n = 200 if 200 in results else small
        ratio = results[ref_n][0] / t_torch
        missed = list(failed)
        if ratio > 10:
            missed.append(f"grade N={ref_n} took {ratio:.1f}x one torch import")
        print(
            f"  grade N={ref_n} / one `import torch`: {ratio:.1f}x (target <= 10x) "
            f"{verdict(ratio <= 10, failed)}"
        )
        if 1000 in results:
            wall = results[1000][0]
            if wall > 60:
                missed.append(f"grade N=1000 took {wall:.1f} s")
            print(f"  grade N=1000: {wall:.1f} s (target <= 60 s) {verdict(wall <= 60, failed)}")

        check_times, check_failed = [], []
        for _ in range(3):
            wall, _, cp = run_timed(autograder_cmd() + ["check", str(ALICE)], cwd=ROOT)
            check_times.append(wall)
            check_failed += [] if cp.returncode == 0 else [f"check exited {cp.returncode}"]
        print(
            f"  autograder check alice_correct, 3 runs: "
            f"{', '.join(f'{t:.2f}' for t in check_times)} s; mean {sum(check_times) / 3:.2f} s, "
            f"best {min(check_times):.2f} s (target <= 2 s) "
            f"{verdict(max(check_times) <= 2, check_failed)} (exit {cp.returncode})"
        )
        missed += check_failed + ([] if max(check_times) <= 2 else ["autograder check took over 2 s"])
        if missed:
            print("  targets missed: " + "; ".join(missed))
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if missed else 0


def verdict(within: bool, failed: list[str]) -> str:
    """OK only when the measured runs finished and the figure is within its target."""
    if failed:
        return "NOT MEASURED (a run failed)"
    return "OK" if within else "MISSED"


if __name__ == "__main__":
    sys.exit(main())
