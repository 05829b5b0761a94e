#!/usr/bin/env bash
# outboxd burn-down on SQLite with the real binaries (bench/sqlite_demo_shape.sh, parametrised for
# bench/run): T tenant files found by the `sql` discovery plugin from a global Customers table,
# N messages each, the built-in `log` handler at log level warn (the handler does nothing but one
# log_enabled callback), `outboxd --drain`. Messages/s from the first to the last processed_at in
# the tenant tables (start-up and set-up excluded).
# Usage: bench/sqlite_burndown.sh [tenants=1] [messages_per_tenant=100000] [workers=4] [batch=50]
# Env: OBX_BUILD_DIR (default build). Prints one JSON object.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
T=${1:-1}; N=${2:-100000}; W=${3:-4}; B=${4:-50}
BUILD="${OBX_BUILD_DIR:-$ROOT/build}"
BIN="$BUILD/bin"
WORK="$(mktemp -d /tmp/obx-bench-sqlite-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
sqlite3 "$WORK/global.db" "CREATE TABLE Customers (CustomerId TEXT PRIMARY KEY, CustomerName TEXT,
  ConnectionString TEXT NOT NULL, IsActive INTEGER NOT NULL DEFAULT 1);"
"$BIN/outboxctl" schema apply --connection "sqlite:$WORK/template.db" >/dev/null  # once; copies below
# Every tenant holds the same N messages: fill the template once and copy it (one sqlite3 process
# per tenant cost ~90 ms each, 9 s for 100 tenants).
sqlite3 "$WORK/template.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
  INSERT INTO outbox (topic, payload) SELECT 'email.send', '{\"to\":\"user' || i || '@example.com\"}' FROM n;
  PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
for t in $(seq 1 "$T"); do
  cp "$WORK/template.db" "$WORK/tenant-$t.db"
  echo "INSERT INTO Customers VALUES ('tenant-$t', 'T$t', 'sqlite:$WORK/tenant-$t.db', 1);"
done | sqlite3 "$WORK/global.db"
cat > "$WORK/outboxd.json" <<JSON
{ "plugin_dir": "$BUILD/plugins", "staging_dir": "$WORK/staging", "log_level": "warn",
  "discovery": { "plugin": "sql", "config": { "connection": "sqlite:$WORK/global.db" } },
  "dispatch": { "workers": $W, "batch_size": $B, "poll_interval": "10ms" },
  "handlers": [ { "plugin": "log", "topics": ["email.send"] } ] }
JSON
start=$(date +%s.%N)
"$BIN/outboxd" --config "$WORK/outboxd.json" --drain 2>"$WORK/outboxd.log" \
  || { tail -20 "$WORK/outboxd.log" >&2; exit 1; }
end=$(date +%s.%N)
first=""; last=""; done_total=0
for t in $(seq 1 "$T"); do
  read -r c f l < <(sqlite3 -separator ' ' "$WORK/tenant-$t.db" \
    "SELECT count(*), min(processed_at), max(processed_at) FROM outbox WHERE status = 2")
  done_total=$((done_total + c))
  if [ -z "$first" ] || [ "$f" -lt "$first" ]; then first=$f; fi
  if [ -z "$last" ] || [ "$l" -gt "$last" ]; then last=$l; fi
done
awk -v n="$done_total" -v f="$first" -v l="$last" -v s="$start" -v e="$end" -v t="$T" -v w="$W" -v b="$B" -v want=$((T * N)) 'BEGIN {
  span = (l - f) / 1000.0; if (span <= 0) span = 0.001;
  printf "{\"tenants\":%d,\"workers\":%d,\"batch\":%d,\"expected\":%d,\"done\":%d,\"seconds\":%.3f,\"msgs_per_s\":%.1f,\"wall_s\":%.2f}\n",
         t, w, b, want, n, span, n / span, e - s }'
