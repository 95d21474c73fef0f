'use strict';
/**
 * Child process for table 3's control run: the same RSA bulk with fewer RSA keys at a time (set by
 * the parent through GRIDLINKS_RSA_THREADS, which the core reads when it loads).
 * Usage: node loop-child.js JSON  with {sim: {host, port, caFile, provisionKey, provisionSecret, pid}, devices, parallelism}
 * Prints one JSON line: {maxMs, p99Ms, meanMs, utilization, rate}.
 */
const fs = require('node:fs');
const { measureLoopDelay } = require('./loop-delay');
const { bulkRun } = require('./bulk');

async function main() {
  const job = JSON.parse(process.argv[2]);
  const caPem = fs.readFileSync(job.sim.caFile, 'utf8');
  const sim = { ...job.sim, caPem, server: { host: job.sim.host, port: job.sim.port, tls: true, ca: caPem } };
  await bulkRun(sim, 'rsa2048', 2, 2, 'loopchild-warm');
  const measured = await measureLoopDelay(() => bulkRun(sim, 'rsa2048', job.devices, job.parallelism, 'loopchild'));
  const { value, ...delay } = measured;
  process.stdout.write(`${JSON.stringify({ ...delay, rate: value.rate })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
