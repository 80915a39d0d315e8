#!/usr/bin/env bash
# PrairieLearn's external grader runs this in the image (see the Dockerfile beside it) for
# every submission: it grades the student's files, $GRADE_DIR/student, with `autograder
# grade` as on any machine, and writes $GRADE_DIR/results/results.json in PrairieLearn's
# format (`autograder export --to prairielearn`). GRADE_DIR is /grade unless set (a dry run
# on your own machine); PYTHON overrides the interpreter (default: the image's venv).
set -euo pipefail
GRADE_DIR="${GRADE_DIR:-/grade}"
KIT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# the language of the feedback, fixed when this folder was written (autograder prairielearn --lang)
export AUTOGRADER_LANG="@LANG@"
PYTHON="${PYTHON:-$KIT/venv/bin/python}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$KIT"  # never the student's folder: `python -m` puts the working folder on sys.path

kit() { PYTHONPATH="$KIT" "$PYTHON" -m autograder "$@"; }

mkdir -p "$WORK/submissions" "$GRADE_DIR/results"
cp -R "$GRADE_DIR/student" "$WORK/submissions/student"
status=0
kit grade "$WORK/submissions" --out "$WORK/out" --no-plots || status=$?
# A submission the grader could not grade (through no fault of the student's) still has its
# results: PrairieLearn shows it as "not gradable", which costs no points and no attempt.
[[ -f "$WORK/out/grades.csv" ]] || exit "$status"
kit export "$WORK/out" --to prairielearn --output "$WORK/pl" >/dev/null
cp "$WORK/pl/student/results.json" "$GRADE_DIR/results/results.json"
