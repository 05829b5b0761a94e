#!/usr/bin/env bash
# bench_pg_start / bench_pg_stop: the throwaway PostgreSQL 15 cluster of bench/run:
# packaging/pg-cluster.sh with a server that allows BENCH_PG_MAX_CONNECTIONS (default 1500)
# connections, so outboxd can keep one LISTEN connection per tenant for 1,000 idle tenants plus its
# workers. Exports OBX_TEST_PG_URL, OBX_TEST_PG_DIR, OBX_TEST_PG_PORT like obx_pg_start.
# shellcheck source=../../packaging/pg-cluster.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/packaging/pg-cluster.sh"

bench_pg_start() {
  OBX_PG_MAX_CONNECTIONS="${BENCH_PG_MAX_CONNECTIONS:-1500}" obx_pg_start >&2
}

bench_pg_stop() { obx_pg_stop; }
