'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const OUTBOX = path.resolve(__dirname, '..', '..', 'nodes', 'outbox');
const { openOutbox } = require(OUTBOX);

/** A fresh folder under the run's TMPDIR, removed by `cleanup()`. */
function outboxDir(tag) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `outbox-${tag}-`));
}

function telemetry(payload) {
  return { kind: 'telemetry', payload };
}

/** The telemetry readings the simulator received for a device (from the `from`-th message on) are seq 0..count-1 with ts firstTs + seq, in order. */
function assertReadingsInOrder(sim, device, { from = 0, count, firstTs }) {
  const readings = sim
    .telemetry(device)
    .filter((record) => record.topic === 'v1/devices/me/telemetry')
    .slice(from)
    .map((record) => record.payload);
  assert.deepEqual(
    readings.map((reading) => reading.values.seq),
    Array.from({ length: count }, (_, i) => i),
    'every reading, in order',
  );
  assert.deepEqual(
    readings.map((reading) => reading.ts),
    Array.from({ length: count }, (_, i) => firstTs + i),
    'ts as recorded',
  );
}

module.exports = { OUTBOX, openOutbox, outboxDir, telemetry, assertReadingsInOrder };
