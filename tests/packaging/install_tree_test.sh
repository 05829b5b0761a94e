#!/usr/bin/env bash
# `cmake --install <build> --prefix <empty folder>` gives a working tree: the layout of
# cmake/OutboxdInstall.cmake, and the quick start's scenario (samples/quickstart/run.sh: `sql`
# discovery on a global Customers table, `exec` and `log` handlers, a customer added and one
# deactivated while outboxd runs) run with the installed binaries and the plugins installed with
# them. Needs no root.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_tool cmake sqlite3
WORK=$(mktemp -d)
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill -KILL "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

P="$WORK/prefix"
cmake --install "$BUILD" --prefix "$P" > "$WORK/install.log" 2>&1 || { cat "$WORK/install.log" >&2; die "cmake --install failed"; }
LIBDIR=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
PLUGINS="$P/${LIBDIR:-lib}/outboxd/plugins"
for f in bin/outboxd bin/outboxctl etc/outboxd/outboxd.json lib/systemd/system/outboxd.service \
         include/obx/plugin.h "${LIBDIR:-lib}/cmake/outboxd-sdk/outboxd-sdkConfig.cmake" \
         share/doc/outboxd/README.md share/doc/outboxd/copyright; do
  [ -f "$P/$f" ] || fail "no $f in the installed tree"
done
for p in discovery_sql discovery_static handler_exec handler_log; do
  [ "$(stat -c '%a' "$PLUGINS/$p.so" 2>/dev/null)" = 644 ] || fail "$PLUGINS/$p.so missing or not 0644"
done
[ "$(stat -c '%a' "$PLUGINS")" = 755 ] || fail "$PLUGINS is not 0755"
grep -qxF "ExecStart=$P/bin/outboxd --config $P/etc/outboxd/outboxd.json" "$P/lib/systemd/system/outboxd.service" ||
  fail "the installed unit does not name the installed binary and config"
[ "$FAILURES" -eq 0 ] || finish

# --- the quick start's scenario with the installed tree ------------------------------------------
BIN="$P/bin"
export SENT_MAIL_LOG="$WORK/sent-mail.log"
: > "$SENT_MAIL_LOG"
sqlite3 "$WORK/global.db" "CREATE TABLE Customers (CustomerId TEXT PRIMARY KEY, CustomerName TEXT NOT NULL,
  ConnectionString TEXT NOT NULL, IsActive INTEGER NOT NULL DEFAULT 1);"
new_customer() {  # id name
  local db="$WORK/$1.db" who
  "$BIN/outboxctl" schema apply --connection "sqlite:$db" > /dev/null
  for who in alice bob; do
    "$BIN/outboxctl" enqueue --connection "sqlite:$db" --topic email.send \
      --payload "{\"to\":\"$who@$1.example\",\"subject\":\"Welcome to $2\"}" > /dev/null
  done
  "$BIN/outboxctl" enqueue --connection "sqlite:$db" --topic report.generate \
    --payload "{\"report\":\"monthly\",\"customer\":\"$1\"}" > /dev/null
  sqlite3 "$WORK/global.db" "INSERT INTO Customers VALUES ('$1', '$2', 'sqlite:$db', 1);"
}
stats() { "$BIN/outboxctl" stats --connection "sqlite:$WORK/$1.db"; }
all_done() { local c; for c in "$@"; do [ "$(stats "$c")" = '{"ready":0,"in_progress":0,"done":3,"failed":0}' ] || return 1; done; }
refreshes() { grep -c 'Discovery complete' "$WORK/outboxd.log" || true; }
new_customer customer-001 "Acme Corp"
new_customer customer-002 "Globex Inc"
new_customer customer-003 "Initech"
cat > "$WORK/outboxd.json" <<JSON
{
  "plugin_dir": "$PLUGINS",
  "discovery": { "plugin": "sql", "config": { "connection": "sqlite:$WORK/global.db" },
                 "refresh_interval": "1s" },
  "dispatch": { "poll_interval": "100ms", "workers": 2 },
  "handlers": [
    { "plugin": "exec", "topics": ["email.send"],
      "config": { "command": ["$SOURCE/samples/quickstart/send_email.sh"], "timeout": "10s",
                  "env": { "SENT_MAIL_LOG": "$SENT_MAIL_LOG" } } },
    { "plugin": "log", "topics": ["report.generate"] }
  ]
}
JSON
"$BIN/outboxd" --config "$WORK/outboxd.json" 2> "$WORK/outboxd.log" &
PID=$!
wait_for 60 "the first three customers delivered" all_done customer-001 customer-002 customer-003 ||
  { cat "$WORK/outboxd.log" >&2; die "the installed tree did not deliver the first customers"; }
new_customer customer-004 "Umbrella"
wait_for 60 "customer-004 discovered and delivered" all_done customer-004 ||
  { cat "$WORK/outboxd.log" >&2; die "customer-004 was not delivered"; }
sqlite3 "$WORK/global.db" "UPDATE Customers SET IsActive = 0 WHERE CustomerId = 'customer-002';"
wait_for 60 "customer-002 removed" grep -q 'Outbox database removed: customer-002' "$WORK/outboxd.log" ||
  die "customer-002 was not removed"
"$BIN/outboxctl" enqueue --connection "sqlite:$WORK/customer-002.db" --topic email.send \
  --payload '{"to":"carol@customer-002.example"}' > /dev/null
# Two further refreshes (with sweeps of every store between them) without customer-002.
SEEN=$(refreshes)
refreshed_twice() { [ "$(refreshes)" -ge $((SEEN + 2)) ]; }
wait_for 30 "two more refreshes" refreshed_twice || die "no refreshes after the deactivation"
[ "$(stats customer-002)" = '{"ready":1,"in_progress":0,"done":3,"failed":0}' ] ||
  fail "deactivated customer-002: $(stats customer-002)"
kill -TERM "$PID"
STATUS=0
wait "$PID" || STATUS=$?
PID=""
[ "$STATUS" -eq 0 ] || fail "outboxd exited with $STATUS on SIGTERM"
[ "$(wc -l < "$SENT_MAIL_LOG")" -eq 8 ] || fail "expected 8 emails sent, got $(wc -l < "$SENT_MAIL_LOG")"
[ "$(grep -c '\[plugin:log\]' "$WORK/outboxd.log")" -ge 4 ] || fail "the log handler logged fewer than 4 reports"
grep -q "loaded plugin 'sql'.* from $PLUGINS/discovery_sql.so" "$WORK/outboxd.log" ||
  fail "the sql plugin was not loaded from the installed tree"
if [ "$FAILURES" -ne 0 ]; then cat "$WORK/outboxd.log" >&2; fi
finish
