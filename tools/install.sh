#!/usr/bin/env bash
# Install the kit. `--test` adds what the test suite needs: hypothesis, ruff,
# a Jupyter kernel for the nbgrader round trip, and Debian's chromium for the
# report rendering check (only when run as root with apt-get available).
set -euo pipefail
cd "$(dirname "$0")/.."
# torch first, pinned: the CPU wheel. A bare `torch` would pull a multi-GB CUDA build.
python3 -m pip install -q torch==2.13.0
if [[ "${1:-}" == "--test" ]]; then
  python3 -m pip install -q -e ".[test]"
  python3 -m ipykernel install --sys-prefix --name python3 >/dev/null  # nbgrader round trip
  if [[ ! -x /usr/bin/chromium ]] && command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null) \
      || echo "install.sh: chromium could not be installed; the browser check will be skipped" >&2
  fi
else
  python3 -m pip install -q -e .
fi
