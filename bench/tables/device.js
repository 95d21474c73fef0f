'use strict';
/**
 * Table 9: many devices through one gridlinks-device node in a real Node-RED runtime: time to open 500
 * device sessions (access tokens, MQTT over TLS) and memory per session; then telemetry messages per
 * second through the node against bare mqtt.js clients (one per device) doing the same, same simulator.
 * Needs --expose-gc (npm run bench passes it).
 */
const tls = require('node:tls');
const mqtt = require('mqtt');
const { tableMain } = require('../lib/table-main');
const { count } = require('../lib/args');
const { table, verdict, fmt } = require('../lib/markdown');
const { startSimulatorProcess } = require('../lib/simulator');
const { loadDeviceFlow } = require('../lib/device-flow');
const { windowed } = require('../lib/embedded-node-red');
const { clientsByDeviceName } = require('../lib/bare-clients');
const { timeAsync } = require('../lib/stats');
const { pairedRounds } = require('../lib/rounds');
const { settledMemory, tokenOf, deviceLogin, profilesFile } = require('../lib/bench-devices');
const { ConnectionPool, POOL_DEFAULTS, PER_MESSAGE_SAVINGS, buildDeviceAction, identityFromMessage } = require('../../nodes/device');
const { validateServer } = require('../../nodes/provisioning');

// Many short rounds, odd for a median; each round runs every path once, back to back (in a new random order), so drifts
// in machine load hit them alike. On this 2-core VM one path run twice in a round differs by up to ±35 %; the A/A
// control below puts the noise on the median of 25 paired ratios at about ±4 % (5 rounds of 20,000 left it 2–10 % off).
const ROUNDS = 25;
const CONNECTING_AT_ONCE = 32;
const WARMUP_DEVICES = 32;

/** The devices as a flow holds them (e.g. in flow context after provisioning): made once, like the bare clients. */
const deviceObjects = [];

function deviceObject(n) {
  deviceObjects[n] ??= deviceLogin(`bench-device-${n}`, tokenOf(n));
  return deviceObjects[n];
}

/** A new message per reading, carrying one of the held devices. */
function deviceMessage(i, devices) {
  return { device: deviceObject(i % devices), payload: { i, temperature: 21.5 } };
}

/**
 * The three mqtt.js options the node's sessions use: a TLS context shared by every session trusting the same CA
 * (device-identity.ts), and the node's own PER_MESSAGE_SAVINGS (no debug logger while DEBUG is unset, no ping
 * re-arm per packet).
 */
function nodeClientOptions(sim, overTls) {
  return overTls ? { secureContext: tls.createSecureContext({ ca: sim.caPem }), ...PER_MESSAGE_SAVINGS } : { ...PER_MESSAGE_SAVINGS };
}

/** Where the bare clients connect: the simulator's TLS port, or its plain one (`--plain`). */
function bareEndpoint(sim, overTls) {
  return overTls ? { port: sim.port, protocol: 'mqtts', ca: sim.caPem } : { port: sim.plainPort, protocol: 'mqtt' };
}

/** Bare mqtt.js: one client per device, connected `CONNECTING_AT_ONCE` at a time, subscribed as the node does. */
async function connectBareClients(sim, devices, overTls, extraOptions = {}) {
  const clients = new Array(devices);
  let next = 0;
  async function worker() {
    while (next < devices) {
      const i = next++;
      clients[i] = await new Promise((resolve, reject) => {
        const client = mqtt.connect({
          host: sim.host,
          ...bareEndpoint(sim, overTls),
          username: tokenOf(i),
          reconnectPeriod: 0,
          clean: true,
          keepalive: 60,
          ...extraOptions,
        });
        client.once('error', reject);
        client.once('connect', () =>
          client.subscribe(['v1/devices/me/rpc/request/+', 'v1/devices/me/attributes', 'v1/devices/me/attributes/response/+'], { qos: 1 }, (error) =>
            error ? reject(error) : resolve(client),
          ),
        );
      });
    }
  }
  await Promise.all(Array.from({ length: CONNECTING_AT_ONCE }, worker));
  return clients;
}

/** `total` QoS 1 telemetry publishes spread over the clients, at most `window` unacknowledged. */
function bareTelemetry(clients, total, window) {
  return windowed(total, window, (i, finished) =>
    clients[i % clients.length].publish('v1/devices/me/telemetry', JSON.stringify({ i, temperature: 21.5 }), { qos: 1 }, finished),
  );
}

/** The node's session pool called directly (no Node-RED): what the node costs without the runtime around it. */
function poolTelemetry(pool, total, window, devices) {
  return windowed(total, window, (i, finished) => {
    const message = deviceMessage(i, devices);
    const identity = identityFromMessage(message.device);
    pool.send(identity, buildDeviceAction(undefined, message.payload, undefined, identity.deviceName)).then(() => finished(), finished);
  });
}

tableMain(async (args, log) => {
  if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc (npm run bench does)');
  const overTls = !args.plain;
  const devices = count(args, 500, 100);
  const messages = count(args, 4000, 1000);
  const window = devices;
  const profiles = profilesFile(devices + WARMUP_DEVICES);
  // The node's sessions and the bare clients log in as the same devices: the platform's one session per device is lifted.
  const sim = await startSimulatorProcess(['--profiles', profiles.file, '--max-sessions', '0']);
  let flow;
  let pool;
  let clients = [];
  let tunedClients = [];
  try {
    const empty = await settledMemory();
    flow = await loadDeviceFlow(sim, { tls: overTls, maxConnections: devices + WARMUP_DEVICES });
    // First-time costs (JIT, Node-RED's lazy loading) on a few devices that are not measured.
    await flow.send(WARMUP_DEVICES, (i) => deviceMessage(devices + i, devices + WARMUP_DEVICES));
    const beforeNode = await settledMemory();
    const connectNode = await timeAsync(() => flow.send(devices, (i) => deviceMessage(i, devices)));
    const afterNode = await settledMemory();
    log(`${devices} sessions through the node in ${connectNode.ms.toFixed(0)} ms`);

    const connectBare = await timeAsync(async () => {
      clients = await connectBareClients(sim, devices, overTls);
    });
    const afterBare = await settledMemory();
    log(`${devices} bare mqtt.js clients in ${connectBare.ms.toFixed(0)} ms`);
    const connectTuned = await timeAsync(async () => {
      tunedClients = await connectBareClients(sim, devices, overTls, nodeClientOptions(sim, overTls));
    });
    const afterTuned = await settledMemory();
    log(`${devices} bare mqtt.js clients with the node's options in ${connectTuned.ms.toFixed(0)} ms`);
    clients.forEach((client, i) => clientsByDeviceName.set(deviceObject(i).deviceName, client));

    pool = new ConnectionPool(
      {
        ...POOL_DEFAULTS,
        server: validateServer(overTls ? { host: sim.host, port: sim.port, tls: true, ca: sim.caPem } : { host: sim.host, port: sim.plainPort, tls: false }),
        receive: true,
        idleTimeoutMs: 0,
      },
      { incoming: () => {}, changed: () => {} },
    );
    await poolTelemetry(pool, devices, window, devices);
    await flow.send(2000, (i) => deviceMessage(i, devices), window);
    await bareTelemetry(clients, 2000, window);
    await bareTelemetry(tunedClients, 2000, window);
    await poolTelemetry(pool, 2000, window, devices);
    await flow.send(2000, (i) => deviceMessage(i, devices), window, 'bare');
    const run = {
      node: () => flow.send(messages, (i) => deviceMessage(i, devices), window),
      nodeRedBare: () => flow.send(messages, (i) => deviceMessage(i, devices), window, 'bare'),
      bare: () => bareTelemetry(clients, messages, window),
      bareTuned: () => bareTelemetry(tunedClients, messages, window),
      // The same bare clients once more in each round: the A/A control, what this machine's noise alone does to a paired ratio.
      bareAgain: () => bareTelemetry(clients, messages, window),
      pool: () => poolTelemetry(pool, messages, window, devices),
    };
    const order = ['node', 'bare', 'bareTuned', 'pool', 'nodeRedBare', 'bareAgain'];
    const { rate, perCpuSecond, medians, paired, spread } = await pairedRounds({ order, run, rounds: ROUNDS, units: messages, seed: 9, log });
    const rateOf = medians(rate);
    const perCpuOf = medians(perCpuSecond);
    const perSession = (after, before) => ({ rss: ((after.rss - before.rss) * 1024) / devices, heap: ((after.heapUsed - before.heapUsed) * 1024) / devices });
    const perNode = perSession(afterNode, beforeNode);
    const perBare = perSession(afterBare, afterNode);
    const perTuned = perSession(afterTuned, afterBare);
    return [
      `${devices} access-token devices, MQTT over ${overTls ? 'TLS' : 'plain TCP (`--plain`)'} to the simulator (separate process), client side in one process: a real ` +
        `Node-RED ${flow.nodeRedVersion} runtime (embedded, no editor) with one gridlinks-device node, and bare mqtt.js clients ` +
        `(one per device, subscribed to the same topics; once with mqtt.js' defaults, once with the three options the node's ` +
        `sessions use). Node-RED itself took ${fmt(beforeNode.rss - empty.rss)} MB RSS before any session.`,
      '',
      table(
        [
          '',
          'through the node',
          'bare mqtt.js (defaults)',
          "bare mqtt.js with the node's options",
          "the node's pool without Node-RED",
          'a bare node: Node-RED over the bare clients (defaults)',
        ],
        [
          [`time to open ${devices} sessions (ms)`, connectNode.ms, connectBare.ms, connectTuned.ms, '–', '–'],
          ['RSS per session (KB, after GC)', perNode.rss, perBare.rss, perTuned.rss, '–', '–'],
          ['JS heap per session (KB, after GC)', perNode.heap, perBare.heap, perTuned.heap, '–', '–'],
          [
            `telemetry msgs/s (QoS 1, ${window} in flight, median of ${ROUNDS} × ${messages})`,
            rateOf.node,
            rateOf.bare,
            rateOf.bareTuned,
            rateOf.pool,
            rateOf.nodeRedBare,
          ],
          ['telemetry msgs per CPU second of this process (median)', perCpuOf.node, perCpuOf.bare, perCpuOf.bareTuned, perCpuOf.pool, perCpuOf.nodeRedBare],
        ],
      ),
      '',
      `Opening: the node opens at most ${CONNECTING_AT_ONCE} sessions at once (the bare clients likewise, ${CONNECTING_AT_ONCE} at a time). A message leaves the node ` +
        'once its PUBACK came (counted by an onComplete hook, so no downstream node adds its cost); the bare clients count PUBACKs. ' +
        'Both sides send the same JSON bytes over the same transport, QoS 1, same window; each message to the node is a new msg carrying one ' +
        `of the ${devices} device objects the flow holds (as the bare side holds its ${devices} clients). The node does per message what the bare ` +
        "side does not: Node-RED's receive/send/done, reading and checking msg.device, finding the device's session, checking the " +
        "payload, and tracking the message for its acknowledgement timeout. The node's sessions use three mqtt.js options that " +
        "mqtt.js' defaults do not: one TLS context shared by every session that trusts the same CA (token and basic devices), no " +
        'debug logger unless DEBUG is set (mqtt.js calls it a dozen times per message), and no keepalive re-arm on every packet; the ' +
        'third column gives bare mqtt.js the same options, to show what they are worth. The last column is the least a node can do ' +
        'for the same job: a bench-only node (bench/lib/bare-publish-node) in the same runtime that publishes each message through ' +
        "the default bare clients and sends it on at its PUBACK, i.e. Node-RED's own receive/send/done per message over bare mqtt.js. " +
        "Messages per CPU second count only this process's CPU time (user + system), which other load on the machine changes less " +
        `than msgs/s (wall-clock); rounds are short (${messages} messages) and many, each runs every path once in a new (seeded) random order, and each ratio below is the median of the rounds' ` +
        'paired ratios, with the middle half and all of them.',
      '',
      verdict("telemetry through the node / bare mqtt.js, msgs/s (median of the rounds' ratios)", paired(rate, 'node', 'bare'), 0.8, true).line,
      verdict("telemetry through the node / bare mqtt.js, msgs per CPU second (median of the rounds' ratios)", paired(perCpuSecond, 'node', 'bare'), 0.8, true)
        .line,
      `- Per CPU second: node / bare mqtt.js ${spread(perCpuSecond, 'node', 'bare')}; ` +
        `node / bare mqtt.js with the node's options ${spread(perCpuSecond, 'node', 'bareTuned')}; ` +
        `those options alone (bare with them / bare) ${spread(perCpuSecond, 'bareTuned', 'bare')}; ` +
        `the bare node / bare mqtt.js ${spread(perCpuSecond, 'nodeRedBare', 'bare')}: Node-RED's own per-message work; ` +
        `the pool alone / bare mqtt.js with the node's options ${spread(perCpuSecond, 'pool', 'bareTuned')}: the node's session code without Node-RED; ` +
        `control: the same bare clients run twice in each round ${spread(perCpuSecond, 'bareAgain', 'bare')} (only the machine's noise: 1.00 is exact). ` +
        `Ratio of the medians in the table: node / bare ${fmt(perCpuOf.node / perCpuOf.bare, 2)} per CPU second, ${fmt(rateOf.node / rateOf.bare, 2)} msgs/s.`,
    ].join('\n');
  } finally {
    await Promise.all([...clients, ...tunedClients].map((client) => new Promise((resolve) => client.end(true, {}, resolve))));
    if (pool) await pool.close();
    if (flow) await flow.unload();
    await sim.stop();
    profiles.remove();
  }
});
