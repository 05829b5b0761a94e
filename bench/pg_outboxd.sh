#!/usr/bin/env bash
# outboxd on PostgreSQL, driven through the real binaries (outboxd --config ..., the `static`
# discovery plugin, the built-in `log` handler at log level warn for burn-downs, the bench-only
# `bench_stamp` handler for latency and pickup runs).
#
# Tenant databases are obx_t_1..obx_t_N, created ONCE per bench run by `setup` from a template
# (obx_tmpl, `outboxctl schema apply`), in one psql session (CREATE DATABASE ... TEMPLATE obx_tmpl
# STRATEGY FILE_COPY, ~70 ms each on the 2-core machine). Every other command uses the first T of
# them and empties/fills/measures them in ONE psql session (\c per database), never one psql per
# database.
#
#   pg_outboxd.sh probe    <server-url>            exit 0 when outboxctl can apply the schema
#   pg_outboxd.sh setup    <server-url> <N>        make obx_t_1..obx_t_N exist (missing ones only)
#   pg_outboxd.sh burndown <server-url> <tenants> <total> [workers=4] [batch=50]
#        empties obx_t_1..T, inserts <total> messages between them, runs `outboxd --drain`; prints
#        {"tenants","expected","done","seconds","msgs_per_s"}: first to last processed_at.
#   pg_outboxd.sh idle     <server-url> <tenants> <seconds> <notify 0|1> <pickups>
#        outboxd runs (not --drain) over obx_t_1..T with no messages; after discovery and a settle
#        time, over <seconds>: max connections to tenant databases (pg_stat_activity), transactions/s
#        (pg_stat_database xact_commit + xact_rollback deltas, all databases), new server sessions/s
#        (pg_stat_database.sessions deltas: connection churn from the connection cap), outboxd CPU% of
#        one core (/proc/<pid>/stat utime+stime) and RSS; then <pickups> times one message inserted
#        into a random tenant (0.2-0.5 s apart, overlapping): enqueue (created_at, database clock, µs) to handler start
#        (bench_stamp, CLOCK_REALTIME, same machine). notify=1 sets stores.notify and
#        stores.max_connections = tenants + 100 (one listener per database + workers) and
#        dispatch.max_poll_interval 30s (OBX_BENCH_NOTIFY_DISPATCH_JSON), as docs/configuration.md
#        advises for notify; notify=0 polls with stores.max_connections = tenants + 100. The
#        window starts once start-up is over (no new sessions for 4 s, at most 240 s after the
#        settle time); "startup_s" is discovery to that point. Prints one JSON object.
#   pg_outboxd.sh latency  <server-url> <rate> <seconds> <notify 0|1>
#        one tenant (obx_t_1), outboxd running; pgbench offers <rate> single-row INSERTs/s
#        (--rate, Poisson arrivals, 2 clients) for 2 + <seconds>; enqueue-to-handler-start
#        p50/p95/p99 as above of the messages enqueued after the first 2 s (warm-up: the poller
#        may start backed off at max_poll_interval). Prints one JSON object.
#   pg_outboxd.sh fairness <server-url> <tenants> <backlog> <rate> <seconds>
#        obx_t_1 holds <backlog> ready messages (0: none) when outboxd starts (polling defaults,
#        stores.max_connections max(64, tenants + 16), bench_stamp); right after discovery every other tenant (2..T) receives <rate> single-row
#        INSERTs/s (one pgbench --rate per tenant, 1 client) for 2 + <seconds> (OBX_BENCH_WARM_S: the
#        first 2 s are not counted). Enqueue-to-handler-start p50/p99 of those tenants' messages, and how much of the backlog was still ready when the
#        producers stopped (it must overlap the window to mean anything). Prints one JSON object.
# <server-url>: postgresql://user@host:port (no database). Env: OBX_BUILD_DIR (default build),
# OBX_BENCH_PLUGIN_DIR (built bench plugins, default $OBX_BUILD_DIR/bench-plugins),
# OBX_BENCH_MAX_CONNECTIONS (stores.max_connections for burn-downs and polling runs; default:
# burn-downs max(64, tenants + 16), idle/latency polling runs tenants + 100), OBX_BENCH_SETTLE_S
# (idle: seconds between "Discovery complete" and the measuring window, default 5, 10 from
# 500 tenants), OBX_BENCH_POLL_DISPATCH_JSON (extra "dispatch" members for idle and
# latency runs; default none: poll_interval 250ms backing off to 2s), OBX_BENCH_CONNS_PER_STORE
# (stores.max_connections_per_store, default 2).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${OBX_BUILD_DIR:-$ROOT/build}"
BIN="$BUILD/bin"
BENCH_PLUGINS="${OBX_BENCH_PLUGIN_DIR:-$BUILD/bench-plugins}"
CMD=$1; SERVER=${2%/}
MAXCONN=${OBX_BENCH_MAX_CONNECTIONS:-}
POLL_JSON=${OBX_BENCH_POLL_DISPATCH_JSON:-}
WORK="$(mktemp -d /tmp/obx-bench-pg-XXXXXX)"
PID=""
cleanup() { if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi; rm -rf "$WORK"; }
trap cleanup EXIT
q() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 "$@"; }
qa() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
P=obx_t_

tenants_json() {  # <n>
  local n=$1 i sep=""
  printf '['
  for i in $(seq 1 "$n"); do
    printf '%s{"identifier":"%s%d","connection_string":"%s/%s%d"}' "$sep" "$P" "$i" "$SERVER" "$P" "$i"
    sep=","
  done
  printf ']'
}

# A plugin folder with the static discovery, the log handler and (when built) bench_stamp.
plugin_dir() {
  mkdir -p "$WORK/plugins"; chmod 755 "$WORK/plugins"
  cp "$BUILD/plugins/discovery_static.so" "$BUILD/plugins/handler_log.so" "$WORK/plugins/"
  [ -e "$BENCH_PLUGINS/bench_stamp.so" ] && cp "$BENCH_PLUGINS/bench_stamp.so" "$WORK/plugins/"
  chmod 755 "$WORK/plugins"/*.so
}

# write_config <file> <tenants-json-file> <workers> <batch> <stores members> <dispatch members> <log level> <handler plugin>
write_config() {
  local file=$1 list=$2 w=$3 b=$4 stores=$5 dispatch=$6 level=${7:-warn} handler=${8:-log}
  cat > "$file" <<JSON
{ "plugin_dir": "$WORK/plugins", "staging_dir": "$WORK/staging", "log_level": "$level",
  "discovery": { "plugin": "static", "config": { "file": "$list" } },
  "dispatch": { "workers": $w, "batch_size": $b${dispatch:+, $dispatch} },
  "stores": { "max_connections_per_store": ${OBX_BENCH_CONNS_PER_STORE:-2}${stores:+, $stores} },
  "handlers": [ { "plugin": "$handler", "topics": ["email.send"] } ] }
JSON
}

probe() {
  q "$SERVER/postgres" -c "DROP DATABASE IF EXISTS obx_probe" -c "CREATE DATABASE obx_probe"
  local rc=0
  "$BIN/outboxctl" schema apply --connection "$SERVER/obx_probe" >"$WORK/probe.log" 2>&1 || rc=$?
  q "$SERVER/postgres" -c "DROP DATABASE IF EXISTS obx_probe"
  if [ $rc -ne 0 ]; then head -c 400 "$WORK/probe.log" | tr '\n' ' ' >&2; echo >&2; fi
  return $rc
}

setup() {
  local N=$1 i
  if [ "$(qa "$SERVER/postgres" -c "SELECT count(*) FROM pg_database WHERE datname = 'obx_tmpl'")" = 0 ]; then
    q "$SERVER/postgres" -c "CREATE DATABASE obx_tmpl"
    "$BIN/outboxctl" schema apply --connection "$SERVER/obx_tmpl" >/dev/null
  fi
  qa "$SERVER/postgres" -c "SELECT datname FROM pg_database WHERE datname LIKE 'obx\_t\_%'" | sort > "$WORK/have"
  for i in $(seq 1 "$N"); do echo "$P$i"; done | sort > "$WORK/want"
  comm -13 "$WORK/have" "$WORK/want" | sed 's/.*/CREATE DATABASE & TEMPLATE obx_tmpl STRATEGY FILE_COPY;/' > "$WORK/create.sql"
  [ -s "$WORK/create.sql" ] && q "$SERVER/postgres" -f "$WORK/create.sql"
  return 0
}

# for_tenants <T> <sql>: runs <sql> in each of obx_t_1..T, in one psql session; prints the rows.
for_tenants() {
  local T=$1 sql=$2 i
  for i in $(seq 1 "$T"); do printf '\\c %s%d\n%s\n' "$P" "$i" "$sql"; done > "$WORK/each.sql"
  qa "$SERVER/${P}1" -f "$WORK/each.sql"
}

# processed_span <T> <since epoch>: {"done","first","last"} over obx_t_1..T.
processed_span() {
  for_tenants "$1" "SELECT count(*), COALESCE(extract(epoch FROM min(processed_at)), 0), COALESCE(extract(epoch FROM max(processed_at)), 0) FROM infra.outbox WHERE status = 2 AND processed_at > to_timestamp($2);" \
    | awk -F'|' '{ n += $1; if ($1 > 0) { if (f == "" || $2 < f) f = $2; if (l == "" || $3 > l) l = $3 } }
                 END { printf "%d %s %s\n", n, (f == "" ? 0 : f), (l == "" ? 0 : l) }'
}

burndown() {
  local T=$1 total=$2 W=${3:-4} B=${4:-50} i per rest n
  per=$(( total / T )); rest=$(( total - per * T ))
  setup "$T"
  plugin_dir
  tenants_json "$T" > "$WORK/tenants.json"
  # VACUUM ANALYZE per database only up to 10 tenants (it costs ~25 ms each; autovacuum covers the rest).
  local vac="VACUUM ANALYZE infra.outbox;"; [ "$T" -gt 10 ] && vac=""
  for i in $(seq 1 "$T"); do
    n=$per; [ "$i" -le "$rest" ] && n=$((n + 1))
    printf '\\c %s%d\nTRUNCATE infra.outbox RESTART IDENTITY;\nINSERT INTO infra.outbox (topic, payload) SELECT '"'"'email.send'"'"', '"'"'{"to":"user'"'"' || g || '"'"'@example.com"}'"'"' FROM generate_series(1, %d) AS g;\n%s\n' "$P" "$i" "$n" "$vac"
  done > "$WORK/fill.sql"
  local t0=$SECONDS
  q "$SERVER/${P}1" -f "$WORK/fill.sql"
  q "$SERVER/postgres" -c "CHECKPOINT"
  echo "pg_outboxd burndown: filled $T tenants in $((SECONDS - t0)) s" >&2; t0=$SECONDS
  local since; since=$(qa "$SERVER/postgres" -c "SELECT extract(epoch FROM clock_timestamp())")
  # A connection cap below the tenant count makes a drain close and reopen connections all the
  # time (measured: 100 tenants under the default cap 64 took 7.5 min instead of 20 s), so
  # burn-downs allow one connection per tenant plus the workers' share.
  local cap=${MAXCONN:-$(( T + 16 > 64 ? T + 16 : 64 ))}
  write_config "$WORK/outboxd.json" "$WORK/tenants.json" "$W" "$B" "\"max_connections\": $cap" '"poll_interval": "10ms"'
  "$BIN/outboxd" --config "$WORK/outboxd.json" --drain 2>"$WORK/outboxd.log" || { tail -20 "$WORK/outboxd.log" >&2; return 1; }
  echo "pg_outboxd burndown: outboxd --drain took $((SECONDS - t0)) s" >&2
  [ -n "${OBX_BENCH_KEEP_LOG:-}" ] && cp "$WORK/outboxd.log" "$OBX_BENCH_KEEP_LOG"
  local done_total first last
  read -r done_total first last < <(processed_span "$T" "$since")
  awk -v n="$done_total" -v f="$first" -v l="$last" -v t="$T" -v want="$total" 'BEGIN {
    span = l - f; if (span <= 0) span = 0.001;
    printf "{\"tenants\":%d,\"expected\":%d,\"done\":%d,\"seconds\":%.3f,\"msgs_per_s\":%.1f}\n", t, want, n, span, n / span }'
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# start_outboxd <T> <notify> <log level>: writes the config, starts outboxd with bench_stamp, waits
# for discovery. Sets PID, STORES.
start_outboxd() {
  local T=$1 notify=$2 level=$3
  plugin_dir
  [ -e "$WORK/plugins/bench_stamp.so" ] || { echo "pg_outboxd: bench_stamp.so not built ($BENCH_PLUGINS)" >&2; return 1; }
  tenants_json "$T" > "$WORK/tenants.json"
  local dispatch=$POLL_JSON
  if [ "$notify" = 1 ]; then
    STORES="\"notify\": true, \"max_connections\": $(( T + 100 ))"
    # As docs/configuration.md advises for notify: polling only as a slow fallback.
    dispatch=${OBX_BENCH_NOTIFY_DISPATCH_JSON-'"max_poll_interval": "30s"'}
  else
    # The target's condition: a cap >= the tenants (OBX_BENCH_MAX_CONNECTIONS overrides; with
    # outboxd's default of 64, 1,000 polled tenants share 64 connections and every visit is a new
    # session).
    STORES="\"max_connections\": ${MAXCONN:-$(( T + 100 ))}"
  fi
  write_config "$WORK/outboxd.json" "$WORK/tenants.json" 4 50 "$STORES" "$dispatch" "$level" bench_stamp
  : > "$WORK/stamps"
  OBX_BENCH_STAMP_FILE="$WORK/stamps" "$BIN/outboxd" --config "$WORK/outboxd.json" 2>"$WORK/outboxd.log" &
  PID=$!
  local t0=$SECONDS
  until grep -q "Discovery complete" "$WORK/outboxd.log" 2>/dev/null; do
    kill -0 "$PID" 2>/dev/null || { tail -20 "$WORK/outboxd.log" >&2; return 1; }
    [ $((SECONDS - t0)) -lt 180 ] || { echo "pg_outboxd: no discovery after 180 s" >&2; return 1; }
    sleep 0.2
  done
}

stop_outboxd() { kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=""; }

# stamp_latencies <file of "tenant row_id created_us">: enqueue to handler start in ms, one a line.
stamp_latencies() {
  python3 - "$1" "$WORK/stamps" <<'PY'
import sys
created = {}
for line in open(sys.argv[1]):
    t, rid, us = line.split()
    created[(t, rid)] = float(us)
for line in open(sys.argv[2]):
    parts = line.split()
    if len(parts) != 4: continue
    key = (parts[0], parts[1])
    if key in created:
        print("%.3f" % ((int(parts[3]) - created.pop(key)) / 1000.0))
for _ in created:  # never handled
    print("nan")
PY
}

idle() {
  local T=$1 S=$2 NOTIFY=$3 PICKUPS=$4 i
  setup "$T"
  start_outboxd "$T" "$NOTIFY" info
  local t_disc=$SECONDS
  local settle=${OBX_BENCH_SETTLE_S:-$(( T >= 500 ? 10 : 5 ))}
  sleep "$settle"  # settle: stores opened, listeners up, pollers backed off to max_poll_interval
  # Then wait (at most 240 s) until start-up is over: no new server sessions for two 2-second
  # samples in a row (each sample's own psql is one). A thousand tenants' first connections take
  # tens of seconds on a loaded 2-core machine; measuring during them measures start-up, not idle.
  local q0 q1 quiet=0 t_quiet=$SECONDS
  q0=$(qa "$SERVER/postgres" -c "SELECT sum(sessions) FROM pg_stat_database")
  while [ "$quiet" -lt 2 ] && [ $((SECONDS - t_quiet)) -lt 240 ]; do
    sleep 2
    q1=$(qa "$SERVER/postgres" -c "SELECT sum(sessions) FROM pg_stat_database")
    if [ $((q1 - q0)) -le 1 ]; then quiet=$((quiet + 1)); else quiet=0; fi
    q0=$q1
  done
  local startup_s=$((SECONDS - t_disc))
  local hz; hz=$(getconf CLK_TCK)
  local stat_sql="SELECT sum(xact_commit + xact_rollback), sum(sessions) FROM pg_stat_database"
  local x0 x1 s0 s1 c0 c1 conns_max=0 conns
  IFS='|' read -r x0 s0 < <(qa "$SERVER/postgres" -c "$stat_sql"); c0=$(cpu_ticks "$PID"); local w0; w0=$(date +%s.%N)
  for i in $(seq 1 "$S"); do
    sleep 1
    conns=$(qa "$SERVER/postgres" -c "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE 'obx\_t\_%' AND backend_type = 'client backend'")
    [ "$conns" -gt "$conns_max" ] && conns_max=$conns
  done
  c1=$(cpu_ticks "$PID"); local w1; w1=$(date +%s.%N)
  sleep 0.6  # let backends flush their statistics
  IFS='|' read -r x1 s1 < <(qa "$SERVER/postgres" -c "SELECT pg_stat_clear_snapshot()" -c "$stat_sql" | tail -1)
  local rss; rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$PID/status")
  : > "$WORK/created"
  # Pickups overlap: one insert every 0.2-0.5 s into a random tenant, without waiting for the
  # previous one to be handled (a wait per pickup cost ~4 s each when polling 1,000 tenants); then
  # wait until every one was handled (up to 15 s).
  local r row left
  for i in $(seq 1 "$PICKUPS"); do
    sleep "0.$(( RANDOM % 4 + 2 ))"
    r=$(( RANDOM % T + 1 ))
    row=$(qa "$SERVER/$P$r" -c "INSERT INTO infra.outbox (topic, payload) VALUES ('email.send', '{}') RETURNING id, (extract(epoch FROM created_at) * 1000000)::bigint")
    echo "$P$r ${row/|/ }" >> "$WORK/created"
  done
  for _ in $(seq 1 300); do
    # FILENAME, not NR == FNR: the stamps file may still be empty.
    left=$(awk -v s="$WORK/stamps" 'FILENAME == s { seen[$1 " " $2] = 1; next } !(($1 " " $2) in seen) { n++ } END { print n + 0 }' "$WORK/stamps" "$WORK/created")
    [ "$left" = 0 ] && break
    sleep 0.05
  done
  stop_outboxd
  stamp_latencies "$WORK/created" > "$WORK/lat"
  python3 - "$T" "$S" "$NOTIFY" "$conns_max" "$x0" "$x1" "$s0" "$s1" "$c0" "$c1" "$w0" "$w1" "$hz" "$rss" "$STORES" "$WORK/lat" "$startup_s" <<'PY'
import json, math, sys
T, S, notify, conns, x0, x1, s0, s1, c0, c1, w0, w1, hz, rss, stores, latf, startup = sys.argv[1:18]
vals = [float(v) for v in open(latf)]
missed = sum(1 for v in vals if math.isnan(v))
lat = sorted(v for v in vals if not math.isnan(v))
def pct(p):
    return None if not lat else round(lat[max(0, min(len(lat) - 1, math.ceil(p / 100 * len(lat)) - 1))], 1)
wall = float(w1) - float(w0)
print(json.dumps({
    "tenants": int(T), "seconds": int(S), "notify": notify == "1", "stores_extra": stores,
    "connections": int(conns), "startup_s": int(startup),
    "transactions_per_s": round((int(x1) - int(x0)) / wall, 1),
    "new_sessions_per_s": round((int(s1) - int(s0)) / wall, 1),
    "cpu_percent": round((int(c1) - int(c0)) / int(hz) / wall * 100, 2),
    "rss_kib": int(rss),
    "pickups": len(lat), "pickups_missed": missed, "pickup_p50_ms": pct(50), "pickup_p99_ms": pct(99),
    "pickup_max_ms": round(lat[-1], 1) if lat else None,
    "measures": "enqueue (created_at) to handler start (bench_stamp)"}))
PY
}

latency() {
  local RATE=$1 S=$2 NOTIFY=$3
  setup 1
  q "$SERVER/${P}1" -c "TRUNCATE infra.outbox RESTART IDENTITY"
  start_outboxd 1 "$NOTIFY" info
  sleep 1
  echo "INSERT INTO infra.outbox (topic, payload) VALUES ('email.send', '{\"to\":\"latency@example.com\"}');" > "$WORK/insert.sql"
  local PGBENCH=${PGBENCH:-$(command -v pgbench || echo /usr/lib/postgresql/15/bin/pgbench)}
  # The producer runs WARM s longer than measured: messages enqueued in its first WARM s (while a
  # poller may still be backed off from idle to max_poll_interval) are not counted.
  local WARM=${OBX_BENCH_WARM_S:-2} since
  since=$(qa "$SERVER/postgres" -c "SELECT extract(epoch FROM clock_timestamp()) + $WARM")
  "$PGBENCH" -n -c 2 -j 2 -R "$RATE" -T "$(( S + WARM ))" -f "$WORK/insert.sql" "$SERVER/${P}1" >"$WORK/pgbench.log" 2>&1 \
    || { cat "$WORK/pgbench.log" >&2; return 1; }
  if [ "$NOTIFY" = 1 ]; then sleep 0.5; else sleep 2.3; fi  # the last ones handled (polling: max_poll_interval)
  stop_outboxd
  qa "$SERVER/${P}1" -c "SELECT '${P}1', id, (extract(epoch FROM created_at) * 1000000)::bigint FROM infra.outbox WHERE created_at > to_timestamp($since)" \
    | tr '|' ' ' > "$WORK/created"
  stamp_latencies "$WORK/created" > "$WORK/lat"
  python3 - "$RATE" "$S" "$NOTIFY" "$WORK/lat" <<'PY'
import json, math, sys
rate, S, notify, latf = sys.argv[1:5]
vals = [float(v) for v in open(latf)]
missed = sum(1 for v in vals if math.isnan(v))
lat = sorted(v for v in vals if not math.isnan(v))
def pct(p):
    return None if not lat else round(lat[max(0, min(len(lat) - 1, math.ceil(p / 100 * len(lat)) - 1))], 2)
print(json.dumps({"rate": int(rate), "seconds": int(S), "notify": notify == "1", "messages": len(vals),
                  "offered_per_s": round(len(vals) / int(S), 1), "not_handled": missed,
                  "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99), "max_ms": round(lat[-1], 2) if lat else None,
                  "measures": "enqueue (created_at) to handler start (bench_stamp)"}))
PY
}

fairness() {
  local T=$1 BACKLOG=$2 RATE=$3 S=$4 i
  setup "$T"
  for_tenants "$T" "TRUNCATE infra.outbox RESTART IDENTITY;" >/dev/null
  if [ "$BACKLOG" -gt 0 ]; then
    q "$SERVER/${P}1" -c "INSERT INTO infra.outbox (topic, payload) SELECT 'email.send', '{}' FROM generate_series(1, $BACKLOG)" \
      -c "VACUUM ANALYZE infra.outbox"
  fi
  # A connection per tenant (as for burn-downs): the figure is about scheduling, not reconnect churn.
  MAXCONN=${MAXCONN:-$(( T + 16 > 64 ? T + 16 : 64 ))}
  start_outboxd "$T" 0 info
  echo "INSERT INTO infra.outbox (topic, payload) VALUES ('email.send', '{}');" > "$WORK/insert.sql"
  local PGBENCH=${PGBENCH:-$(command -v pgbench || echo /usr/lib/postgresql/15/bin/pgbench)} pids=""
  # Messages of the first WARM s (stores opening their first connections) are not counted.
  local WARM=${OBX_BENCH_WARM_S:-2} since
  since=$(qa "$SERVER/postgres" -c "SELECT extract(epoch FROM clock_timestamp()) + $WARM")
  for i in $(seq 2 "$T"); do
    "$PGBENCH" -n -c 1 -j 1 -R "$RATE" -T "$(( S + WARM ))" -f "$WORK/insert.sql" "$SERVER/$P$i" >"$WORK/pgbench.$i.log" 2>&1 &
    pids="$pids $!"
  done
  # shellcheck disable=SC2086
  wait $pids || { cat "$WORK"/pgbench.*.log | tail -20 >&2; return 1; }
  local left; left=$(qa "$SERVER/${P}1" -c "SELECT count(*) FROM infra.outbox WHERE status = 0")
  for_tenants "$T" "SELECT current_database(), id, (extract(epoch FROM created_at) * 1000000)::bigint FROM infra.outbox WHERE created_at > to_timestamp($since) AND current_database() <> '${P}1';" \
    | tr '|' ' ' > "$WORK/created"
  # Every one handled (up to 30 s), then stop.
  local n_left
  for _ in $(seq 1 300); do
    n_left=$(awk -v s="$WORK/stamps" 'FILENAME == s { seen[$1 " " $2] = 1; next } !(($1 " " $2) in seen) { n++ } END { print n + 0 }' "$WORK/stamps" "$WORK/created")
    [ "$n_left" = 0 ] && break
    sleep 0.1
  done
  stop_outboxd
  stamp_latencies "$WORK/created" > "$WORK/lat"
  python3 - "$T" "$BACKLOG" "$RATE" "$S" "$left" "$WORK/lat" <<'PY'
import json, math, sys
T, backlog, rate, S, left, latf = sys.argv[1:7]
vals = [float(v) for v in open(latf)]
missed = sum(1 for v in vals if math.isnan(v))
lat = sorted(v for v in vals if not math.isnan(v))
def pct(p):
    return None if not lat else round(lat[max(0, min(len(lat) - 1, math.ceil(p / 100 * len(lat)) - 1))], 1)
print(json.dumps({"tenants": int(T), "backlog": int(backlog), "rate_per_tenant": int(rate),
                  "seconds": int(S), "backlog_left_at_end": int(left), "messages": len(vals),
                  "not_handled": missed, "pickup_p50_ms": pct(50), "pickup_p99_ms": pct(99),
                  "pickup_max_ms": round(lat[-1], 1) if lat else None,
                  "measures": "enqueue (created_at) to handler start (bench_stamp), tenants 2..T"}))
PY
}

case "$CMD" in
  probe) probe ;;
  fairness) shift 2; fairness "$@" ;;
  setup) setup "$3" ;;
  burndown) shift 2; burndown "$@" ;;
  idle) shift 2; idle "$@" ;;
  latency) shift 2; latency "$@" ;;
  *) echo "usage: pg_outboxd.sh probe|setup|burndown|idle|latency|fairness <server-url> ..." >&2; exit 2 ;;
esac
