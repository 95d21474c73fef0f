'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startSim, uniqueName, tempDir, KEY, SECRET } = require('../provisioning/support');

const { CLI } = require('../helpers/cli');

/**
 * Preloaded into the CLI: counts the native key-pair generation jobs Node starts (async_hooks sees each
 * as a KEYPAIRGENREQUEST), whether the command's bundle was loaded when the first one started (the
 * launcher starts the key first), and the TCP sockets it opens (TCPWRAP, under TLS too); reports them on stderr at exit.
 */
const WATCH = `
const hooks = require('node:async_hooks');
let keygens = 0;
let sockets = 0;
let commandLoadedAtFirstKey;
const commandLoaded = () => Object.keys(require.cache).some((file) => file.endsWith('gridlinks-provision-main.js'));
hooks.createHook({
  init(id, type) {
    if (type === 'KEYPAIRGENREQUEST' && keygens++ === 0) commandLoadedAtFirstKey = commandLoaded();
    if (type === 'TCPWRAP') sockets += 1;
  },
}).enable();
process.on('exit', () => process.stderr.write('WATCH ' + JSON.stringify({ keygens, sockets, commandLoadedAtFirstKey, commandLoadedAtExit: commandLoaded() }) + '\\n'));`;

function runWatched(watchFile, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', watchFile, CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stderr.split('\n').find((text) => text.startsWith('WATCH '));
      resolve({ code, stdout, stderr, watched: line ? JSON.parse(line.slice(6)) : undefined });
    });
    child.stdin.end();
  });
}

describe('gridlinks-provision CLI: arguments are checked before any key is made', function () {
  this.timeout(60_000);
  let sim;
  let dir;
  let watchFile;
  let connection;
  before(async () => {
    sim = await startSim();
    dir = tempDir('gl-cli-early-');
    watchFile = path.join(dir, 'watch.js');
    fs.writeFileSync(watchFile, WATCH);
    connection = ['--host', '127.0.0.1', '--port', String(sim.mqttsPort), '--ca', sim.caFile];
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await sim.stop();
  });

  const wrong = {
    'a missing option': ['--host', '127.0.0.1', '--provision-key', KEY],
    'a bad port': ['--host', '127.0.0.1', '--port', 'x', '--provision-key', KEY, '--provision-secret', SECRET],
    'a host the core refuses': ['--host', 'a b', '--provision-key', KEY, '--provision-secret', SECRET],
    'a device name with a control character': ['--host', '127.0.0.1', '--provision-key', KEY, '--provision-secret', SECRET, '--device-name', 'bad\u0007name'],
    'an unknown key type': ['--host', '127.0.0.1', '--provision-key', KEY, '--provision-secret', SECRET, '--key-type', 'rsa1024'],
    'an unreadable CA file': ['--host', '127.0.0.1', '--ca', '/nonexistent/ca.pem', '--provision-key', KEY, '--provision-secret', SECRET],
  };
  for (const [what, args] of Object.entries(wrong)) {
    it(`${what}: exit 2, no key generated, no connection opened`, async () => {
      const run = await runWatched(watchFile, args);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /INVALID_INPUT/);
      assert.deepEqual({ keygens: run.watched.keygens, sockets: run.watched.sockets }, { keygens: 0, sockets: 0 });
    });
  }

  it('a valid RSA invocation makes exactly one key and provisions', async () => {
    const run = await runWatched(watchFile, [
      ...connection,
      '--provision-key',
      KEY,
      '--provision-secret',
      SECRET,
      '--device-name',
      uniqueName('cli-early'),
      '--json',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).credentialsType, 'X509_CERTIFICATE');
    assert.equal(run.watched.keygens, 1);
    assert.equal(run.watched.commandLoadedAtFirstKey, false, 'the key starts before the command bundle is loaded');
    assert.equal(run.watched.commandLoadedAtExit, true);
    assert.equal(run.watched.sockets, 1, 'one provisioning connection');
  });
});
