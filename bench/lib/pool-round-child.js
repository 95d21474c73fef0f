'use strict';
/**
 * Child process for table 7's control round: one round of RSA-2048 devices through the pooled node
 * (embedded Node-RED), refill included, with the environment the parent chose (GRIDLINKS_RSA_THREADS
 * is read when the core loads, so it needs a fresh process).
 * Usage: node pool-round-child.js JSON  with {sim: {host, port, caFile, provisionKey, provisionSecret}, devices, parallelism, pool, prefix}
 * Prints one JSON line: {maxMs, p99Ms, meanMs, utilization, longestGcMs, rate}.
 */
const fs = require('node:fs');
const util = require('node:util');
const { measureLoopDelay } = require('./loop-delay');
const { loadProvisionFlow } = require('./node-red-flow');
const { core } = require('./core');

async function main() {
  const job = JSON.parse(process.argv[2]);
  console.log = console.info = console.warn = (...parts) => process.stderr.write(`${util.format(...parts)}\n`);
  const sim = { ...job.sim, caPem: fs.readFileSync(job.sim.caFile, 'utf8') };
  const flow = await loadProvisionFlow(sim, { keyAlgorithm: 'rsa2048', maxParallel: job.parallelism, keyPool: 0, pooled: { keyPool: job.pool } });
  try {
    const pool = core.sharedKeyPool('rsa2048');
    await pool.whenFull();
    await flow.provisionAll([`${job.prefix}-warm`], undefined, 'prov-pool');
    await pool.whenFull();
    const names = Array.from({ length: job.devices }, (_, i) => `${job.prefix}-${i}`);
    const measured = await measureLoopDelay(async () => {
      const start = process.hrtime.bigint();
      await flow.provisionAll(names, undefined, 'prov-pool');
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      await pool.whenFull();
      return ms;
    });
    const { value, ...delay } = measured;
    process.stdout.write(`${JSON.stringify({ ...delay, rate: job.devices / (value / 1000) })}\n`);
  } finally {
    await flow.unload();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  },
);
