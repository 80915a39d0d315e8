# nn-autograder's install steps, shared by tools/install.sh (which sources this file) and by
# the setup.sh of the Gradescope zip and of the PrairieLearn image (which carry a copy of it).
# Functions and constants only: nothing runs when it is sourced.

# torch is the grader's reference and needs no GPU: the exact CPU build. PyTorch publishes it
# on its CPU wheel index only; the ordinary index's torch==2.13.0 is, on Linux, the CUDA build
# (over 500 MB, plus the CUDA libraries and triton).
TORCH_REQUIREMENT="torch==2.13.0+cpu"
TORCH_CPU_INDEX="https://download.pytorch.org/whl/cpu"

# fail MESSAGE: say it on one line on stderr, and exit 1.
fail() {
  echo "${0##*/}: $*" >&2
  exit 1
}

# python_version PYTHON: print MAJOR.MINOR of that interpreter; false if it does not run.
python_version() {
  local said
  said=$("$1" --version 2>&1) || return 1
  [[ $said =~ ^Python\ ([0-9]+)\.([0-9]+) ]] || return 1
  echo "${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"
}

# new_enough MAJOR.MINOR: true for the Pythons the kit runs on (3.11 and newer).
new_enough() {
  local major=${1%%.*} minor=${1#*.}
  (( major > 3 || (major == 3 && minor >= 11) ))
}

# install_cpu_torch PYTHON INDEX_URL: install TORCH_REQUIREMENT, without its dependencies
# (install_with_torch brings them from the ordinary index). A wheel of exactly that build
# which pip finds without any index (its find-links) is taken first: no network needed, and
# no wait for an index that cannot be reached; otherwise it comes from INDEX_URL.
install_cpu_torch() {
  local python=$1 index=$2
  if "$python" -m pip install -q --no-deps --no-index "$TORCH_REQUIREMENT" >/dev/null 2>&1; then
    echo "$TORCH_REQUIREMENT: in place (already there, or from a wheel pip finds without an index)"
    return 0
  fi
  echo "$TORCH_REQUIREMENT: installing from $index"
  "$python" -m pip install -q --no-deps --index-url "$index" "$TORCH_REQUIREMENT" ||
    fail "could not install $TORCH_REQUIREMENT from $index (TORCH_INDEX_URL names another index)"
}

# install_with_torch PYTHON ARG...: pip install ARG... together with TORCH_REQUIREMENT, so
# that nothing they depend on can replace the CPU build, and torch's own dependencies come too.
install_with_torch() {
  local python=$1
  shift
  "$python" -m pip install -q "$TORCH_REQUIREMENT" "$@"
}
