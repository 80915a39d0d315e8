#!/usr/bin/env bash
# The catalogs in one command: extract the messages of the code, the templates and the course
# into their templates (autograder/locale/messages.pot, course/locale/course.pot), merge those
# into every language's .po, then list what is left to translate or fix (exit 1 if anything).
#   tools/i18n.sh          extract, merge, check
#   tools/i18n.sh check    only check (what CI and the tests do)
# A new language: mkdir -p autograder/locale/LANG/LC_MESSAGES course/locale/LANG/LC_MESSAGES,
# copy each .pot there as messages.po / course.po, add LANG to autograder.i18n.LANGUAGES, run this.
# See docs/glossary.md for the terms.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" exec python3 -m autograder.catalogs "$@"
