'use strict';
// Loaded by .mocharc.js before any spec: the test run gets a temp directory of its own (TMPDIR, which
// os.tmpdir() reads and every simulator, Node-RED, npm and browser the tests start inherits). At the end
// it must be empty: whatever a test or one of its processes left there (a simulator's CA folder with
// its private key, say) fails the run, and the folder is removed either way.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const RUN_TMPDIR = path.resolve(__dirname, '..', '.tmp', `tmpdir-${process.pid}`);
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
