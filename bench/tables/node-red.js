'use strict';
/**
 * Table 4: the bulk runs as a Node-RED flow (messages → gridlinks-provision with 8 in parallel →
 * count) in a real Node-RED runtime, against the core alone at parallelism 8, in the same process.
 */
const { tableMain } = require('../lib/table-main');
const { count } = require('../lib/args');
const { table, verdict } = require('../lib/markdown');
const { startSimulatorProcess } = require('../lib/simulator');
const { bulkRun } = require('../lib/bulk');
const { loadProvisionFlow } = require('../lib/node-red-flow');
const { deviceName } = require('../lib/core');
const { timeAsync } = require('../lib/stats');

const PARALLEL = 8;
let nodeRedVersion = '';
const WARMUP = 8;

async function throughNodeRed(sim, kind, devices, tag) {
  const flow = await loadProvisionFlow(sim, { keyAlgorithm: kind, maxParallel: PARALLEL, keyPool: 0 });
  try {
    await flow.provisionAll(Array.from({ length: WARMUP }, (_, i) => deviceName(`${tag}-warm`, i)));
    const names = Array.from({ length: devices }, (_, i) => deviceName(tag, i));
    const { ms } = await timeAsync(() => flow.provisionAll(names));
    nodeRedVersion = flow.nodeRedVersion;
    return devices / (ms / 1000);
  } finally {
    await flow.unload();
  }
}

tableMain(async (args, log) => {
  const sizes = { p256: count(args, 1000, 100, args.ec), rsa2048: count(args, 200, 16, args.rsa) };
  const label = { p256: 'EC P-256', rsa2048: 'RSA-2048' };
  const sim = await startSimulatorProcess();
  try {
    const rows = [];
    const verdicts = [];
    for (const [index, kind] of ['p256', 'rsa2048'].entries()) {
      await bulkRun(sim, kind, WARMUP, PARALLEL, `nr-core-warm-${kind}`);
      // Alternate which path runs first, so neither always gets the warmer machine.
      const order = index % 2 ? ['node', 'core'] : ['core', 'node'];
      const rate = {};
      for (const path of order) {
        rate[path] =
          path === 'core'
            ? (await bulkRun(sim, kind, sizes[kind], PARALLEL, `nr-core-${kind}`)).rate
            : await throughNodeRed(sim, kind, sizes[kind], `nr-flow-${kind}`);
        log(`${label[kind]} ${path}: ${rate[path].toFixed(1)} devices/s`);
      }
      const ratio = rate.node / rate.core;
      rows.push([`${sizes[kind]} × ${label[kind]}`, rate.core, rate.node, ratio.toFixed(2)]);
      verdicts.push(verdict(`${label[kind]} through Node-RED / core alone`, ratio, 0.9, true).line);
    }
    return [
      `Devices per second, ${PARALLEL} in flight both ways: the core's \`provisionDevice\` in a pool, and a flow in a real ` +
        `Node-RED ${nodeRedVersion} runtime embedded in the process (package linked into its user folder) where all messages are injected at once into ` +
        `gridlinks-provision (max parallel ${PARALLEL}) and a Function node counts its outputs. Simulator in a separate process.`,
      '',
      table(['bulk run', 'core alone', 'through Node-RED', 'Node-RED / core'], rows),
      '',
      ...verdicts,
    ].join('\n');
  } finally {
    await sim.stop();
  }
});
