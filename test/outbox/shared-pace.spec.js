'use strict';
// The replay rate is for a node's whole backlog (docs: "backlog messages per second, all devices
// together"): a node drains each device's backlog on its own, but all of them share one pace.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { OUTBOX, openOutbox, outboxDir, telemetry } = require('./support');
const { replayOutbox, replayPacer } = require(OUTBOX);
const { NodeOutbox, NODE_OUTBOX_DEFAULTS } = require('../../nodes/node-red/node-outbox');

const RATE = 100;
const PER_DEVICE = 150;
const KEYS = ['pace-a', 'pace-b'];

async function fill(dir) {
  const outbox = await openOutbox({ dir });
  for (const key of KEYS) await Promise.all(Array.from({ length: PER_DEVICE }, (_, i) => outbox.append(key, telemetry({ seq: i }))));
  await outbox.close();
}

/** Publishes nothing, records when each record went: a server that acknowledges at once. */
function timedPublisher() {
  const times = [];
  return { times, publish: async (_key, entries) => times.push(...entries.map(() => Date.now())) };
}

/** ms from the first record published to the last. */
const span = (times) => Math.max(...times) - Math.min(...times);
// A second's worth (RATE) may go at once; the rest of the two backlogs at RATE a second.
const SHARED_MS = ((KEYS.length * PER_DEVICE - RATE) / RATE) * 1000;
const EACH_ALONE_MS = ((PER_DEVICE - RATE) / RATE) * 1000;

describe('outbox: one replay rate for a whole backlog', function () {
  this.timeout(20_000);
  let dir;
  beforeEach(async () => {
    dir = outboxDir('pace');
    await fill(dir);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('replayPacer: replays of two devices at once, sharing one pacer, go at its rate together', async function () {
    const outbox = await openOutbox({ dir });
    const pacer = replayPacer(RATE);
    const { times, publish } = timedPublisher();
    try {
      await Promise.all(KEYS.map((key) => replayOutbox(outbox, { publish, pacer, devices: [key] })));
    } finally {
      await outbox.close();
    }
    assert.equal(times.length, KEYS.length * PER_DEVICE);
    assert.ok(span(times) >= SHARED_MS * 0.9, `${span(times)} ms for both backlogs (each alone at the rate: ${EACH_ALONE_MS} ms)`);
  });

  it("a node's outbox drains every device's backlog at its replay rate for all of them together", async function () {
    const { times, publish } = timedPublisher();
    const node = new NodeOutbox(
      { ...NODE_OUTBOX_DEFAULTS, dir: path.resolve(dir), messagesPerSecond: RATE },
      { owns: () => true, isConnected: () => true, isDown: () => false, targetByKey: async (key) => key, publish: (key, entries) => publish(key, entries) },
      { dropped: () => {}, changed: () => {}, stuck: () => {} },
    );
    try {
      await node.ready();
      const deadline = Date.now() + 15_000;
      while (times.length < KEYS.length * PER_DEVICE && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      node.stopSending();
      await node.close();
    }
    assert.equal(times.length, KEYS.length * PER_DEVICE, 'both backlogs drained at deploy');
    assert.ok(span(times) >= SHARED_MS * 0.9, `${span(times)} ms for both backlogs (each alone at the rate: ${EACH_ALONE_MS} ms)`);
  });
});
