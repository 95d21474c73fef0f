'use strict';
// `npm test -- <file>` hands <file> to mocha, which would add it to the config's spec list: .mocharc.js
// uses its default spec list only when no spec is named. Checked with mocha's --dry-run (nothing runs).
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const path = require('node:path');
const { promisify } = require('node:util');

const execFileAsync = promisify(execFile);
const PACKAGE_DIR = path.resolve(__dirname, '..', '..');
const MOCHA = path.join(PACKAGE_DIR, 'node_modules', 'mocha', 'bin', 'mocha.js');

async function dryRun(...args) {
  const { stdout } = await execFileAsync(process.execPath, [MOCHA, '--dry-run', '--reporter', 'json', ...args], {
    cwd: PACKAGE_DIR,
    maxBuffer: 64 * 1024 * 1024,
  });
  const report = JSON.parse(stdout.slice(stdout.indexOf('{')));
  return new Set(report.tests.map((test) => path.relative(PACKAGE_DIR, test.file)));
}

describe('the test command', function () {
  it('runs only the spec file named on the command line', async function () {
    assert.deepEqual([...(await dryRun('test/provisioning/errors.spec.js'))], ['test/provisioning/errors.spec.js']);
    assert.deepEqual([...(await dryRun('--timeout', '5000', 'test/nodes/job-queue.spec.js'))], ['test/nodes/job-queue.spec.js']);
  });

  it('runs every spec file when none is named', async function () {
    const files = await dryRun();
    assert.ok(files.has('test/provisioning/errors.spec.js') && files.has('test/e2e/packaging.spec.js') && files.has(path.relative(PACKAGE_DIR, __filename)));
  });
});
