#!/usr/bin/env bash
# outboxd on PostgreSQL, driven through the real binaries (build/bin/outboxd --config ... --drain,
# the built-in `log` handler at log level warn, the `static` discovery plugin). Ready for the
# PostgreSQL OutboxStore: until outboxd accepts postgresql:// stores, `probe` fails and bench/run
# writes null + a note instead of these figures.
#
#   pg_outboxd.sh probe    <server-url>                       exit 0 when outboxctl can apply the
#                                                             schema to a postgresql:// database
#   pg_outboxd.sh burndown <server-url> <tenants> <total> [workers=4] [batch=50]
#        <tenants> databases (obx_bd<tenants>_<i>, created once, emptied on reuse) holding <total> messages between them; prints
#        {"tenants","expected","done","seconds","msgs_per_s"}: first to last processed_at.
#   pg_outboxd.sh idle     <server-url> <tenants> <seconds> <notify 0|1> <pickups>
#        <tenants> empty tenant databases (obx_idle_<i>, cloned from a template that has the
#        schema); outboxd runs (not --drain) with all of them; after discovery and a settle time,
#        measures over <seconds>: connections (pg_stat_activity, tenant databases), transactions/s
#        reaching the server (pg_stat_database xact_commit + xact_rollback deltas, all databases),
#        outboxd CPU% of one core (/proc/<pid>/stat utime+stime) and RSS (/proc/<pid>/status);
#        then <pickups> times: insert one message into a random tenant and record
#        processed_at - created_at (database clock; enqueue to recorded done, an upper bound of
#        enqueue to handler start). Prints one JSON object.
# <server-url>: postgresql://user@host:port (no database). Env: OBX_BUILD_DIR (default build),
# OBX_BENCH_MAX_CONNECTIONS (stores.max_connections, default 50; left out when outboxd does not know
# the key), OBX_BENCH_NOTIFY_STORES_JSON (the "stores" members that turn LISTEN/NOTIFY on; default
# '"notify": true'), OBX_BENCH_POLL_DISPATCH_JSON (extra "dispatch" members for the idle
# runs; default none: documented defaults poll_interval 250ms, max_poll_interval 2s).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${OBX_BUILD_DIR:-$ROOT/build}"
BIN="$BUILD/bin"
CMD=$1; SERVER=${2%/}
MAXCONN=${OBX_BENCH_MAX_CONNECTIONS:-50}
NOTIFY_JSON=${OBX_BENCH_NOTIFY_STORES_JSON:-'"notify": true'}
POLL_JSON=${OBX_BENCH_POLL_DISPATCH_JSON:-}
WORK="$(mktemp -d /tmp/obx-bench-pg-XXXXXX)"
PID=""
cleanup() { if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi; rm -rf "$WORK"; }
trap cleanup EXIT
q() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 "$@"; }
qa() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# Writes the static discovery list for databases <prefix>1..<prefix>N.
tenants_json() {
  local prefix=$1 n=$2 i sep=""
  printf '['
  for i in $(seq 1 "$n"); do
    printf '%s{"identifier":"%s%d","connection_string":"%s/%s%d"}' "$sep" "$prefix" "$i" "$SERVER" "$prefix" "$i"
    sep=","
  done
  printf ']'
}

# write_config <file> <tenants-json-file> <workers> <batch> <extra stores members> <extra dispatch members> [log level]
write_config() {
  local file=$1 list=$2 w=$3 b=$4 stores=$5 dispatch=$6 level=${7:-warn}
  cat > "$file" <<JSON
{ "plugin_dir": "$BUILD/plugins", "staging_dir": "$WORK/staging", "log_level": "$level",
  "discovery": { "plugin": "static", "config": { "file": "$list" } },
  "dispatch": { "workers": $w, "batch_size": $b${dispatch:+, $dispatch} },
  "stores": { "max_connections_per_store": 2${stores:+, $stores} },
  "handlers": [ { "plugin": "log", "topics": ["email.send"] } ] }
JSON
}

# Runs outboxd once to see whether it accepts the config; if stores.max_connections is unknown to
# it, drops that key (and says so). Sets STORES_EXTRA.
STORES_EXTRA=""
choose_stores_extra() {  # <tenants file> <wanted extra>
  local list=$1 want=$2
  STORES_EXTRA="\"max_connections\": $MAXCONN${want:+, $want}"
  write_config "$WORK/check.json" "$list" 1 1 "$STORES_EXTRA" ""
  if timeout 20 "$BIN/outboxd" --config "$WORK/check.json" --drain >/dev/null 2>"$WORK/check.log"; then return 0; fi
  if grep -q 'stores.max_connections: unknown key' "$WORK/check.log"; then
    echo "pg_outboxd: outboxd does not accept stores.max_connections; running without the cap" >&2
    STORES_EXTRA="$want"
    write_config "$WORK/check.json" "$list" 1 1 "$STORES_EXTRA" ""
    timeout 20 "$BIN/outboxd" --config "$WORK/check.json" --drain >/dev/null 2>"$WORK/check.log" && return 0
  fi
  echo "pg_outboxd: outboxd rejected the configuration:" >&2; tail -5 "$WORK/check.log" >&2
  return 1
}

probe() {
  q "$SERVER/postgres" -c "DROP DATABASE IF EXISTS obx_probe" -c "CREATE DATABASE obx_probe"
  local rc=0
  "$BIN/outboxctl" schema apply --connection "$SERVER/obx_probe" >"$WORK/probe.log" 2>&1 || rc=$?
  q "$SERVER/postgres" -c "DROP DATABASE IF EXISTS obx_probe"
  if [ $rc -ne 0 ]; then head -c 400 "$WORK/probe.log" | tr '\n' ' ' >&2; echo >&2; fi
  return $rc
}

burndown() {
  local T=$1 total=$2 W=${3:-4} B=${4:-50} i per rest n
  per=$(( total / T )); rest=$(( total - per * T ))
  # Tenant databases obx_bd<T>_<i>, cloned once from a template that has the schema, and reused
  # (emptied) by later runs with the same tenant count: creating and dropping 100 databases per run
  # costs more than the run. The check run happens on the still-empty tenants.
  local P="obx_bd${T}_" have
  have=$(qa "$SERVER/postgres" -c "SELECT count(*) FROM pg_database WHERE datname LIKE '${P//_/\\_}%'")
  if [ "$have" -ne "$T" ]; then
    q "$SERVER/postgres" -c "DROP DATABASE IF EXISTS obx_bd_tmpl" -c "CREATE DATABASE obx_bd_tmpl"
    "$BIN/outboxctl" schema apply --connection "$SERVER/obx_bd_tmpl" >/dev/null
    for i in $(seq 1 "$T"); do
      echo "DROP DATABASE IF EXISTS $P$i; CREATE DATABASE $P$i TEMPLATE obx_bd_tmpl;"
    done | q "$SERVER/postgres"
  else
    for i in $(seq 1 "$T"); do q "$SERVER/$P$i" -c "TRUNCATE infra.outbox RESTART IDENTITY"; done
  fi
  tenants_json "$P" "$T" > "$WORK/tenants.json"
  choose_stores_extra "$WORK/tenants.json" "" || return 1
  for i in $(seq 1 "$T"); do
    n=$per; [ "$i" -le "$rest" ] && n=$((n + 1))
    q "$SERVER/$P$i" -c "INSERT INTO infra.outbox (topic, payload)
      SELECT 'email.send', '{\"to\":\"user' || g || '@example.com\"}' FROM generate_series(1, $n) AS g" \
      -c "VACUUM ANALYZE infra.outbox"
  done
  q "$SERVER/postgres" -c "CHECKPOINT"
  # Only rows processed by the measured run count.
  local since; since=$(qa "$SERVER/postgres" -c "SELECT extract(epoch FROM clock_timestamp())")
  write_config "$WORK/outboxd.json" "$WORK/tenants.json" "$W" "$B" "$STORES_EXTRA" '"poll_interval": "10ms"'
  "$BIN/outboxd" --config "$WORK/outboxd.json" --drain 2>"$WORK/outboxd.log" || { tail -20 "$WORK/outboxd.log" >&2; return 1; }
  local agg="" c f l first="" last="" done_total=0
  for i in $(seq 1 "$T"); do
    IFS='|' read -r c f l < <(qa "$SERVER/$P$i" -c "SELECT count(*), COALESCE(extract(epoch FROM min(processed_at)), 0),
        COALESCE(extract(epoch FROM max(processed_at)), 0) FROM infra.outbox WHERE status = 2 AND processed_at > to_timestamp($since)")
    done_total=$((done_total + c))
    if [ "$c" -gt 0 ]; then
      if [ -z "$first" ] || awk -v a="$f" -v b="$first" 'BEGIN{exit !(a<b)}'; then first=$f; fi
      if [ -z "$last" ] || awk -v a="$l" -v b="$last" 'BEGIN{exit !(a>b)}'; then last=$l; fi
    fi
  done
  awk -v n="$done_total" -v f="${first:-0}" -v l="${last:-0}" -v t="$T" -v want="$total" 'BEGIN {
    span = l - f; if (span <= 0) span = 0.001;
    printf "{\"tenants\":%d,\"expected\":%d,\"done\":%d,\"seconds\":%.3f,\"msgs_per_s\":%.1f}\n", t, want, n, span, n / span }'
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

idle() {
  local T=$1 S=$2 NOTIFY=$3 PICKUPS=$4 i
  # A template with the schema, then cheap clones (CREATE DATABASE ... TEMPLATE).
  q "$SERVER/postgres" -c "DROP DATABASE IF EXISTS obx_idle_tmpl" -c "CREATE DATABASE obx_idle_tmpl"
  "$BIN/outboxctl" schema apply --connection "$SERVER/obx_idle_tmpl" >/dev/null
  local have; have=$(qa "$SERVER/postgres" -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'obx_idle\_%' AND datname <> 'obx_idle_tmpl'")
  if [ "$have" -ne "$T" ]; then
    qa "$SERVER/postgres" -c "SELECT datname FROM pg_database WHERE datname LIKE 'obx_idle\_%' AND datname <> 'obx_idle_tmpl'" \
      | while read -r d; do echo "DROP DATABASE \"$d\";"; done | q "$SERVER/postgres"
    for i in $(seq 1 "$T"); do echo "CREATE DATABASE obx_idle_$i TEMPLATE obx_idle_tmpl;"; done | q "$SERVER/postgres"
  fi
  tenants_json obx_idle_ "$T" > "$WORK/tenants.json"
  local extra=""; [ "$NOTIFY" = 1 ] && extra="$NOTIFY_JSON"
  choose_stores_extra "$WORK/tenants.json" "$extra" || return 1
  # log level info: the idle run waits for "Discovery complete" (an idle outboxd logs nothing else).
  write_config "$WORK/outboxd.json" "$WORK/tenants.json" 4 50 "$STORES_EXTRA" "$POLL_JSON" info
  "$BIN/outboxd" --config "$WORK/outboxd.json" 2>"$WORK/outboxd.log" &
  PID=$!
  local t0=$SECONDS
  until grep -q "Discovery complete" "$WORK/outboxd.log" 2>/dev/null; do
    kill -0 "$PID" 2>/dev/null || { tail -20 "$WORK/outboxd.log" >&2; return 1; }
    [ $((SECONDS - t0)) -lt 120 ] || { echo "pg_outboxd: no discovery after 120 s" >&2; return 1; }
    sleep 0.2
  done
  sleep 5  # settle: stores opened, pollers backed off to max_poll_interval
  local hz; hz=$(getconf CLK_TCK)
  local stat_sql="SELECT sum(xact_commit + xact_rollback) FROM pg_stat_database"
  local x0 x1 c0 c1 conns_max=0 conns
  x0=$(qa "$SERVER/postgres" -c "$stat_sql"); c0=$(cpu_ticks "$PID"); local w0; w0=$(date +%s.%N)
  for i in $(seq 1 "$S"); do
    sleep 1
    conns=$(qa "$SERVER/postgres" -c "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE 'obx_idle\_%'")
    [ "$conns" -gt "$conns_max" ] && conns_max=$conns
  done
  c1=$(cpu_ticks "$PID"); local w1; w1=$(date +%s.%N)
  sleep 0.6  # let backends flush their statistics
  x1=$(qa "$SERVER/postgres" -c "SELECT pg_stat_clear_snapshot(); $stat_sql" | tail -1)
  local rss; rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$PID/status")
  local lat="" r id ms
  for i in $(seq 1 "$PICKUPS"); do
    sleep "0.$(( RANDOM % 5 + 3 ))"
    r=$(( RANDOM % T + 1 ))
    id=$(qa "$SERVER/obx_idle_$r" -c "INSERT INTO infra.outbox (topic, payload) VALUES ('email.send', '{}') RETURNING id")
    ms=""
    for _ in $(seq 1 300); do   # up to ~15 s
      ms=$(qa "$SERVER/obx_idle_$r" -c "SELECT extract(epoch FROM processed_at - created_at) * 1000 FROM infra.outbox WHERE id = $id AND status = 2")
      [ -n "$ms" ] && break
      sleep 0.05
    done
    lat+="${ms:-15000} "
  done
  kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""
  python3 - "$T" "$S" "$NOTIFY" "$conns_max" "$x0" "$x1" "$c0" "$c1" "$w0" "$w1" "$hz" "$rss" "$STORES_EXTRA" $lat <<'PY'
import json, math, sys
T, S, notify, conns, x0, x1, c0, c1, w0, w1, hz, rss, stores = sys.argv[1:14]
lat = sorted(float(v) for v in sys.argv[14:])
def pct(p):
    return None if not lat else lat[max(0, min(len(lat) - 1, math.ceil(p / 100 * len(lat)) - 1))]
wall = float(w1) - float(w0)
print(json.dumps({
    "tenants": int(T), "seconds": int(S), "notify": notify == "1", "stores_extra": stores,
    "connections": int(conns),
    "transactions_per_s": round((int(x1) - int(x0)) / wall, 1),
    "cpu_percent": round((int(c1) - int(c0)) / int(hz) / wall * 100, 2),
    "rss_kib": int(rss),
    "pickups": len(lat), "pickup_p50_ms": pct(50), "pickup_p99_ms": pct(99),
    "pickup_max_ms": lat[-1] if lat else None}))
PY
}

case "$CMD" in
  probe) probe ;;
  burndown) shift 2; burndown "$@" ;;
  idle) shift 2; idle "$@" ;;
  *) echo "usage: pg_outboxd.sh probe|burndown|idle <server-url> ..." >&2; exit 2 ;;
esac
