'use strict';
/**
 * Table 13: the outbox through the nodes. (a) gridlinks-device with the outbox on against off, the same
 * readings offered at 2,000/s and unpaced (paired rounds); (b) a backlog of 100,000 readings kept while
 * the server is down (RSS as it grows), then drained when it is back, timed until the outbox is empty,
 * with what each side's CPU did meanwhile. Needs --expose-gc (npm run bench passes it).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { tableMain } = require('../lib/table-main');
const { count } = require('../lib/args');
const { table, verdict, fmt } = require('../lib/markdown');
const { startSimulatorProcess, processCpuMs } = require('../lib/simulator');
const { startEmbeddedNodeRed, serverNode, deviceNodeConfig, gatewayNodeConfig } = require('../lib/embedded-node-red');
const { pairedRounds } = require('../lib/rounds');
const { settledMemory, tokenOf, deviceLogin, profilesFile } = require('../lib/bench-devices');
const { openOutbox } = require('../../nodes/outbox');

const ROUNDS = 7;
const OFFERED_PER_SECOND = 2000;
const DEVICES = 20;
const WINDOW = 1000;
/** The replay rate the drain runs with (the node's highest; its default is 100/s). */
const DRAIN_RATE = 100000;
const GATEWAY_CHILDREN = 1000;
const DRAIN_GATEWAY = 'bench-drain-gateway';

function deviceNode(id, outboxDir, extra = {}) {
  return deviceNodeConfig(id, {
    outbox: outboxDir !== '',
    outboxDir,
    outboxSizeMB: 1024,
    outboxAgeDays: 7,
    outboxFullPolicy: 'drop-oldest',
    outboxRate: 100,
    ...extra,
  });
}

const held = [];
const drainGateway = deviceLogin(DRAIN_GATEWAY);
const childNames = Array.from({ length: GATEWAY_CHILDREN }, (_, i) => `drain-child-${i}`);
const childReading = (i) => ({ gateway: drainGateway, deviceName: childNames[i % GATEWAY_CHILDREN], payload: { i, temperature: 21.5 } });
const reading = (i) => ({
  device: (held[i % DEVICES] ??= deviceLogin(`bench-device-${i % DEVICES}`, tokenOf(i % DEVICES))),
  payload: { i, temperature: 21.5 },
});

/** Waits until `check()` is true, polling every `everyMs`; resolves the ms it took. */
async function until(check, everyMs = 50) {
  const started = performance.now();
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, everyMs));
  return performance.now() - started;
}

/** Sends `count` readings to node `id` while the server is down (RSS after each quarter), resumes it, and times the drain until the outbox in `dir` is empty. */
async function keepThenDrain(runtime, sim, id, dir, count, messageAt, log) {
  const memoryAt = [];
  const baseline = await settledMemory();
  const appendStarted = performance.now();
  const quarter = count / 4;
  for (let part = 0; part < 4; part++) {
    const kept = await runtime.send(id, quarter, (i) => messageAt(part * quarter + i), WINDOW, { keep: part === 0 });
    if (part === 0 && kept.some((msg) => msg.queued !== true)) throw new Error(`${id}: a message sent while the server was down was not queued`);
    memoryAt.push(await settledMemory());
  }
  const appendMs = performance.now() - appendStarted;
  const watcher = await openOutbox({ dir, maxBytes: 1024 * 1024 * 1024 });
  try {
    const stored = watcher.counts().waiting;
    log(`${id}: ${stored} readings kept in ${(appendMs / 1000).toFixed(1)} s; RSS ${memoryAt.map((m) => m.rss.toFixed(0)).join(', ')} MB`);
    const cpuBefore = process.cpuUsage();
    const simCpuBefore = processCpuMs(sim.pid);
    await sim.control('resume');
    let firstAckAt;
    const drainMs = await until(() => {
      const waiting = watcher.counts().waiting;
      if (firstAckAt === undefined && waiting < stored) firstAckAt = performance.now();
      return waiting === 0;
    });
    const drainedAt = performance.now();
    const cpu = process.cpuUsage(cpuBefore);
    const flowingMs = drainedAt - (firstAckAt ?? drainedAt);
    log(`${id}: drained in ${drainMs.toFixed(0)} ms (${flowingMs.toFixed(0)} ms from the first acknowledgement)`);
    return {
      appendRate: count / (appendMs / 1000),
      memory: [baseline, ...memoryAt],
      anonGrowth: memoryAt[3].rssAnon - memoryAt[0].rssAnon,
      drainMs,
      flowingMs,
      drainRate: stored / (flowingMs / 1000),
      clientCpuMs: (cpu.user + cpu.system) / 1000,
      simCpuMs: processCpuMs(sim.pid) - simCpuBefore,
    };
  } finally {
    await watcher.close();
  }
}

tableMain(async (args, log) => {
  if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc (npm run bench does)');
  const perRun = count(args, 10000, 2000);
  const backlog = count(args, 100000, 10000);
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'gridlinks-bench-outbox-'));
  const onDir = path.join(folder, 'on');
  const drainDir = path.join(folder, 'drain');
  const gatewayDrainDir = path.join(folder, 'gateway-drain');
  const profiles = profilesFile(DEVICES, [DRAIN_GATEWAY]);
  const sim = await startSimulatorProcess(['--profiles', profiles.file, '--control-stdin', '--max-sessions', '0']);
  let runtime;
  try {
    runtime = await startEmbeddedNodeRed({
      flow: [
        { id: 'tab', type: 'tab', label: 'bench outbox' },
        serverNode(sim, true),
        deviceNode('on', onDir),
        deviceNode('off', ''),
        deviceNode('drain', drainDir, { outboxRate: DRAIN_RATE }),
        gatewayNodeConfig('gw-drain', {
          outbox: true,
          outboxDir: gatewayDrainDir,
          outboxSizeMB: 1024,
          outboxAgeDays: 7,
          outboxFullPolicy: 'drop-oldest',
          outboxRate: DRAIN_RATE,
        }),
      ],
      credentials: { srv: { ca: sim.caPem } },
      countedIds: ['on', 'off', 'drain', 'gw-drain'],
    });
    for (const id of ['on', 'off']) await runtime.send(id, 2000, reading, WINDOW);

    // (a) Outbox on against off, paired rounds.
    const run = {
      pacedOn: () => runtime.send('on', perRun, reading, WINDOW, { perSecond: OFFERED_PER_SECOND }),
      pacedOff: () => runtime.send('off', perRun, reading, WINDOW, { perSecond: OFFERED_PER_SECOND }),
      unpacedOn: () => runtime.send('on', perRun, reading, WINDOW),
      unpacedOff: () => runtime.send('off', perRun, reading, WINDOW),
    };
    const order = Object.keys(run);
    const { rate, perCpuSecond, medians, paired, spread } = await pairedRounds({ order, run, rounds: ROUNDS, units: perRun, seed: 13, log });
    const rateOf = medians(rate);
    const perCpuOf = medians(perCpuSecond);

    // (b) A backlog kept while the server is down, then drained: through the device node, then the gateway node.
    const backlogs = {};
    for (const [id, dir, messageAt] of [
      ['drain', drainDir, reading],
      ['gw-drain', gatewayDrainDir, childReading],
    ]) {
      await runtime.send(id, DEVICES, messageAt, WINDOW);
      await sim.control('pause');
      backlogs[id] = await keepThenDrain(runtime, sim, id, dir, backlog, messageAt, log);
    }
    const [device, gateway] = [backlogs.drain, backlogs['gw-drain']];
    const drainRow = (label, pick, digits) => [label, fmt(pick(device), digits), fmt(pick(gateway), digits)];

    return [
      `gridlinks-device in a real Node-RED ${runtime.nodeRedVersion} runtime (embedded), ${DEVICES} access-token devices, MQTT over TLS to the simulator ` +
        `(separate process); the outbox in a folder on this machine's disk (${os.tmpdir()}). ${ROUNDS} rounds, each running the four paths once in a new ` +
        `(seeded) random order, ${perRun.toLocaleString('en-US')} readings per run; "paced" offers ${OFFERED_PER_SECOND.toLocaleString('en-US')} readings/s on a 10 ms clock, "unpaced" keeps ${WINDOW} open. ` +
        'A reading completes at its PUBACK (outbox on: appended and fsynced first, deleted at the PUBACK).',
      '',
      table(
        ['', 'outbox on, paced', 'outbox off, paced', 'outbox on, unpaced', 'outbox off, unpaced'],
        [
          ['readings/s (median)', rateOf.pacedOn, rateOf.pacedOff, rateOf.unpacedOn, rateOf.unpacedOff],
          ['readings per CPU second of this process (median)', perCpuOf.pacedOn, perCpuOf.pacedOff, perCpuOf.unpacedOn, perCpuOf.unpacedOff],
        ],
      ),
      '',
      verdict(`outbox on / off, readings/s at ${OFFERED_PER_SECOND.toLocaleString('en-US')}/s offered`, paired(rate, 'pacedOn', 'pacedOff'), 0.7, true).line,
      `- Not a target, what the disk costs at full speed: outbox on / off unpaced, readings/s ${fmt(paired(rate, 'unpacedOn', 'unpacedOff'), 2)}.`,
      `- Spread: paced, readings/s ${spread(rate, 'pacedOn', 'pacedOff')}, per CPU second ${spread(perCpuSecond, 'pacedOn', 'pacedOff')}; ` +
        `unpaced, readings/s ${spread(rate, 'unpacedOn', 'unpacedOff')}, per CPU second ${spread(perCpuSecond, 'unpacedOn', 'unpacedOff')}.`,
      '',
      `A backlog: the server paused (connections dropped and refused), ${backlog.toLocaleString('en-US')} readings sent to a gridlinks-device node ` +
        `(${DEVICES} devices) and, in a second run, to a gridlinks-gateway node (${GATEWAY_CHILDREN.toLocaleString('en-US')} children of one gateway), each with the outbox on ` +
        '(each message left output 1 with msg.queued = true once on disk); then the server resumed and the node drained at its replay rate ' +
        `(set to ${DRAIN_RATE.toLocaleString('en-US')}/s here, the highest; the default is 100/s, under the platform's usual rate limits), in order per device or child.`,
      '',
      table(
        ['', 'gridlinks-device', 'gridlinks-gateway'],
        [
          drainRow('readings kept while down, per second (appended and fsynced)', (r) => r.appendRate),
          drainRow('RSS after GC: before, at ¼, ½, ¾, all of the backlog (MB)', (r) => r.memory.map((m) => fmt(m.rss)).join(', ')),
          drainRow("of which the process's own memory (RssAnon: heaps, buffers)", (r) => r.memory.map((m) => fmt(m.rssAnon)).join(', ')),
          drainRow("of which mapped files (RssFile: the database's pages, the node binary)", (r) => r.memory.map((m) => fmt(m.rssFile)).join(', ')),
          drainRow('from resume to an empty outbox (ms; includes the reconnect backoff)', (r) => r.drainMs),
          drainRow('drained, readings/s (from the first acknowledgement to empty)', (r) => r.drainRate),
          drainRow('CPU of this process during the drain (s)', (r) => r.clientCpuMs / 1000, 1),
          drainRow('CPU of the simulator during the drain (s)', (r) => r.simCpuMs / 1000, 1),
        ],
      ),
      '',
      verdict('backlog drained through the gateway node, readings/s', gateway.drainRate, 5000, true).line,
      verdict(
        "growth of the process's own memory (RssAnon) while the backlog grows, ¼ to all of it, the larger of the two nodes",
        Math.max(device.anonGrowth, gateway.anonGrowth),
        20,
        false,
        ' MB',
      ).line,
      '- The backlog lives on disk: LMDB maps its file into the process, so the pages of the database that were written or read count in RSS ' +
        "as mapped file pages (RssFile), which are the OS page cache and reclaimable; the process's own memory (RssAnon) is what must stay flat.",
      ...[
        ['gridlinks-device', device],
        ['gridlinks-gateway', gateway],
      ].map(
        ([name, r]) =>
          `- ${name}: the drain took ${fmt(r.flowingMs / 1000, 1)} s from its first acknowledgement (${fmt(r.drainMs / 1000, 1)} s from the resume); from the resume on ` +
          `this process used ${fmt(r.clientCpuMs / r.drainMs, 2)} of a core and the simulator ${fmt(r.simCpuMs / r.drainMs, 2)} of one (2 cores in all): ${r.simCpuMs > r.clientCpuMs ? 'the server side is the busier one' : 'the node side is the busier one'}.`,
      ),
      '- With one session per device, the drain of each device starts when its session is back, and the sessions come back over the reconnect ' +
        "backoff (full jitter, so that an outage does not end in a connect storm): the device node's time from the first acknowledgement to an empty " +
        'outbox includes that spread. The gateway node has one session: its children drain together over it, batched.',
    ].join('\n');
  } finally {
    if (runtime) await runtime.unload();
    await sim.stop();
    profiles.remove();
    fs.rmSync(folder, { recursive: true, force: true });
  }
});
