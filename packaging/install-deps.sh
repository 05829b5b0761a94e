#!/usr/bin/env bash
# Installs everything outboxd needs to build and test on Debian 12, from Debian's packages only.
# Idempotent: does nothing (not even `apt-get update`) when every package is already installed.
# Run as root (or with sudo available).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  libboost-dev libboost-filesystem-dev libboost-system-dev   # Boost.DLL (header-only with std::filesystem)
  nlohmann-json3-dev libspdlog-dev libfmt-dev
  libpoco-dev libpq-dev libsqlite3-dev libsqlitecpp-dev sqlite3
  libssl-dev   # libcrypto EVP for SHA-256 (host/src/common/sha256); libpq already links libssl
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  clang-14 clang-tidy-14   # packaging/check-clang.sh: -Wthread-safety build and clang-tidy of host/src
  libfuzzer-14-dev         # packaging/run-fuzz.sh: the libFuzzer targets of tests/fuzz/
  postgresql-15 postgresql-client-15
  lintian help2man systemd adduser init-system-helpers dpkg-dev procps man-db   # .deb packages and their tests
  prometheus-cpp-dev libsystemd-dev   # metrics registry + text format; sd_notify (issue 10)
  prometheus                          # promtool: the tests check real scrapes and the alert rules
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
