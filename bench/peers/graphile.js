// graphile-worker driver for bench/run (graphile-worker is used as a dependency only).
//   node graphile.js prepare <url> <jobs>              schema + <jobs> no-op jobs (addJobs, chunks)
//   node graphile.js work <url> <concurrency> <batching 0|1>
//        one worker process, runOnce (exits when the queue is empty); prints
//        {"count":..,"first_ms":..,"last_ms":..}: first handler start / last handler end (epoch ms)
//   node graphile.js latency <url> <rate/s> <seconds>
//        a worker (run mode, LISTEN/NOTIFY, the same batching preset) in this process, a producer child process
//        adding one job per call at a fixed rate; prints enqueue-to-handler-start percentiles (ms).
"use strict";
const { run, runOnce, runMigrations, makeWorkerUtils } = require("graphile-worker");
const { fork } = require("node:child_process");

const [cmd, url, a1, a2, a3] = process.argv.slice(2);
const batchingPreset = {
  // graphile-worker's documented high-throughput settings (website/docs/performance.md)
  localQueue: { size: 500 },
  completeJobBatchDelay: 0,
  failJobBatchDelay: 0,
};
const { Logger } = require("graphile-worker");
const logger = new Logger(() => (level, message) => {
  if (level === "error") console.error(message);
});

function pct(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}

async function prepare(jobs) {
  await runMigrations({ connectionString: url, logger });
  const utils = await makeWorkerUtils({ connectionString: url, logger });
  try {
    const chunk = 10000;
    for (let done = 0; done < jobs; done += chunk) {
      const n = Math.min(chunk, jobs - done);
      const specs = new Array(n);
      for (let i = 0; i < n; i++) specs[i] = { identifier: "noop", payload: { i: done + i } };
      await utils.addJobs(specs);
    }
  } finally {
    await utils.release();
  }
}

async function work(concurrency, batching) {
  let count = 0, first = 0, last = 0;
  const taskList = {
    noop: async () => {
      if (count === 0) first = Date.now();
      count++;
      last = Date.now();
    },
  };
  await runOnce({
    connectionString: url,
    concurrency,
    noHandleSignals: true,
    logger,
    taskList,
    preset: { worker: Object.assign({ concurrentJobs: concurrency }, batching ? batchingPreset : {}) },
  });
  console.log(JSON.stringify({ count, first_ms: first, last_ms: last }));
}

async function produce(rate, seconds) {
  const utils = await makeWorkerUtils({ connectionString: url, logger });
  const total = Math.round(rate * seconds);
  const start = Date.now();
  let sent = 0, inflight = 0;
  await new Promise((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((Date.now() - start) / 1000) * rate));
      while (sent < due && inflight < 200) {
        sent++; inflight++;
        utils.addJob("lat", { t: Date.now() }).finally(() => {
          inflight--;
          if (sent >= total && inflight === 0) { clearInterval(tick); resolve(); }
        });
      }
    }, 2);
  });
  await utils.release();
}

async function latency(rate, seconds) {
  const total = Math.round(rate * seconds);
  const lat = [];
  let resolveDone;
  const done = new Promise((r) => (resolveDone = r));
  await runMigrations({ connectionString: url, logger });
  const runner = await run({
    connectionString: url,
    concurrency: 24,
    noHandleSignals: true,
    logger,
    preset: { worker: Object.assign({ concurrentJobs: 24 }, batchingPreset) },
    taskList: {
      lat: async (payload) => {
        lat.push(Date.now() - payload.t);
        if (lat.length >= total) resolveDone();
      },
    },
  });
  const child = fork(__filename, ["produce", url, String(rate), String(seconds)]);
  const timeout = setTimeout(resolveDone, (seconds + 30) * 1000);
  await done;
  clearTimeout(timeout);
  child.kill();
  await runner.stop();
  lat.sort((x, y) => x - y);
  console.log(JSON.stringify({ rate, seconds, expected: total, count: lat.length,
    p50_ms: pct(lat, 50), p95_ms: pct(lat, 95), p99_ms: pct(lat, 99), max_ms: lat[lat.length - 1] ?? null }));
}

(async () => {
  if (cmd === "prepare") await prepare(Number(a1));
  else if (cmd === "work") await work(Number(a1), a2 === "1");
  else if (cmd === "produce") await produce(Number(a1), Number(a2));
  else if (cmd === "latency") await latency(Number(a1), Number(a2));
  else throw new Error("usage: graphile.js prepare|work|latency <url> ...");
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
