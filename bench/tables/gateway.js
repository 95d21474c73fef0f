'use strict';
/**
 * Table 12: 1,000 children × 10 readings through one gridlinks-gateway node (one session) against the
 * same readings through gridlinks-device (1,000 sessions, their connects included), a minimal Node-RED
 * node doing the gateway's batching over bare mqtt.js in the same runtime (the Node-RED floor), and a
 * bare mqtt.js script with the same batching (no Node-RED); then peak RSS and event-loop delay with
 * 10,000 children. Needs --expose-gc (npm run bench passes it).
 */
const path = require('node:path');
const mqtt = require('mqtt');
const { tableMain } = require('../lib/table-main');
const { count } = require('../lib/args');
const { table, verdict, fmt } = require('../lib/markdown');
const { startSimulatorProcess } = require('../lib/simulator');
const { startEmbeddedNodeRed, serverNode, deviceNodeConfig, gatewayNodeConfig, windowed } = require('../lib/embedded-node-red');
const { BareGatewayBatcher, shared } = require('../lib/bare-gateway');
const { pairedRounds } = require('../lib/rounds');
const { measureLoopDelay } = require('../lib/loop-delay');
const { settledMemory, tokenOf, deviceLogin, profilesFile } = require('../lib/bench-devices');

const ROUNDS = 9;
const READINGS_PER_CHILD = 10;
const BATCH_WINDOW_MS = 5;
/** The 10,000 children's readings: each sends this many, offered at MEMORY_PER_SECOND (readings arriving over time, as from meters). */
const MEMORY_READINGS_PER_CHILD = 3;
const MEMORY_PER_SECOND = 20000;
/** The gridlinks-device node's idle timeout (s): its sessions close between rounds, so every device run pays its connects. */
const DEVICE_IDLE_S = 1;
const GATEWAYS = { node: 'bench-gw-node', bareNode: 'bench-gw-bare-node', script: 'bench-gw-script', memory: 'bench-gw-memory' };

function flowFor(sim, devices) {
  return [
    { id: 'tab', type: 'tab', label: 'bench gateway' },
    serverNode(sim, true),
    gatewayNodeConfig('gw', { batchWindow: BATCH_WINDOW_MS }),
    deviceNodeConfig('dev', { idleTimeout: DEVICE_IDLE_S, maxConnections: devices }),
    { id: 'bare', type: 'bench-bare-gateway', z: 'tab', name: '', wires: [[], []] },
  ];
}

const reading = (i) => ({ i, temperature: 21.5 });
const gatewayObjects = Object.fromEntries(Object.entries(GATEWAYS).map(([key, name]) => [key, deviceLogin(name)]));
const devicesHeld = [];
const childNames = {};
/** Child `n` of a path (each path its own children: a child belongs to one gateway). */
function childName(which, n) {
  childNames[which] ??= [];
  childNames[which][n] ??= `${which}-child-${n}`;
  return childNames[which][n];
}

function bareGatewayClient(sim, gatewayName) {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect({
      host: sim.host,
      port: sim.port,
      protocol: 'mqtts',
      ca: sim.caPem,
      username: tokenOf(gatewayName),
      reconnectPeriod: 0,
      clean: true,
      keepalive: 60,
    });
    client.once('error', reject);
    client.once('connect', () => resolve(client));
  });
}

/** `total` readings through a bare batcher, at most `window` not yet acknowledged. */
function scriptReadings(batcher, total, window, children) {
  return windowed(total, window, (i, finished) => batcher.add(childName('script', i % children), reading(i), finished));
}

/** Samples RSS every 10 ms while `fn` runs; resolves the peak (MB). */
async function peakRss(fn) {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage.rss()) / (1024 * 1024);
}

tableMain(async (args, log) => {
  if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc (npm run bench does)');
  const children = count(args, 1000, 100);
  const memoryChildren = count(args, 10000, 2000);
  const readings = children * READINGS_PER_CHILD;
  const window = children;
  const profiles = profilesFile(children, Object.values(GATEWAYS));
  const sim = await startSimulatorProcess(['--profiles', profiles.file]);
  let runtime;
  let client;
  let bareNodeClient;
  try {
    const empty = await settledMemory();
    runtime = await startEmbeddedNodeRed({
      flow: flowFor(sim, children),
      credentials: { srv: { ca: sim.caPem } },
      benchModules: { 'gridlinks-bench-bare-gateway': path.join(__dirname, '..', 'lib', 'bare-gateway-node') },
      countedIds: ['gw', 'dev', 'bare'],
    });
    const idle = await settledMemory();
    log(`Node-RED ${runtime.nodeRedVersion} idle: ${idle.rss.toFixed(0)} MB RSS`);

    // Memory and event loop first, from an idle runtime: 10,000 children, each sending readings offered at a steady rate.
    const memoryNames = Array.from({ length: memoryChildren }, (_, i) => `memory-child-${i}`);
    const memoryMessage = (i) => ({ gateway: gatewayObjects.memory, deviceName: memoryNames[i % memoryChildren], payload: reading(i) });
    const memoryRun = () =>
      measureLoopDelay(() => runtime.send('gw', memoryChildren * MEMORY_READINGS_PER_CHILD, memoryMessage, window, { perSecond: MEMORY_PER_SECOND }));
    let firstMention;
    let memoryLoop;
    const memoryPeak = await peakRss(async () => {
      // First the children are new (each announced: a QoS 1 v1/gateway/connect of its own), then known.
      firstMention = await memoryRun();
      memoryLoop = await memoryRun();
    });
    const afterMemory = await settledMemory();
    log(
      `${memoryChildren} children: peak RSS ${memoryPeak.toFixed(0)} MB (idle ${idle.rss.toFixed(0)}), loop max ${firstMention.maxMs.toFixed(1)} ms new, ${memoryLoop.maxMs.toFixed(1)} ms known`,
    );

    client = await bareGatewayClient(sim, GATEWAYS.script);
    bareNodeClient = await bareGatewayClient(sim, GATEWAYS.bareNode);
    const scriptBatcher = new BareGatewayBatcher(client, { windowMs: BATCH_WINDOW_MS });
    shared.batcher = new BareGatewayBatcher(bareNodeClient, { windowMs: BATCH_WINDOW_MS });

    const run = {
      gatewayNode: () =>
        runtime.send(
          'gw',
          readings,
          (i) => ({ gateway: gatewayObjects.node, deviceName: childName('gatewayNode', i % children), payload: reading(i) }),
          window,
        ),
      deviceNode: () =>
        runtime.send(
          'dev',
          readings,
          (i) => ({ device: (devicesHeld[i % children] ??= deviceLogin(`bench-device-${i % children}`, tokenOf(i % children))), payload: reading(i) }),
          window,
        ),
      bareNode: () => runtime.send('bare', readings, (i) => ({ deviceName: childName('bareNode', i % children), payload: reading(i) }), window),
      bareScript: () => scriptReadings(scriptBatcher, readings, window, children),
    };
    // The device node's sessions close after DEVICE_IDLE_S: wait for that outside the measurement, so their
    // closing is not counted against the next path and the next device run opens them again.
    const between = (which) => (which === 'deviceNode' ? new Promise((resolve) => setTimeout(resolve, DEVICE_IDLE_S * 1000 + 1500)) : Promise.resolve());
    // One unmeasured run each: children created on the server, JIT warmed.
    for (const which of Object.keys(run)) {
      await run[which]();
      await between(which);
    }
    const order = ['gatewayNode', 'deviceNode', 'bareNode', 'bareScript'];
    const { rate, perCpuSecond, medians, paired, spread } = await pairedRounds({ order, run, rounds: ROUNDS, units: readings, seed: 12, log, between });
    const rateOf = medians(rate);
    const perCpuOf = medians(perCpuSecond);

    // The event loop while the gateway node runs the rounds' bursts again (measured apart: the 1 ms sampling costs CPU): 1,000 messages
    // completing at one PUBACK each time, each completion handing the node the next message at once.
    const loops = [];
    for (let i = 0; i < 3; i++) loops.push(await measureLoopDelay(run.gatewayNode));
    const loopMax = Math.max(...loops.map((loop) => loop.maxMs));
    const loopP99 = Math.max(...loops.map((loop) => loop.p99Ms));

    const nodeOverDevice = paired(perCpuSecond, 'gatewayNode', 'deviceNode');
    const floorOverNode = paired(perCpuSecond, 'bareNode', 'gatewayNode');
    const pythonClient = 8000;
    return [
      `${children.toLocaleString('en-US')} children × ${READINGS_PER_CHILD} readings (${readings.toLocaleString('en-US')} QoS 1 readings per run, ${window} not yet acknowledged at once), ` +
        `MQTT over TLS to the simulator (separate process); client side in one process with a real Node-RED ${runtime.nodeRedVersion} runtime ` +
        `(embedded, no editor). Readings per CPU second count this process's CPU only; ${ROUNDS} rounds, each running every path once in a new ` +
        '(seeded) random order after one unmeasured run each; ratios are medians of the rounds’ paired ratios.',
      '',
      table(
        [
          '',
          'gridlinks-gateway (1 session)',
          `gridlinks-device (${children.toLocaleString('en-US')} sessions, connects included)`,
          'minimal node over bare mqtt.js (Node-RED floor)',
          'bare mqtt.js script (no Node-RED)',
        ],
        [
          [`readings/s (median of ${ROUNDS})`, rateOf.gatewayNode, rateOf.deviceNode, rateOf.bareNode, rateOf.bareScript],
          ['readings per CPU second (median)', perCpuOf.gatewayNode, perCpuOf.deviceNode, perCpuOf.bareNode, perCpuOf.bareScript],
        ],
      ),
      '',
      `Every path sends the same JSON readings. The gateway node, the minimal node (bench/lib/bare-gateway-node) and the script ` +
        `(bench/lib/bare-gateway.js) announce each child once per session (v1/gateway/connect) and batch what arrives within ${BATCH_WINDOW_MS} ms into one ` +
        'v1/gateway/telemetry publish under 64 KiB; a message completes at its publish’s PUBACK (counted where the node calls done()). The device ' +
        `node opens one session per device (at most 32 at once) and closes them after ${DEVICE_IDLE_S} s idle between rounds, so each of its runs pays ` +
        `${children.toLocaleString('en-US')} TLS connects and logins, as a flow that speaks for each device on its own does after any restart.`,
      '',
      verdict('gridlinks-gateway / gridlinks-device, readings per CPU second', nodeOverDevice, 5, true, '×').line,
      verdict('minimal node / gridlinks-gateway, readings per CPU second (the node within 1.2× of the Node-RED floor)', floorOverNode, 1.2, false, '×').line,
      verdict(
        `gridlinks-gateway readings per CPU second / ThingsBoard's Python gateway client (about ${pythonClient.toLocaleString('en-US')}, the issue's figure for this machine; not measured by this table: the client is on PyPI, not reachable here)`,
        perCpuOf.gatewayNode / pythonClient,
        3,
        true,
        '×',
      ).line,
      `- Spread per CPU second: gateway / device ${spread(perCpuSecond, 'gatewayNode', 'deviceNode')}; minimal node / gateway ${spread(perCpuSecond, 'bareNode', 'gatewayNode')}; ` +
        `script / minimal node ${spread(perCpuSecond, 'bareScript', 'bareNode')} (what Node-RED itself costs); script / gateway ${spread(perCpuSecond, 'bareScript', 'gatewayNode')}.`,
      '',
      table(
        ['', 'measured', 'target'],
        [
          [`Node-RED idle RSS (MB; the package loaded, ${fmt(idle.rss - empty.rss)} MB over the process before Node-RED)`, idle.rss, '–'],
          [
            `peak RSS while ${memoryChildren.toLocaleString('en-US')} children send ${MEMORY_READINGS_PER_CHILD} readings each, ${MEMORY_PER_SECOND.toLocaleString('en-US')}/s offered, above idle (MB)`,
            memoryPeak - idle.rss,
            '≤ 100',
          ],
          [`RSS after it, after GC, above idle (MB; the children stay known for childIdleTimeout)`, afterMemory.rss - idle.rss, '–'],
          [
            `event-loop delay max / p99 while the ${memoryChildren.toLocaleString('en-US')} children send, all new (each announced first) (ms)`,
            `${fmt(firstMention.maxMs)} / ${fmt(firstMention.p99Ms)}`,
            '–',
          ],
          [`event-loop delay max / p99 while the same children send again (ms)`, `${fmt(memoryLoop.maxMs)} / ${fmt(memoryLoop.p99Ms)}`, '≤ 20 max'],
          [`event-loop delay max / p99 over 3 runs of the rounds' bursts, ${window} completing at once (ms)`, `${fmt(loopMax)} / ${fmt(loopP99)}`, '–'],
        ],
      ),
      '',
      verdict('peak RSS above idle Node-RED with 10,000 children', memoryPeak - idle.rss, 100, false, ' MB').line,
      verdict(`event-loop delay max while ${memoryChildren.toLocaleString('en-US')} known children send`, memoryLoop.maxMs, 20, false, ' ms').line,
      `- Event-loop delay is sampled every 1 ms (so ≈ 1–2 ms means nothing blocked). The longest GC pause while the children were new: ${fmt(firstMention.longestGcMs)} ms ` +
        `(${firstMention.longestGcMajor ? 'a major, mark-compact one' : 'a minor one, a scavenge'}): ${memoryChildren.toLocaleString('en-US')} children first named within ` +
        `${fmt(memoryChildren / MEMORY_PER_SECOND, 1)} s each need a v1/gateway/connect of their own (QoS 1, kept until its PUBACK) and a place in the node's tables, ` +
        `objects that outlive V8's young generation and make its scavenges long; once they are known: ${fmt(memoryLoop.longestGcMs)} ms. ` +
        `In the bursts: ${fmt(Math.max(...loops.map((l) => l.longestGcMs)))} ms. ` +
        `In the bursts one PUBACK completes ${window} messages and the bench hands the node the next ${window} in the same turn: the delay there is ` +
        'what that many messages at once cost, Node-RED included, and grows with the window, not with the number of children.',
    ].join('\n');
  } finally {
    for (const bare of [client, bareNodeClient]) if (bare) await new Promise((resolve) => bare.end(true, {}, resolve));
    if (runtime) await runtime.unload();
    await sim.stop();
    profiles.remove();
  }
});
