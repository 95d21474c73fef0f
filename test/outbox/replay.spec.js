'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { OUTBOX, openOutbox, outboxDir, telemetry, assertReadingsInOrder } = require('./support');
const { replayOutbox } = require(OUTBOX);
const { startTestSimulator, DEFAULT_PROFILE } = require('../helpers/simulator');
const { mqttPublisher } = require('./mqtt-publisher');

const DEVICES = ['replay-a', 'replay-b', 'replay-c'];
const TOKENS = Object.fromEntries(DEVICES.map((name) => [name, `token-${name}`]));

/** The seqs the simulator received for a device, in arrival order. */
function receivedSeqs(sim, device) {
  return sim
    .telemetry(device)
    .filter((record) => record.topic === 'v1/devices/me/telemetry')
    .flatMap((record) => (Array.isArray(record.payload) ? record.payload : [record.payload]))
    .map((reading) => reading.values.seq);
}

/** Every seq 0..count-1 arrived, first arrivals in order; returns how many arrived more than once. */
function checkDelivered(seqs, count) {
  const first = [];
  const seen = new Set();
  for (const seq of seqs) {
    if (!seen.has(seq)) first.push(seq);
    seen.add(seq);
  }
  assert.deepEqual(
    first,
    Array.from({ length: count }, (_, i) => i),
    'every reading arrived, in order',
  );
  return seqs.length - first.length;
}

async function fill(outbox, device, count, startTs = 1_700_000_000_000) {
  for (let i = 0; i < count; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, (_, k) => outbox.append(device, telemetry({ ts: startTs + i + k, values: { seq: i + k } }))),
    );
  }
}

describe('outbox: replay to the simulator over MQTT', function () {
  this.timeout(60_000);
  let sim;
  let dir;
  let outbox;
  let publisher;

  before(async function () {
    sim = await startTestSimulator({
      devices: DEVICES.map((name) => ({ name, profile: DEFAULT_PROFILE.name, credentialsType: 'ACCESS_TOKEN', credentialsValue: TOKENS[name] })),
    });
  });
  after(async () => sim.stop());
  beforeEach(async () => {
    dir = outboxDir('replay');
    outbox = await openOutbox({ dir });
    publisher = mqttPublisher(sim, TOKENS);
  });
  afterEach(async () => {
    await publisher.close();
    await outbox.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('drains every device in order, oldest first, with the ts each reading was recorded with, and empties the outbox', async function () {
    const before = Object.fromEntries(DEVICES.map((device) => [device, receivedSeqs(sim, device).length]));
    for (const device of DEVICES) await fill(outbox, device, 150);
    await outbox.append('replay-a', { kind: 'attributes', payload: { firmware: '2.0' } });
    const report = await replayOutbox(outbox, { publish: publisher.publish, messagesPerSecond: 5_000, batchSize: 25 });
    assert.deepEqual(report.failures, []);
    assert.equal(report.sent, 451);
    assert.deepEqual(report.devices, { 'replay-a': 151, 'replay-b': 150, 'replay-c': 150 });
    for (const device of DEVICES) {
      assertReadingsInOrder(sim, device, { from: before[device], count: 150, firstTs: 1_700_000_000_000 });
    }
    assert.equal(sim.clientAttributes('replay-a').firmware, '2.0');
    assert.equal(outbox.counts().waiting, 0);
  });

  it('paces the backlog at messagesPerSecond (a lower bound on the time, never an upper one)', async function () {
    // A second's worth may go at once: 150 messages at 50/s wait for at least 100 / 50 s.
    await fill(outbox, 'replay-b', 150);
    const pacedStart = Date.now();
    await replayOutbox(outbox, { publish: publisher.publish, messagesPerSecond: 50, batchSize: 10 });
    const paced = Date.now() - pacedStart;
    assert.ok(paced >= ((150 - 50) / 50) * 1000 * 0.95, `150 messages at 50/s with a 50-message bucket took ${paced} ms`);
  });

  it('a session lost mid-drain: the failed batch stays stored, the next replay sends the rest; all arrive in order, at most one batch twice', async function () {
    const device = 'replay-c';
    const offset = receivedSeqs(sim, device).length;
    await fill(outbox, device, 200);
    let batches = 0;
    const cutting = async (deviceKey, entries) => {
      if (++batches === 4) setImmediate(() => sim.disconnectDevice(deviceKey));
      return publisher.publish(deviceKey, entries);
    };
    const first = await replayOutbox(outbox, { publish: cutting, messagesPerSecond: 5_000, batchSize: 20 });
    assert.equal(first.failures.length, 1);
    assert.equal(first.failures[0].deviceKey, device);
    assert.ok(first.sent >= 60 && first.sent < 200, `${first.sent} sent before the cut`);
    assert.equal(outbox.counts().waiting, 200 - first.sent, 'what was not acknowledged is still stored');
    publisher.forget(device);
    const second = await replayOutbox(outbox, { publish: publisher.publish, messagesPerSecond: 5_000, batchSize: 20 });
    assert.deepEqual(second.failures, []);
    assert.equal(first.sent + second.sent, 200);
    const duplicates = checkDelivered(receivedSeqs(sim, device).slice(offset), 200);
    assert.ok(duplicates <= 20, `${duplicates} readings arrived twice (one batch is 20)`);
  });

  it('SIGKILLed at random points while draining: nothing lost, in order, duplicates at most one batch per kill', async function () {
    const device = 'replay-a';
    const offset = receivedSeqs(sim, device).length;
    const TOTAL = 400;
    const BATCH = 20;
    await fill(outbox, device, TOTAL);
    await outbox.close();
    let kills = 0;
    for (let round = 0; round < 5; round++) {
      const target = offset + Math.min(TOTAL, receivedSeqs(sim, device).length - offset + 20 + Math.floor(Math.random() * 120));
      const finished = await new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(__dirname, 'drain-child.js')], {
          env: { ...process.env, OUTBOX, DRAIN: JSON.stringify({ dir, sim: { host: sim.host, mqttPort: sim.mqttPort }, tokens: TOKENS, batchSize: BATCH }) },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let output = '';
        child.stdout.on('data', (chunk) => (output += chunk));
        const watcher = setInterval(() => {
          if (receivedSeqs(sim, device).length >= target && !child.killed) child.kill('SIGKILL');
        }, 2);
        child.on('exit', (code, signal) => {
          clearInterval(watcher);
          if (signal === 'SIGKILL') return resolve(false);
          if (code !== 0) return reject(new Error(`drain child exited ${code}`));
          resolve(output.includes('"failures":0'));
        });
      });
      if (finished) break;
      kills++;
    }
    outbox = await openOutbox({ dir });
    if (outbox.counts().waiting > 0) await replayOutbox(outbox, { publish: publisher.publish, messagesPerSecond: 5_000, batchSize: BATCH });
    assert.equal(outbox.counts().waiting, 0);
    const duplicates = checkDelivered(receivedSeqs(sim, device).slice(offset), TOTAL);
    assert.ok(kills > 0, 'the drain was killed at least once');
    assert.ok(duplicates <= kills * BATCH, `${duplicates} duplicates after ${kills} kills (batch ${BATCH})`);
  });
});
