#!/usr/bin/env python3
"""Measures how long outboxd holds the SQLite write lock of a tenant database.

Usage: sqlite_lock_hold.py DB SECONDS
A probe connection with no busy timeout tries BEGIN IMMEDIATE (take the write lock) + ROLLBACK in a
tight loop for SECONDS. Every run of consecutive "database is locked" answers is one lock-holding
period of another writer; its length (first refusal to next success) is recorded. Prints the count
and the p50 / p99 / max lengths in milliseconds. The probe's own loop adds up to one iteration
(tens of microseconds) to each period.
"""
import sqlite3
import sys
import time

db, seconds = sys.argv[1], float(sys.argv[2])
conn = sqlite3.connect(db, timeout=0, isolation_level=None)
periods = []
busy_since = None
end = time.monotonic() + seconds
while time.monotonic() < end:
    now = time.monotonic()
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        if busy_since is not None:
            periods.append((now - busy_since) * 1000.0)
            busy_since = None
    except sqlite3.OperationalError as e:
        if "locked" not in str(e) and "busy" not in str(e):
            raise
        if busy_since is None:
            busy_since = now
periods.sort()
def pct(p):
    return periods[min(len(periods) - 1, int(len(periods) * p))] if periods else 0.0
print(f"lock periods: {len(periods)}  p50 {pct(0.5):.2f} ms  p99 {pct(0.99):.2f} ms  "
      f"max {periods[-1] if periods else 0.0:.2f} ms")
