#!/usr/bin/env bash
# Builds the Debian packages from one build tree (./build or $OBX_BUILD_DIR, reused when it exists)
# into <build>/packages/:
#   outboxd_<version>-1_<arch>.deb       daemon, outboxctl, plugins, /etc config, systemd unit
#   outboxd-sdk-dev_<version>-1_all.deb  plugin SDK: headers, CMake package, linker script
# The tree is configured for the package layout (-DCMAKE_INSTALL_PREFIX=/usr
# -DCMAKE_INSTALL_LIBDIR=lib: the compiled-in plugin_dir is /usr/lib/outboxd/plugins); a tree
# configured otherwise recompiles one file (host/src/config/config.cc) and relinks. Extra arguments
# go to cmake. Needs help2man (man pages) and dpkg-dev (dpkg-shlibdeps): packaging/install-deps.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${OBX_BUILD_DIR:-$ROOT/build}"

OBX_BUILD_DIR="$BUILD" \
OBX_BUILD_TARGETS="outboxd outboxctl discovery_sql discovery_static handler_exec handler_log obx_man_pages" \
  bash "$ROOT/packaging/build.sh" -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_LIBDIR=lib "$@"

rm -rf "$BUILD/packages"
if ! (cd "$BUILD" && cpack --config CPackConfig.cmake) > "$BUILD/cpack.log" 2>&1; then
  cat "$BUILD/cpack.log" >&2
  echo "build-deb: cpack failed (log above: $BUILD/cpack.log)" >&2
  exit 1
fi
rm -rf "$BUILD/packages/_CPack_Packages"
ls -l "$BUILD"/packages/*.deb
