'use strict';
// gridlinks-device's outbox across a killed Node-RED (issue 23): a real Node-RED process feeds readings
// to the node while the server is down, is SIGKILLed while it does, and a new Node-RED on the same user
// folder drains the backlog at deploy once the server is back. Every reading the node reported as kept
// (output 1, msg.queued) arrives, in order, duplicates at most one replay batch.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startTestSimulator, DEFAULT_PROFILE } = require('../helpers/simulator');
const { tempDir } = require('../helpers/faults');
const { startNodeRed } = require('../../nodes/demo/node-red-process');
const { provisionDevice } = require('../../nodes/provisioning');
const { REPLAY_DEFAULTS } = require('../../nodes/outbox');

const PACKAGE_DIR = path.resolve(__dirname, '..', '..');
const DEVICE = 'outbox-restart-meter';

/** The server node, the device node (outbox on with its store folder) and, with `feeding`, readings every 10 ms recorded once kept. */
function flows(sim, storeDir, keptFile, feeding) {
  const feed = [
    { id: 'tick', type: 'inject', z: 'tab', repeat: '0.01', once: true, onceDelay: 0.1, topic: '', payload: '', payloadType: 'date', wires: [['counter']] },
    {
      id: 'counter',
      type: 'function',
      z: 'tab',
      func: `const i = context.get('i') || 0; context.set('i', i + 1); return { deviceName: ${JSON.stringify(DEVICE)}, payload: { i } };`,
      outputs: 1,
      wires: [['dev']],
    },
    {
      id: 'as-line',
      type: 'function',
      z: 'tab',
      func: 'msg.payload = JSON.stringify({ i: msg.payload.i, queued: msg.queued }); return msg;',
      outputs: 1,
      wires: [['to-file']],
    },
    {
      id: 'to-file',
      type: 'file',
      z: 'tab',
      filename: keptFile,
      filenameType: 'str',
      appendNewline: true,
      createDir: true,
      overwriteFile: 'false',
      encoding: 'none',
      wires: [[]],
    },
  ];
  return [
    { id: 'tab', type: 'tab', label: 'outbox restart' },
    { id: 'srv', type: 'gridlinks-server', host: '127.0.0.1', port: sim.mqttPort, tls: false, protocolVersion: 4, connectTimeout: 5, answerTimeout: 5 },
    { id: 'dev', type: 'gridlinks-device', z: 'tab', server: 'srv', storeDir, receive: false, wires: [feeding ? ['as-line'] : [], []] },
    ...(feeding ? feed : []),
  ];
}

function keptReadings(file) {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line));
}

async function waitUntil(predicate, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('gridlinks-device outbox: Node-RED SIGKILLed during an outage, restarted', function () {
  this.timeout(90_000);
  let sim;
  let dir;
  const running = [];

  before(async function () {
    sim = await startTestSimulator({ mqttsPort: null });
    dir = tempDir('gl-outbox-restart-');
  });
  after(async function () {
    await Promise.all(running.map((nodeRed) => nodeRed.stop().catch(() => {})));
    await sim.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('every reading reported as kept arrives after the restart, in order, duplicates at most one batch', async function () {
    const storeDir = path.join(dir, 'store');
    const keptFile = path.join(dir, 'kept.jsonl');
    const userDir = path.join(dir, 'user');
    await provisionDevice({
      server: { host: '127.0.0.1', port: sim.mqttPort, tls: false },
      provisionDeviceKey: DEFAULT_PROFILE.provisionDeviceKey,
      provisionDeviceSecret: DEFAULT_PROFILE.provisionDeviceSecret,
      deviceName: DEVICE,
      credentialsType: 'ACCESS_TOKEN',
      storeDir,
    });
    await sim.pause();
    const first = await startNodeRed({ userDir, uiPort: 0, linkPackageDir: PACKAGE_DIR, flows: flows(sim, storeDir, keptFile, true) });
    running.push(first);
    await waitUntil(() => keptReadings(keptFile).length >= 150, '150 readings kept').catch((error) => {
      throw new Error(`${error.message}: ${keptReadings(keptFile).length} kept; Node-RED said:\n${first.lines.slice(-30).join('\n')}`);
    });
    first.child.kill('SIGKILL');
    await new Promise((resolve) => (first.child.exitCode !== null || first.child.signalCode !== null ? resolve() : first.child.once('exit', resolve)));
    const kept = keptReadings(keptFile);
    assert.ok(
      kept.every((reading) => reading.queued === true),
      'the server was down: every reading was kept on disk',
    );
    assert.equal(sim.telemetry(DEVICE).length, 0, 'nothing reached the server before the restart');

    const second = await startNodeRed({ userDir, uiPort: 0, linkPackageDir: PACKAGE_DIR, flows: flows(sim, storeDir, keptFile, false) });
    running.push(second);
    await sim.resume();
    const arrivals = () =>
      sim
        .telemetry(DEVICE)
        .flatMap((record) => [record.payload].flat())
        .map((reading) => reading.values?.i ?? reading.i);
    const wanted = kept.map((reading) => reading.i);
    await waitUntil(() => wanted.every((i) => arrivals().includes(i)), `the ${wanted.length} kept readings at the server`);
    const received = arrivals();
    const firsts = received.filter((i, at) => received.indexOf(i) === at);
    assert.deepEqual(firsts.slice(0, wanted.length), wanted, 'in the order they were kept, none missing');
    assert.ok(firsts.length - wanted.length <= REPLAY_DEFAULTS.batchSize, 'beyond what was reported, at most what was on disk at the kill');
    assert.ok(received.length - firsts.length <= REPLAY_DEFAULTS.batchSize, `duplicates: ${received.length - firsts.length}`);
    await second.stop();
  });
});
