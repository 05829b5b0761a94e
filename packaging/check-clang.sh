#!/usr/bin/env bash
# The clang checks of the host library (not the whole tree, to stay within a few minutes):
#   1. builds the host layers and mains (outboxd, outboxctl) with clang-14 and -Wthread-safety -Werror=thread-safety in its own build
#      folder (build-clang/, or $OBX_CLANG_BUILD_DIR), so every GUARDED_BY / REQUIRES / EXCLUDES
#      (host/src/common/thread_annotations.h) is checked by the compiler;
#   2. runs clang-tidy-14 with the repository's .clang-tidy on every host/src/*.cc, using that
#      build's compile_commands.json (warnings are errors).
# Exit status non-zero when either fails. packaging/run-tests.sh calls it; install-deps.sh installs
# clang-14 and clang-tidy-14.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${OBX_CLANG_BUILD_DIR:-$ROOT/build-clang}"
JOBS="$(nproc)"
start=$SECONDS

CC=clang-14 CXX=clang++-14 cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug \
  -DOBX_BUILD_TESTS=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DCMAKE_CXX_FLAGS="-Wthread-safety -Werror=thread-safety" >/dev/null
cmake --build "$BUILD" -j"$JOBS" --target outboxd outboxctl
echo "check-clang: thread-safety build passed ($((SECONDS - start)) s)"

tidy_start=$SECONDS
(cd "$ROOT" && find host/src -name '*.cc' -print0 | sort -z) |
  xargs -0 -P "$JOBS" -n 4 clang-tidy-14 -p "$BUILD" --quiet
echo "check-clang: clang-tidy passed ($((SECONDS - tidy_start)) s); total $((SECONDS - start)) s"
