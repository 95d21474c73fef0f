'use strict';
/**
 * Table 2: bulk through the core, 1,000 EC P-256 and 200 RSA-2048 devices at parallelism 1, 2, 4, 8.
 * Also the bare native RSA keygen rate at 1 and 8 in flight on this machine: the ceiling for RSA.
 */
const os = require('node:os');
const { tableMain } = require('../lib/table-main');
const { count } = require('../lib/args');
const { table, verdict, fmt } = require('../lib/markdown');
const { startSimulatorProcess } = require('../lib/simulator');
const { bulkRun } = require('../lib/bulk');
const { bareKeygen } = require('../lib/floor');
const { runPool } = require('../lib/pool');
const { timeAsync } = require('../lib/stats');

const PARALLELISM = [1, 2, 4, 8];

async function keygenRate(n, parallelism) {
  const { ms } = await timeAsync(() => runPool(Array.from({ length: n }), parallelism, () => bareKeygen('rsa2048')));
  return n / (ms / 1000);
}

tableMain(async (args, log) => {
  const ec = count(args, 1000, 100, args.ec);
  const rsa = count(args, 200, 16, args.rsa);
  const sim = await startSimulatorProcess();
  try {
    const runs = [];
    for (const [kind, devices] of [
      ['p256', ec],
      ['rsa2048', rsa],
    ]) {
      for (const parallelism of PARALLELISM) {
        const run = await bulkRun(sim, kind, devices, parallelism);
        log(`${kind} × ${devices} at ${parallelism}: ${fmt(run.rate)} devices/s`);
        runs.push(run);
      }
    }
    const keygenN = count(args, 40, 8);
    const keygenAt1 = await keygenRate(keygenN, 1);
    const keygenAt8 = await keygenRate(keygenN, 8);
    log('bare keygen rates measured');

    const label = { p256: 'EC P-256', rsa2048: 'RSA-2048' };
    const speedup = {};
    const rows = runs.map((run) => {
      const base = runs.find((r) => r.kind === run.kind && r.parallelism === 1);
      const ratio = run.rate / base.rate;
      speedup[run.kind] = Math.max(speedup[run.kind] || 0, ratio);
      return [
        label[run.kind],
        run.parallelism,
        run.devices,
        run.seconds,
        run.rate,
        ratio.toFixed(2),
        `${fmt(run.clientCpu, 0)} %`,
        `${fmt(run.simulatorCpu, 0)} %`,
      ];
    });
    const rsaVerdict = verdict('RSA-2048 best parallel rate / rate at parallelism 1', speedup.rsa2048, 1.8, true);
    const lines = [
      `Through the core (\`provisionDevice\`), X.509 with generated keys, simulator as a separate process on 127.0.0.1; ` +
        `${os.cpus().length} CPUs, libuv pool ${process.env.UV_THREADPOOL_SIZE || 4} threads. CPU = share of one core used by each process during the run.`,
      '',
      table(['keys', 'parallelism', 'devices', 'seconds', 'devices/s', '× rate at 1', 'our CPU', 'simulator CPU'], rows),
      '',
      table(
        ['bare `crypto.generateKeyPair` RSA-2048 (no MQTT, no certificate)', 'keys/s'],
        [
          [`${keygenN} keys one at a time`, keygenAt1],
          [`${keygenN} keys, 8 in flight`, keygenAt8],
          ['× rate at 1 (the most parallelism can give RSA here)', (keygenAt8 / keygenAt1).toFixed(2)],
        ],
      ),
      '',
      rsaVerdict.line,
      `- EC P-256 best parallel / parallelism 1: ${speedup.p256.toFixed(2)} (no target).`,
    ];
    if (!rsaVerdict.met) {
      lines.push(
        `- What bounds RSA: bare native keygen alone scales only ` +
          `${(keygenAt8 / keygenAt1).toFixed(2)}× from 1 to 8 in flight on ${os.cpus().length} CPUs, so the core's ${speedup.rsa2048.toFixed(2)}× is ` +
          `${fmt((speedup.rsa2048 / (keygenAt8 / keygenAt1)) * 100, 0)} % of what the machine allows.`,
      );
    }
    return lines.join('\n');
  } finally {
    await sim.stop();
  }
});
