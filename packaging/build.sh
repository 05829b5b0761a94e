#!/usr/bin/env bash
# Configures and builds outboxd into ./build (or $OBX_BUILD_DIR). Extra arguments go to cmake.
# Result: build/bin/outboxd, build/bin/outboxctl, build/plugins/*.so.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${OBX_BUILD_DIR:-$ROOT/build}"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
