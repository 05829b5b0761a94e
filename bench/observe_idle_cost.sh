#!/usr/bin/env bash
# What metrics cost at idle (issue 10): outboxd over N idle PostgreSQL tenant databases (default
# 1,000), once with metrics off (no http.listen) and once on (http.listen, default
# backlog_interval 30 s), each over a window of S seconds (default 60) after a settle time:
# outboxd CPU % of one core (/proc/<pid>/stat), transactions/s on the server (pg_stat_database
# xact_commit + xact_rollback deltas: one per statement outside a transaction), and the largest
# number of connections to tenant databases (pg_stat_activity, sampled every second). With
# metrics on it also times GET /metrics (10 scrapes, curl time_total). Prints one line per run.
#
#   bash bench/observe_idle_cost.sh [tenants=1000] [seconds=60] [settle=40]
#
# Runs its own throwaway cluster (packaging/pg-cluster.sh) and removes it at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${OBX_BUILD_DIR:-$ROOT/build}
T=${1:-1000}
S=${2:-60}
SETTLE=${3:-40}
WORK=$(mktemp -d /tmp/obx-observe-cost-XXXXXX)
export OBX_PG_MAX_CONNECTIONS=300
source "$ROOT/packaging/pg-cluster.sh"
obx_pg_start >/dev/null
trap 'kill "${PID:-0}" 2>/dev/null || true; obx_pg_stop; rm -rf "$WORK"' EXIT
SERVER=${OBX_TEST_PG_URL%/postgres}
q() { psql -qAtX -v ON_ERROR_STOP=1 "$@"; }

q "$SERVER/postgres" -c "CREATE DATABASE obx_tmpl"
"$BUILD/bin/outboxctl" schema apply --connection "$SERVER/obx_tmpl" >/dev/null
for i in $(seq 1 "$T"); do echo "CREATE DATABASE obx_t_$i TEMPLATE obx_tmpl STRATEGY FILE_COPY;"; done |
  q "$SERVER/postgres" >/dev/null
python3 - "$T" "$SERVER" > "$WORK/tenants.json" <<'PY'
import json, sys
t, server = int(sys.argv[1]), sys.argv[2]
print(json.dumps({"databases": [{"identifier": "obx_t_%d" % i, "connection_string": "%s/obx_t_%d" % (server, i)} for i in range(1, t + 1)]}))
PY
mkdir -p "$WORK/plugins" && chmod 755 "$WORK/plugins"
cp "$BUILD/plugins/discovery_static.so" "$BUILD/plugins/handler_log.so" "$WORK/plugins/"
chmod 755 "$WORK/plugins"/*.so

run() {  # run <label> <extra top-level JSON members or "">
  local label=$1 extra=$2
  cat > "$WORK/outboxd.json" <<JSON
{ "plugin_dir": "$WORK/plugins", "log_level": "info"${extra:+, $extra},
  "discovery": { "plugin": "static", "config": { "file": "$WORK/tenants.json" } },
  "handlers": [ { "plugin": "log", "topics": ["email.send"] } ] }
JSON
  "$BUILD/bin/outboxd" --config "$WORK/outboxd.json" 2>"$WORK/$label.log" &
  PID=$!
  sleep "$SETTLE"
  local hz x0 x1 c0 c1 w0 w1 conns max=0
  hz=$(getconf CLK_TCK)
  local stat_sql="SELECT sum(xact_commit + xact_rollback) FROM pg_stat_database"
  x0=$(q "$SERVER/postgres" -c "$stat_sql"); c0=$(awk '{print $14 + $15}' "/proc/$PID/stat"); w0=$(date +%s.%N)
  for _ in $(seq 1 "$S"); do
    sleep 1
    conns=$(q "$SERVER/postgres" -c "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE 'obx\_t\_%'")
    [ "$conns" -gt "$max" ] && max=$conns
  done
  c1=$(awk '{print $14 + $15}' "/proc/$PID/stat"); w1=$(date +%s.%N)
  sleep 0.6
  x1=$(q "$SERVER/postgres" -c "SELECT pg_stat_clear_snapshot()" -c "$stat_sql" | tail -1)
  local scrape=""
  if [ -n "$extra" ]; then
    local port
    port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$WORK/$label.log" | head -1 | sed 's/.*://')
    scrape=$(for _ in $(seq 1 10); do curl -s -o "$WORK/scrape.txt" -w '%{time_total}\n' "http://127.0.0.1:$port/metrics"; done |
      awk '{s += $1; if ($1 > m) m = $1} END {printf "scrape_ms_avg=%.1f scrape_ms_max=%.1f", s / NR * 1000, m * 1000}')
    scrape="$scrape scrape_bytes=$(wc -c < "$WORK/scrape.txt") series=$(grep -vc '^#' "$WORK/scrape.txt")"
    scrape="$scrape $(grep -E '^outboxd_backlog_(queries|skipped)_total ' "$WORK/scrape.txt" | tr ' ' '=' | tr '\n' ' ')"
  fi
  kill -TERM "$PID"; wait "$PID" || true; PID=""
  python3 - "$label" "$T" "$x0" "$x1" "$c0" "$c1" "$w0" "$w1" "$hz" "$max" "$scrape" <<'PY'
import sys
label, t, x0, x1, c0, c1, w0, w1, hz, conns, scrape = sys.argv[1:12]
wall = float(w1) - float(w0)
print("%s: tenants=%s cpu_percent=%.2f transactions_per_s=%.1f max_connections=%s %s" % (
    label, t, (int(c1) - int(c0)) / int(hz) / wall * 100, (int(x1) - int(x0)) / wall, conns, scrape))
PY
}

run metrics_off ""
run metrics_on '"http": { "listen": "127.0.0.1:0" }'
