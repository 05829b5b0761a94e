#!/usr/bin/env python3
"""Turns bench/run's raw folder into bench/results/latest.json and latest.md (medians of runs).

Raw folder layout (written by bench/run):
  vals/<key>      one number per line, one line per run      -> key = median
  notes/<key>     free text                                  -> notes[key]
  extra/<name>.json  any JSON object (per-run details)       -> details[name]
  machine.json, meta.json
"""
import json, os, statistics, sys

REQUIRED = ["pg_burndown_msgs_per_s", "pg_floor_msgs_per_s", "graphile_worker_jobs_per_s",
            "pg_boss_jobs_per_s", "sqlite_burndown_msgs_per_s", "sqlite_floor_msgs_per_s",
            "pg_100_tenants_msgs_per_s", "idle_1000_tenants_connections",
            "idle_1000_tenants_cpu_percent", "pickup_p99_ms_notify", "pickup_p99_ms_poll",
            "abi_call_ns"]

raw, out_json, out_md = sys.argv[1:4]
def load(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default

result = {"machine": load(os.path.join(raw, "machine.json"), {})}
result.update(load(os.path.join(raw, "meta.json"), {}))
runs, notes, details = {}, {}, {}
vdir = os.path.join(raw, "vals")
for key in sorted(os.listdir(vdir)) if os.path.isdir(vdir) else []:
    with open(os.path.join(vdir, key)) as f:
        vals = [float(x) for x in f.read().split() if x not in ("", "null")]
    if vals:
        runs[key] = vals
        med = statistics.median(vals)
        result[key] = round(med, 2) if abs(med) < 1000 else round(med)
ndir = os.path.join(raw, "notes")
for key in sorted(os.listdir(ndir)) if os.path.isdir(ndir) else []:
    with open(os.path.join(ndir, key)) as f:
        notes[key] = " ".join(f.read().split())
edir = os.path.join(raw, "extra")
for name in sorted(os.listdir(edir)) if os.path.isdir(edir) else []:
    details[name[:-5]] = load(os.path.join(edir, name))
for key in REQUIRED:
    if key not in result:
        result[key] = None
        notes.setdefault(key, "not measured in this run (no reason recorded)")

def ratio(a, b):
    x, y = result.get(a), result.get(b)
    return round(x / y, 3) if isinstance(x, (int, float)) and isinstance(y, (int, float)) and y else None

result["ratios"] = {
    "pg_burndown_vs_floor": ratio("pg_burndown_msgs_per_s", "pg_floor_msgs_per_s"),
    "pg_burndown_vs_graphile_worker": ratio("pg_burndown_msgs_per_s", "graphile_worker_jobs_per_s"),
    "sqlite_burndown_vs_floor": ratio("sqlite_burndown_msgs_per_s", "sqlite_floor_msgs_per_s"),
    "graphile_worker_vs_pg_floor": ratio("graphile_worker_jobs_per_s", "pg_floor_msgs_per_s"),
    "fairness_backlog_vs_none_p99": ratio("fairness_pickup_p99_ms_backlog", "fairness_pickup_p99_ms_none"),
}
result["notes"] = notes
result["runs"] = runs
result["details"] = details
with open(out_json, "w") as f:
    json.dump(result, f, indent=2, sort_keys=False)
    f.write("\n")

def fmt(v, unit=""):
    if v is None:
        return "null"
    if isinstance(v, float) and abs(v) < 100:
        return f"{v:g}{unit}"
    return f"{v:,.0f}{unit}"

def cell(key, unit=""):
    v = result.get(key)
    s = fmt(v, unit)
    r = runs.get(key)
    if r and len(r) > 1:
        s += f" ({len(r)} runs {fmt(min(r))}–{fmt(max(r))})"
    return s

r = result["ratios"]
m = result["machine"]
rows = [
    ("PostgreSQL floor: pgbench claim 50 + complete by id", "pg_floor_msgs_per_s", " msg/s", ""),
    ("outboxd on PostgreSQL, 1 tenant", "pg_burndown_msgs_per_s", " msg/s",
     f"{fmt(r['pg_burndown_vs_floor'])}× floor (target ≥ 0.8), {fmt(r['pg_burndown_vs_graphile_worker'])}× graphile-worker (target ≥ 1.5)"),
    ("outboxd on PostgreSQL, 100 tenants", "pg_100_tenants_msgs_per_s", " msg/s", ""),
    ("graphile-worker, batching preset", "graphile_worker_jobs_per_s", " jobs/s", ""),
    ("pg-boss", "pg_boss_jobs_per_s", " jobs/s", ""),
    ("SQLite floor: sqlite3 C API claim 50 + complete", "sqlite_floor_msgs_per_s", " msg/s", ""),
    ("outboxd on SQLite, 1 tenant", "sqlite_burndown_msgs_per_s", " msg/s",
     f"{fmt(r['sqlite_burndown_vs_floor'])}× floor (target ≥ 0.8)"),
    ("outboxd on SQLite, 100 tenant files", "sqlite_100_tenants_msgs_per_s", " msg/s", ""),
    ("1,000 idle tenants: connections (worse mode)", "idle_1000_tenants_connections", "", "target ≤ stores.max_connections"),
    ("  polling", "idle_1000_tenants_connections_poll", "", "cap tenants + 100"),
    ("  LISTEN/NOTIFY", "idle_1000_tenants_connections_notify", "", "cap tenants + 100"),
    ("1,000 idle tenants: outboxd CPU (worse mode)", "idle_1000_tenants_cpu_percent", "%", "target < 2% of one core"),
    ("  polling / LISTEN/NOTIFY", "idle_1000_tenants_cpu_percent_poll", "%", f"notify: {fmt(result.get('idle_1000_tenants_cpu_percent_notify'), '%')}"),
    ("1,000 idle tenants: outboxd RSS (worse mode)", "idle_1000_tenants_rss_kib", " KiB", ""),
    ("1,000 idle tenants: transactions/s at the server, polling", "idle_1000_tenants_queries_per_s_poll", "", f"notify: {fmt(result.get('idle_1000_tenants_queries_per_s_notify'))}"),
    ("1,000 idle tenants: new server sessions/s (reconnect churn), polling", "idle_1000_tenants_new_sessions_per_s_poll", "", f"notify: {fmt(result.get('idle_1000_tenants_new_sessions_per_s_notify'))}"),
    ("pickup p99, LISTEN/NOTIFY (enqueue to handler start)", "pickup_p99_ms_notify", " ms", f"target ≤ 100 ms; p50 {fmt(result.get('pickup_p50_ms_notify'), ' ms')}"),
    ("pickup p99, polling", "pickup_p99_ms_poll", " ms", f"target ≤ max_poll_interval + 0.5 s = 2.5 s; p50 {fmt(result.get('pickup_p50_ms_poll'), ' ms')}"),
    ("graphile-worker latency p99 at 200/s", "graphile_worker_latency_p99_ms_200", " ms", ""),
    ("graphile-worker latency p99 at 2,000/s", "graphile_worker_latency_p99_ms_2000", " ms", ""),
    ("handler call through the C ABI (host path, no-op plugin)", "abi_call_ns", " ns",
     f"direct virtual call {fmt(result.get('abi_direct_virtual_ns'), ' ns')}; target < 100 ns"),
]
for rate in (200, 2000):
    for mode in ("notify", "poll"):
        k = f"outboxd_latency_p99_ms_{rate}_{mode}"
        if k in result:
            rows.append((f"outboxd latency p50/p95/p99 at {rate:,}/s, {'LISTEN/NOTIFY' if mode == 'notify' else 'polling'}",
                         k, " ms", f"p50 {fmt(result.get(f'outboxd_latency_p50_ms_{rate}_{mode}'), ' ms')}, p95 {fmt(result.get(f'outboxd_latency_p95_ms_{rate}_{mode}'), ' ms')} (median shown is p99)"))
if "fairness_pickup_p99_ms_backlog" in result:
    rows.append(("fairness: pickup p99 of 99 tenants at 10 msg/s each, one tenant with a 100,000 backlog",
                 "fairness_pickup_p99_ms_backlog", " ms",
                 f"without the backlog {fmt(result.get('fairness_pickup_p99_ms_none'), ' ms')}: "
                 f"{fmt(ratio('fairness_pickup_p99_ms_backlog', 'fairness_pickup_p99_ms_none'))}× "
                 f"(target ≤ 2×); p50 {fmt(result.get('fairness_pickup_p50_ms_backlog'), ' ms')} vs "
                 f"{fmt(result.get('fairness_pickup_p50_ms_none'), ' ms')}"))
for t in (1, 10, 100, 1000):
    if f"sweep_msgs_per_s_{t}" in result or f"sweep_pickup_p99_ms_notify_{t}" in result:
        rows.append((f"scale: {t:,} tenant(s), burn-down", f"sweep_msgs_per_s_{t}", " msg/s",
                     f"pickup p50/p99 notify {fmt(result.get(f'sweep_pickup_p50_ms_notify_{t}'))}/{fmt(result.get(f'sweep_pickup_p99_ms_notify_{t}'), ' ms')}, "
                     f"polling {fmt(result.get(f'sweep_pickup_p50_ms_poll_{t}'))}/{fmt(result.get(f'sweep_pickup_p99_ms_poll_{t}'), ' ms')}"
                     + (f"; {fmt(ratio(f'sweep_msgs_per_s_{t}', 'sweep_msgs_per_s_10'))}× the 10-tenant figure "
                        f"(target ≥ {0.9 if t == 100 else 0.7})" if t in (100, 1000) else "")))
lines = [f"Machine: {m.get('cores')} cores, {m.get('cpu_model')}, PostgreSQL {m.get('postgresql_version')}; "
         f"mode {result.get('mode')}, {result.get('messages')} messages, medians of {result.get('repetitions')} runs; "
         f"{result.get('finished_at')}", "",
         "| Figure | Median | vs target / floor |", "|---|---:|---|"]
for label, key, unit, extra in rows:
    lines.append(f"| {label} | {cell(key, unit)} | {extra} |")
if notes:
    lines += ["", "Null or caveated figures:"]
    lines += [f"- `{k}`: {v}" for k, v in notes.items()]
with open(out_md, "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
