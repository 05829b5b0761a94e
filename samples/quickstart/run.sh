#!/usr/bin/env bash
# outboxd quick start: the seed scenario on embedded SQLite, end to end.
#  1. installs dependencies (Debian 12, apt-get) and builds outboxd;
#  2. creates a global database with a Customers table and three customer databases with messages;
#  3. runs outboxd with the `sql` discovery plugin (refresh every 2 s) and two handler plugins:
#     `exec` (email.send -> send_email.sh) and `log` (report.generate);
#  4. while it runs: adds customer-004, deactivates customer-002, and shows what happens.
# Everything lives in build/quickstart/ (recreated each run).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/samples/quickstart"
cd "$ROOT"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Installing dependencies and building (first run takes a few minutes)"
bash packaging/install-deps.sh
OBX_BUILD_TARGETS="outboxd outboxctl discovery_sql handler_exec handler_log" bash packaging/build.sh
BIN="$ROOT/build/bin"
WORK="$ROOT/build/quickstart"
rm -rf "$WORK" && mkdir -p "$WORK"
export SENT_MAIL_LOG="$WORK/sent-mail.log"
: > "$SENT_MAIL_LOG"

new_customer() {  # id name -> creates the customer's database with a few messages
  local id=$1 name=$2 db="$WORK/$1.db"
  "$BIN/outboxctl" schema apply --connection "sqlite:$db" >/dev/null
  for who in alice bob; do
    "$BIN/outboxctl" enqueue --connection "sqlite:$db" --topic email.send \
      --payload "{\"to\":\"$who@$id.example\",\"subject\":\"Welcome to $name\"}" >/dev/null
  done
  "$BIN/outboxctl" enqueue --connection "sqlite:$db" --topic report.generate \
    --payload "{\"report\":\"monthly\",\"customer\":\"$id\"}" --correlation-id "rep-$id" >/dev/null
  sqlite3 "$WORK/global.db" "INSERT INTO Customers (CustomerId, CustomerName, ConnectionString, IsActive)
                             VALUES ('$id', '$name', 'sqlite:$db', 1);"
  echo "  $id ($name): 3 messages waiting in $db"
}

stats() { "$BIN/outboxctl" stats --connection "sqlite:$WORK/$1.db"; }
done_count() { stats "$1" | sed -E 's/.*"done":([0-9]+).*/\1/'; }
wait_for() {  # description, command...: polls up to 30 s
  local what=$1; shift
  for _ in $(seq 1 300); do
    if "$@"; then return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for: $what" >&2
  return 1
}

say "Creating the global database and three customer databases"
sqlite3 "$WORK/global.db" "CREATE TABLE Customers (
    CustomerId TEXT PRIMARY KEY, CustomerName TEXT NOT NULL, ConnectionString TEXT NOT NULL,
    IsActive INTEGER NOT NULL DEFAULT 1, CreatedAt TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);"
new_customer customer-001 "Acme Corp"
new_customer customer-002 "Globex Inc"
new_customer customer-003 "Initech"

cat > "$WORK/outboxd.json" <<JSON
{
  "plugin_dir": "$ROOT/build/plugins",
  "discovery": {
    "plugin": "sql",
    "config": { "connection": "sqlite:$WORK/global.db" },
    "refresh_interval": "2s"
  },
  "dispatch": { "strategy": "round-robin", "poll_interval": "100ms", "workers": 2 },
  "handlers": [
    { "plugin": "exec", "topics": ["email.send"],
      "config": { "command": ["$HERE/send_email.sh"], "timeout": "10s",
                  "env": { "SENT_MAIL_LOG": "$SENT_MAIL_LOG" } } },
    { "plugin": "log", "topics": ["report.generate"] }
  ]
}
JSON

say "Starting outboxd (log: build/quickstart/outboxd.log)"
"$BIN/outboxd" --config "$WORK/outboxd.json" 2> "$WORK/outboxd.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
# Show the operator-facing lines as they happen.
tail --pid="$PID" -n +1 -F "$WORK/outboxd.log" 2>/dev/null | grep --line-buffered -E \
  'Discovered new|removed|Discovery complete|Processing [0-9]+ outbox|\[plugin:log\]|Stopp' \
  | sed -u -E 's/^\[[^]]*\] \[outboxd\] //; s/^/  outboxd | /' &
TAIL=$!

wait_for "the first three customers" bash -c "[ \$(wc -l < '$SENT_MAIL_LOG') -ge 6 ]"
for c in customer-001 customer-002 customer-003; do
  wait_for "$c done" bash -c "[ \"\$('$BIN/outboxctl' stats --connection sqlite:$WORK/$c.db | sed -E 's/.*\"done\":([0-9]+).*/\\1/')\" = 3 ]"
done

say "Adding customer-004 to the Customers table (picked up at the next refresh)"
new_customer customer-004 "Umbrella"
wait_for "customer-004 delivered" bash -c "[ \"\$('$BIN/outboxctl' stats --connection sqlite:$WORK/customer-004.db | sed -E 's/.*\"done\":([0-9]+).*/\\1/')\" = 3 ]"

say "Deactivating customer-002 (UPDATE Customers SET IsActive = 0)"
sqlite3 "$WORK/global.db" "UPDATE Customers SET IsActive = 0 WHERE CustomerId = 'customer-002';"
wait_for "customer-002 removed" grep -q "Outbox database removed: customer-002" "$WORK/outboxd.log"
"$BIN/outboxctl" enqueue --connection "sqlite:$WORK/customer-002.db" --topic email.send \
  --payload '{"to":"carol@customer-002.example","subject":"Are you still there?"}' >/dev/null
sleep 3  # two refresh intervals: long enough to show the message is NOT picked up
echo "  customer-002 after deactivation: $(stats customer-002)  (the new message stays ready)"

say "Stopping outboxd (SIGTERM: finishes in-flight messages, exits 0)"
kill -TERM $PID
wait $PID && echo "  outboxd exited with 0"
trap - EXIT
sleep 0.3; kill $TAIL 2>/dev/null || true

say "Result"
for c in customer-001 customer-002 customer-003 customer-004; do echo "  $c: $(stats $c)"; done
echo "  emails sent ($SENT_MAIL_LOG):"
sed 's/^/    /' "$SENT_MAIL_LOG"
