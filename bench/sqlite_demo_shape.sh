#!/usr/bin/env bash
# Burn-down throughput on SQLite in the quick start's shape: T tenant databases discovered through
# the `sql` plugin from a global Customers table, N messages each, the built-in `log` handler (log
# level warn, so the handler itself costs ~nothing), `outboxd --drain`. Prints messages/s measured
# from the first to the last processed_at in the tenant tables (start-up excluded).
# Usage: bench/sqlite_demo_shape.sh [tenants=4] [messages_per_tenant=25000] [workers=4] [batch=50]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
T=${1:-4}; N=${2:-25000}; W=${3:-4}; B=${4:-50}
BIN="$ROOT/build/bin"
WORK="$(mktemp -d /tmp/obx-bench-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
sqlite3 "$WORK/global.db" "CREATE TABLE Customers (CustomerId TEXT PRIMARY KEY, CustomerName TEXT,
  ConnectionString TEXT NOT NULL, IsActive INTEGER NOT NULL DEFAULT 1);"
for t in $(seq 1 "$T"); do
  db="$WORK/tenant-$t.db"
  "$BIN/outboxctl" schema apply --connection "sqlite:$db" >/dev/null
  sqlite3 "$db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
    INSERT INTO outbox (topic, payload) SELECT 'email.send', '{\"to\":\"user' || i || '@example.com\"}' FROM n;"
  sqlite3 "$WORK/global.db" "INSERT INTO Customers VALUES ('tenant-$t', 'T$t', 'sqlite:$db', 1);"
done
cat > "$WORK/outboxd.json" <<JSON
{ "plugin_dir": "$ROOT/build/plugins", "log_level": "warn",
  "discovery": { "plugin": "sql", "config": { "connection": "sqlite:$WORK/global.db" } },
  "dispatch": { "workers": $W, "batch_size": $B, "poll_interval": "10ms" },
  "handlers": [ { "plugin": "log", "topics": ["email.send"] } ] }
JSON
start=$(date +%s.%N)
"$BIN/outboxd" --config "$WORK/outboxd.json" --drain 2>"$WORK/outboxd.log"
end=$(date +%s.%N)
first=""; last=""
for t in $(seq 1 "$T"); do
  read -r f l < <(sqlite3 -separator ' ' "$WORK/tenant-$t.db" "SELECT min(processed_at), max(processed_at) FROM outbox WHERE status = 2")
  if [ -z "$first" ] || [ "$f" -lt "$first" ]; then first=$f; fi
  if [ -z "$last" ] || [ "$l" -gt "$last" ]; then last=$l; fi
done
done_total=0
for t in $(seq 1 "$T"); do
  done_total=$((done_total + $(sqlite3 "$WORK/tenant-$t.db" "SELECT count(*) FROM outbox WHERE status = 2")))
done
awk -v n="$done_total" -v f="$first" -v l="$last" -v s="$start" -v e="$end" -v t="$T" -v w="$W" -v b="$B" 'BEGIN {
  span = (l - f) / 1000.0; if (span <= 0) span = 0.001;
  printf "tenants=%d workers=%d batch=%d done=%d  processing span %.2f s  ->  %.0f msg/s  (wall incl. start-up %.2f s)\n",
         t, w, b, n, span, n / span, e - s }'
