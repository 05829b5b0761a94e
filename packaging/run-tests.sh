#!/usr/bin/env bash
# The test command (README, CI): installs dependencies, builds, runs the clang checks of the host
# library (packaging/check-clang.sh), runs the libFuzzer targets for a bounded time
# (packaging/run-fuzz.sh; OBX_SKIP_FUZZ=1 skips them), starts a throwaway PostgreSQL cluster, builds the .deb
# packages, runs every test with ctest, stops the cluster. Exit code is ctest's (or the first
# failing step's).
#   OBX_SANITIZE=address,undefined bash packaging/run-tests.sh   # the same under ASan+UBSan
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash packaging/install-deps.sh
BUILD="${OBX_BUILD_DIR:-$ROOT/build}"
if [ -n "${OBX_SANITIZE:-}" ]; then BUILD="${OBX_BUILD_DIR:-$ROOT/build-san}"; fi
# The package layout (/usr, plugins in /usr/lib/outboxd/plugins), so that the .deb packages below
# come from this same build with nothing recompiled.
OBX_BUILD_DIR="$BUILD" bash packaging/build.sh -DOBX_BUILD_TESTS=ON -DOBX_SANITIZE="${OBX_SANITIZE:-}" \
  -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_LIBDIR=lib
# The .deb packages that tests/packaging/ checks and installs.
deb_start=$SECONDS
OBX_BUILD_DIR="$BUILD" bash packaging/build-deb.sh
echo "run-tests: .deb packages built in $((SECONDS - deb_start)) s"
# clang-14 -Wthread-safety build of the host library plus clang-tidy (build-clang/, a few minutes).
bash packaging/check-clang.sh
# libFuzzer targets (tests/fuzz/), clang build of their own in build-fuzz/, bounded time each.
if [ -z "${OBX_SKIP_FUZZ:-}" ]; then bash packaging/run-fuzz.sh; fi

# shellcheck source=packaging/pg-cluster.sh
source packaging/pg-cluster.sh
obx_pg_start
trap obx_pg_stop EXIT

if [ -n "${OBX_SANITIZE:-}" ]; then
  # A known, bounded leak inside Poco's PostgreSQL connector (see the file).
  export LSAN_OPTIONS="suppressions=$ROOT/packaging/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
fi
export OBX_REQUIRE_PG=1  # PostgreSQL tests fail instead of skipping when the server is missing
ctest --test-dir "$BUILD" --output-on-failure --timeout 300 -j"${OBX_TEST_JOBS:-2}"
