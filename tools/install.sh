#!/usr/bin/env bash
# Install the kit into the Python that `python3` runs (a venv's, best): torch, the exact CPU
# build (torch==2.13.0+cpu) from PyTorch's CPU wheel index, or from a wheel of that build pip
# finds without an index; then the kit itself, `pip install -e .`, torch held at that build.
#   --test             add what the test suite needs: ruff, fontTools, a Jupyter kernel for the
#                      nbgrader round trip, and Debian's chromium with a CJK font (WenQuanYi Micro
#                      Hei, for the Chinese reports) for the report rendering check (only when
#                      run as root with apt-get available)
#   --torch-index URL  take torch from the package index at URL (or set TORCH_INDEX_URL)
set -euo pipefail
cd "$(dirname "$0")/.."
source autograder/platforms/install-lib.sh

TEST=""
INDEX="${TORCH_INDEX_URL:-$TORCH_CPU_INDEX}"
while (( $# )); do
  case "$1" in
    --test) TEST=1 ;;
    --torch-index) (( $# > 1 )) || fail "--torch-index needs a URL"; INDEX=$2; shift ;;
    *) fail "unknown option '$1' (options: --test, --torch-index URL)" ;;
  esac
  shift
done

VERSION=$(python_version python3) || fail "python3 not found: install Python 3.11 or newer"
new_enough "$VERSION" || fail "the kit needs Python 3.11 or newer; python3 is $VERSION"
install_cpu_torch python3 "$INDEX"
if [[ -n $TEST ]]; then
  install_with_torch python3 -e ".[test]"
  python3 -m ipykernel install --sys-prefix --name python3 >/dev/null  # nbgrader round trip
  if { [[ ! -x /usr/bin/chromium ]] || ! fc-list :lang=zh | grep -q .; } && command -v apt-get >/dev/null \
     && [[ $(id -u) == 0 ]]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
       chromium fonts-dejavu-core fonts-wqy-microhei >/dev/null) \
      || echo "install.sh: chromium or its fonts could not be installed; the browser check will be skipped" >&2
  fi
else
  install_with_torch python3 -e .
fi
