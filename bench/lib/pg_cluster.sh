#!/usr/bin/env bash
# bench_pg_start / bench_pg_stop: the throwaway PostgreSQL 15 cluster of bench/run. Same as
# packaging/pg-cluster.sh (private folder, free loopback port, fsync=off) except that the server
# allows BENCH_PG_MAX_CONNECTIONS (default 1500) connections, so outboxd can keep one LISTEN
# connection per tenant for 1,000 idle tenants plus its workers (packaging/pg-cluster.sh starts
# with max_connections=300 on the command line, which ALTER SYSTEM cannot override).
# Exports OBX_TEST_PG_URL, OBX_TEST_PG_DIR, OBX_TEST_PG_PORT like obx_pg_start.
# shellcheck source=../../packaging/pg-cluster.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/packaging/pg-cluster.sh"

bench_pg_start() {
  local maxconn=${BENCH_PG_MAX_CONNECTIONS:-1500} dir port tries=0
  dir="$(mktemp -d /tmp/obx-benchpg-XXXXXX)"
  chmod 755 "$dir"
  mkdir -p "$dir/data" "$dir/sock"
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$dir"; fi
  obx_pg__as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  while :; do
    port=$(( 20000 + RANDOM % 40000 ))
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
    if obx_pg__as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
         -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=$maxconn" \
         start >/dev/null 2>&1; then
      break
    fi
    tries=$((tries + 1))
    if [ "$tries" -ge 5 ]; then cat "$dir/server.log" >&2; return 1; fi
  done
  export OBX_TEST_PG_DIR="$dir"
  export OBX_TEST_PG_URL="postgresql://postgres@127.0.0.1:$port/postgres"
  export OBX_TEST_PG_PORT="$port"
  echo "bench pg: PostgreSQL on 127.0.0.1:$port ($dir), max_connections=$maxconn" >&2
}

bench_pg_stop() { obx_pg_stop; }
