#!/usr/bin/env bash
# Installs the packages built by packaging/build-deb.sh on this machine (root only; the test
# command runs as root on a throwaway machine) and uses them as an operator would:
#  1. dpkg -i outboxd: the outboxd system user, /var/lib/outboxd, root-owned plugin folder;
#     systemd-analyze verify on the installed unit;
#  2. the installed /usr/bin/outboxd runs as the outboxd user with the packaged
#     /etc/outboxd/outboxd.json against a small SQLite tenant until a message is delivered, and
#     stops cleanly on SIGTERM;
#  3. a reinstall (upgrade path) keeps a modified conffile and is idempotent;
#  4. dpkg -i outboxd-sdk-dev, then samples/handler_send_email builds against it with no
#     CMAKE_PREFIX_PATH;
#  5. dpkg --purge of both leaves nothing but the tenant database.
# Cleans up after itself whatever happens: both packages purged, the test database removed, and
# the outboxd user removed when the test created it. Refuses to run when outboxd is already
# installed, or /var/lib/outboxd exists, so as never to touch someone else's installation.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root
require_tool dpkg setpriv flock systemd-analyze cmake
find_packages

# One such test at a time on this machine (other work trees may run it too).
exec 9> /run/lock/outboxd-deb-install-test.lock
flock -w 900 9 || die "another deb_install_test held the lock for 15 minutes"

for p in outboxd outboxd-sdk-dev; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'installed\|config-files\|unpacked'; then
    die "$p is already installed here; not touching it (dpkg --purge $p, then run again)"
  fi
done
[ ! -e /var/lib/outboxd ] || die "/var/lib/outboxd already exists; not touching it"
[ ! -e /etc/outboxd ] || die "/etc/outboxd already exists; not touching it"
USER_EXISTED=0
if getent passwd outboxd >/dev/null; then USER_EXISTED=1; fi

WORK=$(mktemp -d)
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill -KILL "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  dpkg --purge outboxd outboxd-sdk-dev > /dev/null 2>&1 || true
  rm -f /etc/systemd/system/multi-user.target.wants/outboxd.service \
        /var/lib/systemd/deb-systemd-helper-enabled/outboxd.service.dsh-also
  rm -f /var/lib/outboxd/example.db /var/lib/outboxd/example.db-wal /var/lib/outboxd/example.db-shm
  rmdir /var/lib/outboxd 2>/dev/null || true
  if [ "$USER_EXISTED" -eq 0 ] && getent passwd outboxd >/dev/null; then
    userdel outboxd || echo "cleanup: could not remove the outboxd user" >&2
  fi
  if [ "$USER_EXISTED" -eq 0 ] && getent group outboxd >/dev/null; then
    groupdel outboxd || echo "cleanup: could not remove the outboxd group" >&2
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
cd /  # the outboxd user cannot read the build tree
# Under OBX_SANITIZE the binaries are ASan builds: the outboxd user cannot read the build tree's
# LSan suppressions, so leak checking is off for them here (the sanitizer suites cover leaks).
RUN_AS=(env -u LSAN_OPTIONS ASAN_OPTIONS=detect_leaks=0 setpriv --reuid=outboxd --regid=outboxd --init-groups --)
as_outboxd() { "${RUN_AS[@]}" "$@"; }

# --- 1. install ------------------------------------------------------------------------------------
dpkg -i "$OUTBOXD_DEB" > "$WORK/dpkg-i.log" 2>&1 || { cat "$WORK/dpkg-i.log" >&2; die "dpkg -i outboxd failed"; }
[ "$(dpkg-query -W -f='${Status}' outboxd)" = "install ok installed" ] || die "outboxd is not installed after dpkg -i"
getent passwd outboxd > "$WORK/passwd" || die "no outboxd user"
OBX_UID=$(cut -d: -f3 "$WORK/passwd")
[ "$OBX_UID" -lt 1000 ] || fail "outboxd user is not a system user (uid $OBX_UID)"
case "$(cut -d: -f7 "$WORK/passwd")" in */nologin|/bin/false) ;; *) fail "outboxd user has a login shell";; esac
getent group outboxd >/dev/null || fail "no outboxd group"
[ "$(stat -c '%U:%G %a' /var/lib/outboxd)" = "outboxd:outboxd 750" ] || fail "/var/lib/outboxd is $(stat -c '%U:%G %a' /var/lib/outboxd)"
# What outboxd's plugin check wants: root-owned, not writable by group or others.
[ "$(stat -c '%U %a' /usr/lib/outboxd/plugins)" = "root 755" ] || fail "plugin folder is $(stat -c '%U %a' /usr/lib/outboxd/plugins)"
for so in /usr/lib/outboxd/plugins/*.so; do
  [ "$(stat -c '%U %a' "$so")" = "root 644" ] || fail "$so is $(stat -c '%U %a' "$so")"
done
systemd-analyze verify /lib/systemd/system/outboxd.service > "$WORK/verify.log" 2>&1 || true
if [ -s "$WORK/verify.log" ]; then cat "$WORK/verify.log" >&2; fail "systemd-analyze verify on the installed unit (above)"; fi
# The operator enables the service as the README says (offline here: no systemd as PID 1 is needed
# to make the link); the purge below must take the link away with the unit.
WANTS=/etc/systemd/system/multi-user.target.wants/outboxd.service
systemctl enable outboxd.service > "$WORK/enable.log" 2>&1 || { cat "$WORK/enable.log" >&2; fail "systemctl enable outboxd failed"; }
[ -L "$WANTS" ] || fail "systemctl enable did not make $WANTS"

# --- 2. the installed daemon, as the outboxd user, with the packaged configuration ---------------
DB=sqlite:/var/lib/outboxd/example.db
as_outboxd /usr/bin/outboxctl schema apply --connection "$DB" > /dev/null || die "outboxctl schema apply as outboxd failed"
ID=$(as_outboxd /usr/bin/outboxctl enqueue --connection "$DB" --topic example.hello \
       --payload '{"hello":"from the package test"}') || die "outboxctl enqueue failed"
done_count() { as_outboxd /usr/bin/outboxctl stats --connection "$DB" | sed -E 's/.*"done":([0-9]+).*/\1/'; }
[ "$(done_count)" = 0 ] || die "a message is done before outboxd ran"
# The unit's ExecStartPre: the packaged configuration checks out as the outboxd user.
as_outboxd /usr/bin/outboxd --check-config /etc/outboxd/outboxd.json > "$WORK/check.log" 2>&1 \
  || { cat "$WORK/check.log" >&2; fail "outboxd --check-config rejects the packaged configuration"; }
# The packaged metrics port (9780) may be taken on a shared test machine: any free port instead.
sed -i 's/"127.0.0.1:9780"/"127.0.0.1:0"/' /etc/outboxd/outboxd.json
# env and setpriv exec, so $! is outboxd itself (a shell function here would be a subshell); the
# daemon must not inherit the lock (fd 9).
"${RUN_AS[@]}" /usr/bin/outboxd --config /etc/outboxd/outboxd.json 2> "$WORK/outboxd.log" 9>&- &
PID=$!
delivered() { [ "$(done_count)" = 1 ]; }
if ! wait_for 60 "the message delivered by the installed outboxd" delivered; then
  cat "$WORK/outboxd.log" >&2
  die "the installed outboxd did not deliver the message"
fi
[ "$(ps -o user= -p "$PID" | tr -d ' ')" = outboxd ] || fail "outboxd did not run as the outboxd user"
grep -q "topic=example.hello message_id=$ID" "$WORK/outboxd.log" || fail "the log handler did not log message $ID"
grep -q "loaded plugin 'static'.*/usr/lib/outboxd/plugins/" "$WORK/outboxd.log" ||
  fail "plugins were not loaded from the default /usr/lib/outboxd/plugins"
[ "$(stat -c '%U %a' /var/lib/outboxd/staging)" = "outboxd 700" ] || fail "staging folder is $(stat -c '%U %a' /var/lib/outboxd/staging)"
kill -TERM "$PID"
STATUS=0
wait "$PID" || STATUS=$?
PID=""
[ "$STATUS" -eq 0 ] || { cat "$WORK/outboxd.log" >&2; fail "outboxd exited with $STATUS on SIGTERM"; }
echo "delivered by /usr/bin/outboxd as outboxd: $(grep -c 'topic=example.hello' "$WORK/outboxd.log") log line(s)"

# --- 3. reinstall over a modified conffile: kept, scripts idempotent -----------------------------
sed -i 's/"log_level": "info"/"log_level": "debug"/' /etc/outboxd/outboxd.json
grep -q '"log_level": "debug"' /etc/outboxd/outboxd.json || die "could not modify the conffile"
dpkg -i "$OUTBOXD_DEB" > "$WORK/dpkg-i2.log" 2>&1 || { cat "$WORK/dpkg-i2.log" >&2; die "reinstalling outboxd failed"; }
grep -q '"log_level": "debug"' /etc/outboxd/outboxd.json || fail "reinstall replaced the modified conffile"
[ "$(getent passwd outboxd | cut -d: -f3)" = "$OBX_UID" ] || fail "reinstall changed the outboxd user"
if grep -qi 'warning\|error' "$WORK/dpkg-i2.log"; then cat "$WORK/dpkg-i2.log" >&2; fail "reinstall printed warnings"; fi

# --- 4. the SDK package: the sample builds with no CMAKE_PREFIX_PATH -----------------------------
dpkg -i "$SDK_DEB" > "$WORK/dpkg-sdk.log" 2>&1 || { cat "$WORK/dpkg-sdk.log" >&2; die "dpkg -i outboxd-sdk-dev failed"; }
cp -r "$SOURCE/samples/handler_send_email" "$WORK/sample"
rm -rf "$WORK/sample/build"
if ! (env -u CMAKE_PREFIX_PATH cmake -S "$WORK/sample" -B "$WORK/sample-build" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF && cmake --build "$WORK/sample-build" -j2) > "$WORK/sample.log" 2>&1; then
  cat "$WORK/sample.log" >&2
  fail "samples/handler_send_email does not build against the installed outboxd-sdk-dev"
fi
grep -q 'outboxd-sdk_DIR:PATH=/usr/lib/cmake/outboxd-sdk' "$WORK/sample-build/CMakeCache.txt" 2>/dev/null ||
  fail "the sample did not find the SDK in /usr/lib/cmake/outboxd-sdk"
SO="$WORK/sample-build/handler_send_email.so"
if [ -f "$SO" ]; then
  [ "$(nm -D --defined-only "$SO" | awk '{print $3}')" = obx_plugin_entry_v1 ] || fail "the sample exports more than its entry point"
else
  fail "no $SO"
fi

# --- 5. remove, then purge: nothing left but the database -----------------------------------------
dpkg-deb -c "$OUTBOXD_DEB" | awk '$1 !~ /^d/ {print substr($6, 2)}' > "$WORK/files"
dpkg-deb -c "$SDK_DEB" | awk '$1 !~ /^d/ {print substr($6, 2)}' >> "$WORK/files"
dpkg -r outboxd > "$WORK/dpkg-r.log" 2>&1 || { cat "$WORK/dpkg-r.log" >&2; fail "dpkg -r outboxd failed"; }
[ ! -e /usr/bin/outboxd ] || fail "dpkg -r left /usr/bin/outboxd"
[ -f /etc/outboxd/outboxd.json ] || fail "dpkg -r removed the conffile (only purge should)"
[ -f /var/lib/outboxd/example.db ] || fail "dpkg -r removed the tenant database"
dpkg --purge outboxd outboxd-sdk-dev > "$WORK/dpkg-purge.log" 2>&1 || { cat "$WORK/dpkg-purge.log" >&2; fail "dpkg --purge failed"; }
for p in outboxd outboxd-sdk-dev; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'installed\|config-files'; then fail "$p still known to dpkg after purge"; fi
done
while read -r f; do
  [ ! -e "$f" ] || fail "purge left $f"
done < "$WORK/files"
for d in /etc/outboxd /usr/lib/outboxd /usr/include/obx /usr/lib/cmake/outboxd-sdk /usr/share/doc/outboxd \
         /usr/share/doc/outboxd-sdk-dev /var/lib/outboxd/staging; do
  [ ! -e "$d" ] || fail "purge left $d"
done
[ ! -e /var/lib/systemd/deb-systemd-helper-enabled/outboxd.service.dsh-also ] || fail "purge left deb-systemd-helper state"
[ ! -L "$WANTS" ] || fail "purge left the enabled service's link $WANTS"
LEFT=$(ls -A /var/lib/outboxd 2>/dev/null | grep -v '^example\.db\(-wal\|-shm\)\?$' || true)
[ -z "$LEFT" ] || fail "purge left in /var/lib/outboxd: $LEFT"
[ -f /var/lib/outboxd/example.db ] || fail "purge removed the tenant database"
grep -q 'kept /var/lib/outboxd' "$WORK/dpkg-purge.log" || fail "purge did not say it kept /var/lib/outboxd"

finish
