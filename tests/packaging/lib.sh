# Helpers for the packaging tests (sourced). Each test is a bash script registered with ctest:
# exit 0 pass, 1 fail, 77 skipped (SKIP_RETURN_CODE). Under the test command (OBX_REQUIRE_PG=1) a
# missing prerequisite (root, the packages, a tool) fails instead of skipping, as for PostgreSQL.
set -euo pipefail

BUILD="${OBX_BUILD_DIR:?OBX_BUILD_DIR: the build tree}"
SOURCE="${OBX_SOURCE_DIR:?OBX_SOURCE_DIR: the source tree}"
FAILURES=0

fail() {  # message: records a failure and goes on
  echo "FAIL: $*" >&2
  FAILURES=$((FAILURES + 1))
}

die() {  # message: fails now
  echo "FAIL: $*" >&2
  exit 1
}

# A prerequisite is missing: skip, or fail under the test command.
unavailable() {
  if [ "${OBX_REQUIRE_PG:-}" = "1" ]; then
    die "$* (OBX_REQUIRE_PG=1: the test command must provide it)"
  fi
  echo "SKIP: $*"
  exit 77
}

require_root() {
  [ "$(id -u)" -eq 0 ] || unavailable "needs root (dpkg -i, a system user); run it as root or through packaging/run-tests.sh"
}

require_tool() {  # tool...
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || unavailable "$t is not installed (bash packaging/install-deps.sh)"
  done
}

# The two packages built by packaging/build-deb.sh: sets OUTBOXD_DEB and SDK_DEB.
find_packages() {
  local dir="$BUILD/packages"
  local arch
  arch="$(dpkg --print-architecture)"
  OUTBOXD_DEB=$(ls "$dir"/outboxd_*_"$arch".deb 2>/dev/null || true)
  SDK_DEB=$(ls "$dir"/outboxd-sdk-dev_*_all.deb 2>/dev/null || true)
  if [ -z "$OUTBOXD_DEB" ] || [ -z "$SDK_DEB" ]; then
    unavailable "no packages in $dir: run OBX_BUILD_DIR=$BUILD bash packaging/build-deb.sh first"
  fi
  [ "$(echo "$OUTBOXD_DEB" | wc -l)" -eq 1 ] || die "more than one outboxd package in $dir: $OUTBOXD_DEB"
  [ "$(echo "$SDK_DEB" | wc -l)" -eq 1 ] || die "more than one SDK package in $dir: $SDK_DEB"
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.1 s until it succeeds.
wait_for() {
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  while [ $SECONDS -lt $deadline ]; do
    if "$@"; then return 0; fi
    sleep 0.1
  done
  echo "timed out after ${limit}s waiting for: $what" >&2
  return 1
}

# The project version from the build tree (CMakeCache.txt).
project_version() {
  sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD/CMakeCache.txt"
}

finish() {
  if [ "$FAILURES" -ne 0 ]; then
    echo "$FAILURES check(s) failed" >&2
    exit 1
  fi
  echo "PASS"
}
