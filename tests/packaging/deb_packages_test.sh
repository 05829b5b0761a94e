#!/usr/bin/env bash
# The .deb packages built by packaging/build-deb.sh, checked without installing them: names,
# versions, architectures, dependencies (computed by dpkg-shlibdeps), contents with owners and modes,
# the conffile and maintainer scripts, lintian (no errors), and the systemd unit
# (systemd-analyze verify on the unpacked package, and its `security` exposure).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_tool dpkg-deb lintian systemd-analyze
find_packages
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

VERSION="$(project_version)-1"
ARCH="$(dpkg --print-architecture)"
field() { dpkg-deb -f "$1" "$2"; }

# --- outboxd: control fields ------------------------------------------------------------------
[ "$(field "$OUTBOXD_DEB" Package)" = outboxd ] || fail "outboxd: Package is $(field "$OUTBOXD_DEB" Package)"
[ "$(field "$OUTBOXD_DEB" Version)" = "$VERSION" ] || fail "outboxd: Version $(field "$OUTBOXD_DEB" Version), expected $VERSION"
[ "$(field "$OUTBOXD_DEB" Architecture)" = "$ARCH" ] || fail "outboxd: Architecture $(field "$OUTBOXD_DEB" Architecture)"
DEPENDS="$(field "$OUTBOXD_DEB" Depends)"
echo "outboxd Depends: $DEPENDS"
# From dpkg-shlibdeps: versioned library packages, not hand-listed names.
for lib in 'libc6 (>=' 'libstdc++6 (>=' 'libpq5 (>=' 'libpocofoundation' 'libpocodata' 'libspdlog' \
           'adduser' 'init-system-helpers' 'procps'; do
  case "$DEPENDS" in *"$lib"*) ;; *) fail "outboxd: Depends lacks '$lib'" ;; esac
done

# --- outboxd: contents, owners, modes ---------------------------------------------------------
dpkg-deb -c "$OUTBOXD_DEB" > "$WORK/outboxd.list"
mode_of() {  # path (./...) -> "mode owner"
  awk -v p="$1" '$6 == p || $6 == p"/" { print $1, $2 }' "$WORK/outboxd.list"
}
expect() {  # path mode
  local got
  got="$(mode_of "$1")"
  [ "$got" = "$2 root/root" ] || fail "outboxd: $1 is '${got:-missing}', expected '$2 root/root'"
}
expect ./usr/bin/outboxd -rwxr-xr-x
expect ./usr/bin/outboxctl -rwxr-xr-x
expect ./usr/lib/outboxd/plugins drwxr-xr-x
for p in discovery_sql discovery_static handler_exec handler_log; do
  expect ./usr/lib/outboxd/plugins/$p.so -rw-r--r--
done
expect ./etc/outboxd/outboxd.json -rw-r--r--
expect ./lib/systemd/system/outboxd.service -rw-r--r--
expect ./usr/share/man/man8/outboxd.8.gz -rw-r--r--
expect ./usr/share/man/man8/outboxctl.8.gz -rw-r--r--
for doc in copyright changelog.Debian.gz README.md configuration.md design.md store.md operations.md \
           semantics.md; do
  expect ./usr/share/doc/outboxd/$doc -rw-r--r--
done
# Nothing else: no SDK files, nothing under /usr/local, nothing owned by a build user.
if awk '{print $6}' "$WORK/outboxd.list" | grep -Ev '^\./(usr/bin/|usr/lib/outboxd/|etc/outboxd/|lib/systemd/system/|usr/share/man/man8/|usr/share/doc/outboxd/|(usr/|usr/share/|usr/share/man/|usr/share/doc/|usr/lib/|etc/|lib/|lib/systemd/)?$)'; then
  fail "outboxd: unexpected files (above)"
fi
if awk '$2 != "root/root"' "$WORK/outboxd.list" | grep .; then fail "outboxd: entries not owned by root (above)"; fi

# The man pages are real pages of the right commands.
dpkg-deb -x "$OUTBOXD_DEB" "$WORK/root"
# (Output goes to files first: `grep -q` in a pipe would break it, and pipefail would notice.)
zcat "$WORK/root/usr/share/man/man8/outboxd.8.gz" > "$WORK/outboxd.8"
zcat "$WORK/root/usr/share/man/man8/outboxctl.8.gz" > "$WORK/outboxctl.8"
grep -q '^\.TH OUTBOXD "8"' "$WORK/outboxd.8" || fail "outboxd.8 is not a section 8 page of outboxd"
grep -qF '\-\-config' "$WORK/outboxd.8" || fail "outboxd.8 does not document --config"
grep -qF '/etc/outboxd/outboxd.json' "$WORK/outboxd.8" || fail "outboxd.8 does not name the config file"
grep -q 'schema apply' "$WORK/outboxctl.8" || fail "outboxctl.8 does not document schema apply"
# Stripped (CPACK_STRIP_FILES), and the plugins export only the entry point.
for f in usr/bin/outboxd usr/lib/outboxd/plugins/handler_log.so; do
  if readelf -S "$WORK/root/$f" | grep -q '\.debug_info'; then fail "$f is not stripped"; fi
done
# The example configuration: static discovery, log handler, the compiled-in plugin_dir.
CONFIG="$WORK/root/etc/outboxd/outboxd.json"
grep -q '"plugin": "static"' "$CONFIG" || fail "example config does not use the static discovery"
grep -q '"plugin": "log"' "$CONFIG" || fail "example config does not use the log handler"
if grep -q '"plugin_dir"' "$CONFIG"; then fail "example config sets plugin_dir (it should use the default)"; fi
strings "$WORK/root/usr/bin/outboxd" > "$WORK/outboxd.strings"
grep -qx '/usr/lib/outboxd/plugins' "$WORK/outboxd.strings" ||
  fail "/usr/bin/outboxd does not have /usr/lib/outboxd/plugins as its default plugin_dir"

# --- outboxd: conffile and maintainer scripts ---------------------------------------------------
dpkg-deb -e "$OUTBOXD_DEB" "$WORK/control"
[ "$(cat "$WORK/control/conffiles")" = /etc/outboxd/outboxd.json ] || fail "conffiles: $(cat "$WORK/control/conffiles")"
for s in postinst prerm postrm; do
  [ -x "$WORK/control/$s" ] || { fail "no executable $s"; continue; }
  sh -n "$WORK/control/$s" || fail "$s: syntax error"
done
grep -q 'adduser .*--system' "$WORK/control/postinst" || fail "postinst does not create a system user"
grep -q 'deb-systemd-invoke stop outboxd.service' "$WORK/control/prerm" || fail "prerm does not stop the service"

# --- the systemd unit ---------------------------------------------------------------------------
UNIT="$WORK/root/lib/systemd/system/outboxd.service"
for line in 'Type=notify' 'NotifyAccess=main' \
    'ExecStartPre=/usr/bin/outboxd --check-config /etc/outboxd/outboxd.json' \
    'ExecStart=/usr/bin/outboxd --config /etc/outboxd/outboxd.json' \
    'ExecReload=/bin/kill -HUP $MAINPID' 'Restart=on-failure' 'RestartPreventExitStatus=2' \
    'User=outboxd' 'StateDirectory=outboxd' 'NoNewPrivileges=yes' 'ProtectSystem=strict' \
    'ProtectHome=yes' 'PrivateTmp=yes' 'PrivateDevices=yes' 'ProtectKernelTunables=yes' \
    'ProtectKernelModules=yes' 'ProtectKernelLogs=yes' \
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' 'SystemCallFilter=@system-service' \
    'LimitNOFILE=65536' 'WantedBy=multi-user.target'; do
  grep -qxF "$line" "$UNIT" || fail "outboxd.service lacks '$line'"
done
grep -q '^# *ReadWritePaths=' "$UNIT" || fail "outboxd.service does not document ReadWritePaths for SQLite tenants"
# verify, in a root holding the unpacked package plus this machine's units (for the targets the
# unit depends on), resolves the unit's binaries in the package.
# /bin/kill (ExecReload) comes from procps, a dependency. Documentation= is checked on the installed
# package (deb_install_test.sh), where man can find the pages.
cp -an /lib/systemd/system/. "$WORK/root/lib/systemd/system/"
mkdir -p "$WORK/root/bin" && cp /bin/kill "$WORK/root/bin/kill"
if ! systemd-analyze verify --man=no --root="$WORK/root" /lib/systemd/system/outboxd.service > "$WORK/verify.log" 2>&1 ||
   [ -s "$WORK/verify.log" ]; then
  cat "$WORK/verify.log" >&2
  fail "systemd-analyze verify reports problems (above)"
fi
# The check above can fail: the same verify, on a copy of the unit with a misspelt key (reported
# with exit code 0, hence the check on its output) and a missing ExecStart binary (exit code 1),
# reports both.
sed -e 's/^ProtectSystem=strict$/ProtectSytem=strict/' -e 's|^ExecStart=/usr/bin/outboxd |ExecStart=/usr/bin/outboxd-missing |' \
  "$UNIT" > "$WORK/root/lib/systemd/system/outboxd-broken.service"
systemd-analyze verify --man=no --root="$WORK/root" /lib/systemd/system/outboxd-broken.service \
  > "$WORK/verify-broken.log" 2>&1 || true
grep -q "Unknown key 'ProtectSytem'" "$WORK/verify-broken.log" &&
  grep -q '/usr/bin/outboxd-missing is not executable' "$WORK/verify-broken.log" || {
  cat "$WORK/verify-broken.log" >&2
  fail "systemd-analyze verify does not report a broken copy of the unit (above): its pass proves nothing"
}
rm "$WORK/root/lib/systemd/system/outboxd-broken.service"
systemd-analyze security --offline=true --root="$WORK/root" --no-pager \
  /lib/systemd/system/outboxd.service > "$WORK/security.log" 2>&1 || true
EXPOSURE=$(sed -n 's/.*Overall exposure level for outboxd.service: \([0-9.]*\).*/\1/p' "$WORK/security.log")
echo "systemd-analyze security: exposure ${EXPOSURE:-?} (0 safest, 10 unsafe)"
[ -n "$EXPOSURE" ] || { cat "$WORK/security.log" >&2; fail "no exposure level from systemd-analyze security"; }
# 2.0 or less is systemd's "OK" band; the unit sits well inside it.
if [ -n "$EXPOSURE" ] && ! awk -v e="$EXPOSURE" 'BEGIN { exit !(e <= 2.0) }'; then
  grep -E '^ *✗' "$WORK/security.log" >&2 || true
  fail "exposure $EXPOSURE is above 2.0"
fi

# --- outboxd-sdk-dev -----------------------------------------------------------------------------
[ "$(field "$SDK_DEB" Package)" = outboxd-sdk-dev ] || fail "SDK: Package is $(field "$SDK_DEB" Package)"
[ "$(field "$SDK_DEB" Version)" = "$VERSION" ] || fail "SDK: Version $(field "$SDK_DEB" Version)"
[ "$(field "$SDK_DEB" Architecture)" = all ] || fail "SDK: Architecture $(field "$SDK_DEB" Architecture)"
[ "$(field "$SDK_DEB" Section)" = libdevel ] || fail "SDK: Section $(field "$SDK_DEB" Section)"
dpkg-deb -c "$SDK_DEB" | awk '{print $6}' > "$WORK/sdk.list"
for f in ./usr/include/obx/plugin.h ./usr/include/obx/cpp/plugin.hpp ./usr/include/obx/testing/fake_host.hpp \
         ./usr/lib/cmake/outboxd-sdk/outboxd-sdkConfig.cmake \
         ./usr/lib/cmake/outboxd-sdk/outboxd-sdkConfigVersion.cmake \
         ./usr/lib/cmake/outboxd-sdk/outboxd-sdkTargets.cmake ./usr/lib/cmake/outboxd-sdk/plugin.map \
         ./usr/share/doc/outboxd-sdk-dev/copyright ./usr/share/doc/outboxd-sdk-dev/changelog.Debian.gz \
         ./usr/share/doc/outboxd-sdk-dev/README.md ./usr/share/doc/outboxd-sdk-dev/ABI_VERSIONING.md; do
  grep -qxF "$f" "$WORK/sdk.list" || fail "SDK: $f missing"
done
# Debian policy 12.3: a package's documentation is in /usr/share/doc/<package>/, one folder.
if grep -E '^\./usr/share/doc/.' "$WORK/sdk.list" | grep -Ev '^\./usr/share/doc/outboxd-sdk-dev/'; then
  fail "SDK: documentation outside /usr/share/doc/outboxd-sdk-dev/ (above)"
fi
if grep -E '\.so$|^\./usr/bin/|^\./etc/' "$WORK/sdk.list"; then fail "SDK: holds binaries or config (above)"; fi

# --- lintian --------------------------------------------------------------------------------------
for deb in "$OUTBOXD_DEB" "$SDK_DEB"; do
  lintian --allow-root --tag-display-limit 0 "$deb" > "$WORK/lintian.log" 2>&1 || true
  echo "lintian $(basename "$deb"):"
  sed 's/^/  /' "$WORK/lintian.log"
  if grep -q '^E: ' "$WORK/lintian.log"; then fail "lintian reports errors for $(basename "$deb")"; fi
done

finish
