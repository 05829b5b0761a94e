#!/usr/bin/env bash
# The PostgreSQL database floor for outboxd's burn-down: the same claim-then-complete SQL, driven
# directly by pgbench against outboxd's own PostgreSQL outbox table (infra.outbox), created by
# `outboxctl schema apply` ($OUTBOXCTL, default <build>/bin/outboxctl).
# One pgbench "transaction" = the two transactions outboxd runs per batch:
#   1. claim <batch> with a 30 s lease and an owner token, oldest first, FOR UPDATE SKIP LOCKED,
#      RETURNING every column (shipped to the client as one json_agg text value);
#   2. mark those ids done by id (= ANY(...)) under the same owner token.
# Usage: bench/pg_floor.sh <database-url> [rows=100000] [clients=4] [batch=50]
# Prints {"rows":..,"clients":..,"batch":..,"done":..,"seconds":..,"msgs_per_s":..}; seconds is
# first to last processed_at (database clock), as for the outboxd burn-downs; set-up excluded.
set -euo pipefail
URL=$1; ROWS=${2:-100000}; C=${3:-4}; BATCH=${4:-50}
PGBENCH=${PGBENCH:-$(command -v pgbench || echo /usr/lib/postgresql/15/bin/pgbench)}
OUTBOXCTL=${OUTBOXCTL:-${OBX_BUILD_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build}/bin/outboxctl}
WORK="$(mktemp -d /tmp/obx-pgfloor-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
psql() { PGOPTIONS="-c client_min_messages=warning" command psql -X -v ON_ERROR_STOP=1 -q "$@"; }

# The product's table, claim index and constraints: `outboxctl schema apply`, no copy of the DDL.
psql "$URL" -c "DROP SCHEMA IF EXISTS infra CASCADE"
"$OUTBOXCTL" schema apply --connection "$URL" >/dev/null
psql "$URL" <<SQL
INSERT INTO infra.outbox (topic, payload)
  SELECT 'email.send', '{"to":"user' || i || '@example.com"}' FROM generate_series(1, $ROWS) AS i;
VACUUM ANALYZE infra.outbox;
CHECKPOINT;
SQL

cat > "$WORK/claim_complete.sql" <<SQL
\set owner :client_id * 1000000000 + random(1, 999999999)
WITH c AS (
  UPDATE infra.outbox SET
    attempts = CASE WHEN status = 1 THEN attempts + 1 ELSE attempts END,
    last_error = CASE WHEN status = 1 THEN 'lease expired' ELSE last_error END,
    status = 1, owner_token = CAST(:owner AS text), locked_until = now() + interval '30 seconds'
  WHERE id IN (
    SELECT id FROM infra.outbox
    WHERE status IN (0, 1) AND (
      (status = 0 AND (due_at IS NULL OR due_at <= now()) AND (next_attempt_at IS NULL OR next_attempt_at <= now()))
      OR (status = 1 AND locked_until <= now()))
    ORDER BY created_at, id
    FOR UPDATE SKIP LOCKED
    LIMIT $BATCH)
  RETURNING id, message_id, topic, payload, correlation_id, created_at, due_at, attempts, last_error)
SELECT COALESCE(array_agg(id), '{}')::text AS ids, COALESCE(json_agg(c)::text, '') AS claimed FROM c
\gset
UPDATE infra.outbox SET status = 2, processed_at = now(), processed_by = 'pgbench-floor',
    owner_token = NULL, locked_until = NULL
  WHERE id = ANY(CAST(:ids AS bigint[])) AND owner_token = CAST(:owner AS text) AND status = 1;
SQL

# Enough loops per client for every row plus slack; loops after the table is drained claim nothing.
T=$(( ROWS / BATCH / C + 20 ))
"$PGBENCH" -n -M prepared -c "$C" -j "$C" -t "$T" -f "$WORK/claim_complete.sql" "$URL" >"$WORK/pgbench.log" 2>&1 \
  || { cat "$WORK/pgbench.log" >&2; exit 1; }
command psql -X -At "$URL" -c "SELECT count(*), extract(epoch FROM max(processed_at) - min(processed_at))
  FROM infra.outbox WHERE status = 2" | awk -F'|' -v r="$ROWS" -v c="$C" -v b="$BATCH" '{
  s = $2 + 0; if (s <= 0) s = 0.001;
  printf "{\"rows\":%d,\"clients\":%d,\"batch\":%d,\"done\":%d,\"seconds\":%.4f,\"msgs_per_s\":%.1f}\n", r, c, b, $1, s, $1 / s }'
