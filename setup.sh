#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (and for every later call: idempotent, and a
# second call rebuilds incrementally).
#
#   ./setup.sh run    install missing Debian packages, build (Release), run a bundled scenario
#   ./setup.sh test   install missing packages, build Release and ASan+UBSan, run the test suite
#
# Environment: DSIM_JOBS (parallel build jobs, default: number of cores).
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libyaml-cpp-dev libboost-graph-dev libeigen3-dev libcli11-dev
  libgtest-dev libgmock-dev
)
# Only for `test`: the HTML report's browser test (tests/report) opens the report headless.
TEST_PACKAGES=(chromium)
JOBS="${DSIM_JOBS:-$(nproc)}"

# install_missing_packages [extra packages...]
install_missing_packages() {
  local missing=()
  for p in "${PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "== installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# configure_and_build DIR [cmake options...]
configure_and_build() {
  local dir="$1"
  shift
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S . -B "$dir" -G Ninja "$@"
  fi
  cmake --build "$dir" -j "$JOBS"
}

build_release() { configure_and_build build -DCMAKE_BUILD_TYPE=Release; }

case "${1:-}" in
  run)
    install_missing_packages
    build_release
    echo "== dsim run scenarios/mm1.yaml"
    ./build/engine/dsim run scenarios/mm1.yaml
    ;;
  test)
    install_missing_packages "${TEST_PACKAGES[@]}"
    build_release
    echo "== tests (Release)"
    # The report's browser test fails (rather than skips) if chromium is missing here.
    DSIM_REQUIRE_CHROMIUM=1 ctest --test-dir build --output-on-failure -j "$JOBS"
    echo "== tests under AddressSanitizer + UndefinedBehaviorSanitizer (unit and cli)"
    configure_and_build build-asan -DCMAKE_BUILD_TYPE=Debug -DDSIM_SANITIZE=ON -DDSIM_BUILD_BENCH=OFF
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
      ctest --test-dir build-asan --output-on-failure -j "$JOBS" -L 'unit|cli'
    ;;
  *)
    echo "usage: ./setup.sh run|test" >&2
    exit 2
    ;;
esac
