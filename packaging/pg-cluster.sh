#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests: initdb into a private temp folder, listening on a free
# loopback port with a private socket folder; never touches a system cluster.
#   source packaging/pg-cluster.sh; obx_pg_start   # exports OBX_TEST_PG_URL, OBX_TEST_PG_DIR
#   obx_pg_stop                                    # stops it and removes the folder
# OBX_PG_MAX_CONNECTIONS sets the server's max_connections (default 300; the bench uses 1500).
# As root, the server runs as the `postgres` user (initdb refuses root).
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"

obx_pg__as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

obx_pg_start() {
  local dir port tries=0 maxconn="${OBX_PG_MAX_CONNECTIONS:-300}"
  dir="$(mktemp -d /tmp/obx-pg-XXXXXX)"
  chmod 755 "$dir"
  mkdir -p "$dir/data" "$dir/sock"
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$dir"; fi
  obx_pg__as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  while :; do
    port=$(( 20000 + RANDOM % 40000 ))
    # A port that accepts a connection is taken; try another.
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
  echo "pg-cluster: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)"
}

obx_pg_stop() {
  [ -n "${OBX_TEST_PG_DIR:-}" ] || return 0
  obx_pg__as_owner "$PG_BIN/pg_ctl" -D "$OBX_TEST_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$OBX_TEST_PG_DIR"
  unset OBX_TEST_PG_DIR OBX_TEST_PG_URL OBX_TEST_PG_PORT
}
