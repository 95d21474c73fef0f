'use strict';
// What the command line refuses before anything is sent: files that are not PEM files (a FIFO, /dev/zero,
// a huge file) named by any file flag, and a device name given but blank or missing.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { runCli } = require('../helpers/cli');

const CONNECTION = ['--host', '127.0.0.1', '--port', '1', '--provision-key', 'k', '--provision-secret', 's'];
/** Killed after 10 s: a run that hangs fails the test instead of the suite. */
const run = (args) => runCli(args, { onStart: (child) => setTimeout(() => child.kill('SIGKILL'), 10_000).unref() });

describe('gridlinks-provision: input files and device names refused before anything is sent', function () {
  this.timeout(60_000);
  let dir;
  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-cli-files-'));
  });
  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('--ca, --cert and --private-key naming a FIFO, /dev/zero or a file over 1 MiB: exit 2 at once, naming the flag and the file (a FIFO used to hang)', async function () {
    const fifo = path.join(dir, 'ca.fifo');
    execFileSync('mkfifo', [fifo]);
    const big = path.join(dir, 'big.pem');
    fs.writeFileSync(big, Buffer.alloc(2 * 1024 * 1024, 0x41));
    for (const flag of ['--ca', '--cert', '--private-key']) {
      for (const [file, why] of [
        [fifo, /is not a regular file/],
        ['/dev/zero', /is not a regular file/],
        [big, /is larger than 1 MiB/],
      ]) {
        const result = await run([...CONNECTION, '--device-name', 'x', flag, file]);
        assert.equal(result.code, 2, `${flag} ${file}: ${result.signal ?? ''} ${result.stderr}`);
        assert.ok(result.stderr.includes(`${flag}: ${file} `), result.stderr);
        assert.match(result.stderr, why);
      }
    }
  });

  it('--device-name "" (given but blank) and no --device-name without --allow-unnamed: exit 2 naming the device name, nothing sent', async function () {
    const blank = await run([...CONNECTION, '--device-name', '']);
    assert.equal(blank.code, 2, blank.stderr);
    assert.match(blank.stderr, /INVALID_INPUT/);
    assert.match(blank.stderr, /device ?name/i);
    const missing = await run([...CONNECTION]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /--device-name is required/);
    assert.match(missing.stderr, /--allow-unnamed/);
  });
});
