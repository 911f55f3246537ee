#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (and for every later call: idempotent, and a
# second call rebuilds incrementally).
#
#   ./setup.sh run    install missing Debian packages, build (Release), run a bundled scenario
#   ./setup.sh test   install missing packages, build Release and ASan+UBSan, run the test suite
#
# The Release build is profile-guided (PGO, see DSIM_PGO in CMakeLists.txt): the first call, and
# any call after an engine source changed, first builds an instrumented dsim in build-pgo-train
# and runs a short training set with it (about 6 min on 2 cores the first time, a minute after a
# one-file edit), then builds build/ with that profile.
#
# Environment: DSIM_JOBS (parallel build jobs, default: number of cores); DSIM_PGO=0 (a plain
# Release build without training, for quick edit-build cycles).
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

# cached NAME VALUE DIR: is NAME set to exactly VALUE in DIR's CMake cache?
cached() {
  awk -F= -v n="$1" -v v="$2" 'index($1, n ":") == 1 && substr($0, length($1) + 2) == v { f = 1 }
                               END { exit !f }' "$3/CMakeCache.txt"
}

# configure_and_build DIR [-DNAME=VALUE...]: configures DIR on the first call and whenever one of
# the options differs from its cache (DSIM_PGO=0 and back), then builds what changed.
configure_and_build() {
  local dir="$1"
  shift
  local configure=0 opt
  [ -f "$dir/build.ninja" ] || configure=1
  for opt in "$@"; do
    opt="${opt#-D}"
    [ $configure -eq 1 ] || cached "${opt%%=*}" "${opt#*=}" "$dir" || configure=1
  done
  if [ $configure -eq 1 ]; then
    cmake -S . -B "$dir" -G Ninja "$@"
  fi
  cmake --build "$dir" -j "$JOBS"
}

# Profile-guided optimisation. The training tree builds only dsim, instrumented (no tests, no LTO:
# the profile fits the LTO build all the same). Its profile is retrained when an engine source or
# a build file is newer than the last training: a function whose source changed since would lose
# its profile (a warning, not an error). Objects whose source did not change keep the code built
# from the older profile, which still describes them.
PGO_TRAIN=build-pgo-train
PGO_PROFILE="$PWD/$PGO_TRAIN/profile"
PGO_STAMP="$PGO_PROFILE/trained"

pgo_profile_is_fresh() {
  [ -f "$PGO_STAMP" ] &&
    [ -z "$(find engine CMakeLists.txt scenarios/bench/backend.yaml scenarios/bench/mm1.yaml \
      scenarios/orders.yaml scenarios/signup-under-faults.yaml -newer "$PGO_STAMP" -print -quit)" ]
}

# The training set: the issue 3 benchmark cut to 20 s of simulated time (3.4 million events), the
# M/M/1 benchmark, and short scenarios for the kinds the benchmarks lack (external, faults), so
# that their code is laid out from real counts too.
pgo_train() {
  echo "== PGO: training an instrumented dsim ($PGO_TRAIN)"
  mkdir -p "$PGO_TRAIN"
  touch "$PGO_TRAIN/training-started"
  configure_and_build "$PGO_TRAIN" -DCMAKE_BUILD_TYPE=Release -DDSIM_BUILD_TESTS=OFF \
    -DDSIM_BUILD_BENCH=OFF -DDSIM_PGO=generate -DDSIM_PGO_DIR="$PGO_PROFILE"
  # Counts left by an earlier training would be added to the new ones.
  rm -rf "$PGO_PROFILE"
  local dsim="$PGO_TRAIN/engine/dsim"
  "$dsim" run scenarios/bench/backend.yaml --duration 20s -q --json >/dev/null
  "$dsim" run scenarios/bench/mm1.yaml -q --json >/dev/null
  "$dsim" run scenarios/orders.yaml -q --json >/dev/null
  "$dsim" run scenarios/signup-under-faults.yaml -q --json >/dev/null
  # Stamped with the time training started: a source edited during it counts as newer.
  mv "$PGO_TRAIN/training-started" "$PGO_STAMP"
}

build_release() {
  case "${DSIM_PGO:-1}" in
    0 | OFF | off | no)
      configure_and_build build -DCMAKE_BUILD_TYPE=Release -DDSIM_PGO=OFF
      return
      ;;
  esac
  pgo_profile_is_fresh || pgo_train
  configure_and_build build -DCMAKE_BUILD_TYPE=Release -DDSIM_PGO=use \
    -DDSIM_PGO_DIR="$PGO_PROFILE"
}

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
