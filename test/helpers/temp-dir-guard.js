'use strict';
// Loaded by .mocharc.js before any spec: the test run gets a temp directory of its own (TMPDIR, which
// os.tmpdir() reads and every simulator, Node-RED, npm and browser the tests start inherits). At the end
// it must be empty: whatever a test or one of its processes left there (a simulator's CA folder with
// its private key, say) fails the run, and the folder is removed either way.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const TMP_ROOT = path.resolve(__dirname, '..', '.tmp');
const RUN_TMPDIR = path.join(TMP_ROOT, `tmpdir-${process.pid}`);

function pidIsAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

// Those of runs that ended without their afterAll (interrupted, or mocha --dry-run).
for (const entry of fs.existsSync(TMP_ROOT) ? fs.readdirSync(TMP_ROOT) : []) {
  const match = /^tmpdir-(\d+)$/.exec(entry);
  if (match && !pidIsAlive(Number(match[1]))) fs.rmSync(path.join(TMP_ROOT, entry), { recursive: true, force: true });
}
fs.rmSync(RUN_TMPDIR, { recursive: true, force: true });
fs.mkdirSync(RUN_TMPDIR, { recursive: true });
process.env.TMPDIR = RUN_TMPDIR;

exports.mochaHooks = {
  afterAll() {
    const left = fs.readdirSync(RUN_TMPDIR);
    fs.rmSync(RUN_TMPDIR, { recursive: true, force: true });
    assert.deepEqual(left, [], `the test run left these in its temp directory (${RUN_TMPDIR})`);
  },
};
