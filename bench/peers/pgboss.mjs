// pg-boss driver for bench/run (pg-boss is used as a dependency only).
//   node pgboss.mjs burndown <url> <jobs> <batchSize> <localConcurrency>
// Creates queue "noop", inserts <jobs> jobs in chunks of 5,000 (start-up and insert excluded from
// the measurement), then works them with no-op handlers (batch fetch, burst while batches come
// back full) until all are handled and completed. Prints
//   {"count":..,"first_ms":..,"last_ms":..,"completed":..}
// first_ms / last_ms: first handler start / last handler end (epoch ms); completed: rows in state
// 'completed' after a graceful stop (checked once, not polled).
import { PgBoss } from "pg-boss";

const [cmd, url, jobsArg, batchArg, concArg] = process.argv.slice(2);
if (cmd !== "burndown") throw new Error("usage: pgboss.mjs burndown <url> <jobs> <batch> <concurrency>");
const jobs = Number(jobsArg), batchSize = Number(batchArg), localConcurrency = Number(concArg);

const boss = new PgBoss({ connectionString: url, max: localConcurrency + 4 });
boss.on("error", (e) => console.error("pg-boss:", e.message));
await boss.start();
await boss.createQueue("noop");
for (let done = 0; done < jobs; done += 5000) {
  const n = Math.min(5000, jobs - done);
  const batch = new Array(n);
  for (let i = 0; i < n; i++) batch[i] = { data: { i: done + i } };
  await boss.insert("noop", batch);
}

let count = 0, first = 0, last = 0, resolveAll;
const all = new Promise((r) => (resolveAll = r));
await boss.work("noop", { batchSize, localConcurrency, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 },
  async (batch) => {
    if (count === 0) first = Date.now();
    count += batch.length;
    last = Date.now();
    if (count >= jobs) resolveAll();
  });
const timer = setTimeout(resolveAll, 600000);
await all;
clearTimeout(timer);
await boss.stop({ graceful: true, wait: true, timeout: 30000 });
const db = new PgBoss({ connectionString: url, supervise: false, schedule: false });
await db.start();
const rows = await db.getDb().executeSql("SELECT count(*)::int AS n FROM pgboss.job WHERE state = 'completed'");
await db.stop({ graceful: false, wait: true });
console.log(JSON.stringify({ count, first_ms: first, last_ms: last, completed: rows.rows[0].n }));
process.exit(0);
