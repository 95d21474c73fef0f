'use strict';
/**
 * Table 7: the warm key pool, through the node in a real Node-RED runtime embedded in this process.
 * (a) one RSA-2048 device at a time, interleaved: a node without a pool (keyPool 0) and a node with a
 *     full pool; the same node's EC P-256 device (key cost ≈ 0) as the limit a ready key can reach;
 * (b) a burst of as many devices as the pool holds, all served from it, then the time the pool takes
 *     to refill and the event loop while it refills;
 * (c) three rounds of 200 RSA-2048 devices at 8 in flight through the pooled node, refills included:
 *     event-loop max.
 */
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { tableMain } = require('../lib/table-main');
const { count } = require('../lib/args');
const { table, verdict, fmt } = require('../lib/markdown');
const { startSimulatorProcess } = require('../lib/simulator');
const { loadProvisionFlow } = require('../lib/node-red-flow');
const { core, deviceName } = require('../lib/core');
const { summarize, timeAsync } = require('../lib/stats');
const { measureLoopDelay } = require('../lib/loop-delay');
const { bareKeygen } = require('../lib/floor');

const POOL = 8;
const PARALLEL = 8;

const ROUND_CHILD = path.resolve(__dirname, '..', 'lib', 'pool-round-child.js');

/** One round in a fresh process with GRIDLINKS_RSA_THREADS=threads: devices leave that many CPUs... */
function controlRound(sim, devices, threads, prefix) {
  const job = {
    sim: { host: sim.host, port: sim.port, caFile: sim.caFile, provisionKey: sim.provisionKey, provisionSecret: sim.provisionSecret },
    devices,
    parallelism: PARALLEL,
    pool: POOL,
    prefix,
  };
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [ROUND_CHILD, JSON.stringify(job)],
      { env: { ...process.env, GRIDLINKS_RSA_THREADS: String(threads) }, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`control round failed: ${stderr.slice(-500)}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop()));
      },
    );
  });
}

function spread(summary) {
  return `${fmt(summary.min)}–${fmt(summary.max)}`;
}

tableMain(async (args, log) => {
  const singles = count(args, 40, 6);
  const rounds = count(args, 3, 1);
  const roundDevices = count(args, 200, 16, args.rsa);
  const sim = await startSimulatorProcess();
  const flow = await loadProvisionFlow(sim, { keyAlgorithm: 'rsa2048', maxParallel: PARALLEL, keyPool: 0, pooled: { keyPool: POOL } });
  try {
    const pool = core.sharedKeyPool('rsa2048');
    if (!pool || pool.size !== POOL) throw new Error('the pooled node holds no shared RSA-2048 pool of the expected size');
    const one = async (target, payload) => (await timeAsync(() => flow.provisionAll([payload], undefined, target))).ms;

    // Warm-up: JIT, TLS session code, the simulator.
    await pool.whenFull();
    for (let i = 0; i < 3; i++) {
      await one('prov', { deviceName: deviceName('warm-none', i) });
      await one('prov-pool', { deviceName: deviceName('warm-pool', i) });
      await pool.whenFull();
    }

    // (a) interleaved, alternating which goes first; the pool is full before every device of either kind.
    const samples = { none: [], pool: [], ec: [] };
    for (let i = 0; i < singles; i++) {
      const order = i % 2 ? ['pool', 'none', 'ec'] : ['none', 'ec', 'pool'];
      for (const kind of order) {
        await pool.whenFull();
        if (kind === 'none') samples.none.push(await one('prov', { deviceName: deviceName('one-none', i) }));
        if (kind === 'pool') samples.pool.push(await one('prov-pool', { deviceName: deviceName('one-pool', i) }));
        if (kind === 'ec') samples.ec.push(await one('prov', { deviceName: deviceName('one-ec', i), keyAlgorithm: 'p256' }));
      }
    }
    const bareKey = [];
    for (let i = 0; i < Math.min(singles, 20); i++) bareKey.push(await bareKeygen('rsa2048'));
    const a = { none: summarize(samples.none), pool: summarize(samples.pool), ec: summarize(samples.ec), key: summarize(bareKey) };
    const ratio = a.pool.median / a.none.median;
    log(`(a) no pool ${fmt(a.none.median)} ms, pool ${fmt(a.pool.median)} ms, EC ${fmt(a.ec.median)} ms`);

    // (b) burst of POOL devices from a full pool; count the keys taken from it.
    await pool.whenFull();
    let taken = 0;
    let lastReady = pool.state().ready;
    const stop = pool.onChange((state) => {
      if (state.ready < lastReady) taken += lastReady - state.ready;
      lastReady = state.ready;
    });
    const burstNames = Array.from({ length: POOL }, (_, i) => deviceName('burst', i));
    const burst = await timeAsync(() => flow.provisionAll(burstNames, undefined, 'prov-pool'));
    stop();
    const refill = await measureLoopDelay(async () => (await timeAsync(() => pool.whenFull())).ms);
    log(`(b) burst of ${POOL}: ${taken} from the pool in ${fmt(burst.ms)} ms; refill ${fmt(refill.value)} ms, loop max ${fmt(refill.maxMs)} ms`);

    // (c) rounds of RSA-2048 devices at 8 in flight through the pooled node, until the pool is full again.
    const roundRows = [];
    let worst = 0;
    for (let round = 0; round < rounds; round++) {
      await pool.whenFull();
      const names = Array.from({ length: roundDevices }, (_, i) => deviceName(`round${round}`, i));
      const measured = await measureLoopDelay(async () => {
        const { ms } = await timeAsync(() => flow.provisionAll(names, undefined, 'prov-pool'));
        await pool.whenFull();
        return ms;
      });
      worst = Math.max(worst, measured.maxMs);
      roundRows.push([
        `round ${round + 1}: ${roundDevices} devices, ${PARALLEL} in flight, then the refill`,
        roundDevices / (measured.value / 1000),
        measured.maxMs,
        measured.p99Ms,
        `${fmt(measured.longestGcMs)}${measured.longestGcMajor ? ' (major)' : ''}`,
        `${fmt(measured.utilization * 100, 0)} %`,
      ]);
      log(`(c) round ${round + 1}: max ${fmt(measured.maxMs)} ms`);
    }

    const cpus = os.cpus().length;
    const control = await controlRound(sim, roundDevices, Math.max(1, cpus - 1), deviceName('control', 'd'));
    roundRows.push([
      `control, a fresh process with GRIDLINKS_RSA_THREADS=${Math.max(1, cpus - 1)} (devices' RSA keys leave a CPU to the loop): ${roundDevices} devices, then the refill`,
      control.rate,
      control.maxMs,
      control.p99Ms,
      fmt(control.longestGcMs),
      `${fmt(control.utilization * 100, 0)} %`,
    ]);
    log(`(c) control: max ${fmt(control.maxMs)} ms at ${fmt(control.rate)} devices/s`);

    const vA1 = verdict('RSA-2048 device through the node with a warm pool, median', a.pool.median, 25, false, ' ms');
    const vA2 = verdict('warm pool / no pool, medians of the same run', ratio, 0.15, false, '×');
    const vB = verdict(`devices of a burst of ${POOL} served from the pool`, taken, POOL, true);
    const vC = verdict(
      `event-loop max over ${rounds} rounds of ${roundDevices} RSA-2048 devices at ${PARALLEL} in flight, refills included`,
      worst,
      20,
      false,
      ' ms',
    );
    return [
      `A real Node-RED runtime embedded in the process with two gridlinks-provision nodes for RSA-2048 X.509: one with *Key pool* 0, one with ${POOL} ` +
        `(max parallel ${PARALLEL} each); one message at a time, wall time from \`receive\` to the output message. The pool is full before each device ` +
        `(so the no-pool device does not compete with a refill). ${os.cpus().length} CPUs, simulator in a separate process.`,
      '',
      table(
        ['(a) one device through the node', 'median ms', 'p95 ms', 'min–max ms', 'devices'],
        [
          ['RSA-2048, no pool (a key per device)', a.none.median, a.none.p95, spread(a.none), a.none.n],
          [`RSA-2048, warm pool of ${POOL}`, a.pool.median, a.pool.p95, spread(a.pool), a.pool.n],
          ['EC P-256, same node (key ≈ 0: the limit for a ready key)', a.ec.median, a.ec.p95, spread(a.ec), a.ec.n],
          ['bare RSA-2048 `crypto.generateKeyPair` (what the pool saves)', a.key.median, a.key.p95, spread(a.key), a.key.n],
          ['warm pool / no pool', ratio.toFixed(3), '', '', ''],
        ],
      ),
      '',
      table(
        [`(b) burst of ${POOL} messages at once, pool full`, 'value'],
        [
          ['devices served from the pool', `${taken} of ${POOL}`],
          ['burst wall time, ms', burst.ms],
          ['pool refill after the burst, ms', refill.value],
          ['event-loop max during the refill, ms', refill.maxMs],
          ['event-loop p99 during the refill, ms', refill.p99Ms],
        ],
      ),
      '',
      table(['(c) through the pooled node', 'devices/s', 'loop max ms', 'p99 ms', 'longest GC ms', 'loop busy'], roundRows),
      '',
      vA1.line,
      vA2.line,
      vB.line,
      vC.line,
      '',
      `- What bounds (a): a device with a ready key still pays its certificate (an RSA-2048 signature) and the TLS exchange; the EC P-256 row, ` +
        `whose key costs ≈ 0.2 ms, is that limit (${fmt(a.ec.median)} ms). The pool saves one key generation (${fmt(a.key.median)} ms median here).`,
      `- Refills run one key at a time per spare CPU (${Math.max(1, os.cpus().length - 1)} here) and only while no device waits for a key; ` +
        `${POOL} keys one at a time take about ${POOL} × one key generation.`,
      `- (c) Every RSA key (the devices' and the refills') is made on the core's key threads at nice 19: key generation never holds a CPU ` +
        `that the loop or V8's GC threads want, and still uses every CPU they leave idle. Devices start one per loop turn, so the ${POOL} devices ` +
        `a full pool serves at once are spread over ${POOL} turns. What is left in a round's max is garbage collection (longest pause in the table: ` +
        `a pause also waits for V8's helper threads to get a CPU) and other processes on the machine. The control row (\`GRIDLINKS_RSA_THREADS\`, ` +
        `fewer keys at a time) shows the max with a CPU left idle, at its devices/s.`,
    ].join('\n');
  } finally {
    await flow.unload();
    await sim.stop();
  }
});
