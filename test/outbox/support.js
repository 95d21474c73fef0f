'use strict';
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

module.exports = { OUTBOX, openOutbox, outboxDir, telemetry };
