#!/usr/bin/env bash
# Configures and builds outboxd into ./build (or $OBX_BUILD_DIR). Extra arguments go to cmake.
# OBX_BUILD_TARGETS="a b" builds only those targets. Result: build/bin/outboxd, build/bin/outboxctl,
# build/plugins/*.so (and the tests, unless configured with -DOBX_BUILD_TESTS=OFF).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${OBX_BUILD_DIR:-$ROOT/build}"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
targets=()
for t in ${OBX_BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$BUILD" -j"$(nproc)" "${targets[@]}"
