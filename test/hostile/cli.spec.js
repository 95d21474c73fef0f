'use strict';
// Items 4 and 6 of #10 for the CLI: nothing the server chose is printed raw; --out keeps secrets in files
// (also with --json); an empty --out or a stdout that leads nowhere stops before anything is sent; a stdout
// that breaks after provisioning loses nothing; TLS off on a TLS port is a setting problem (exit 4).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startHostileServer, TERMINAL_ATTACK } = require('../helpers/hostile-server');
const { startSim, uniqueName, KEY, SECRET } = require('../provisioning/support');
const { hostileTempDir: tempDir, removeTempDirs } = require('./support');

const { CLI } = require('../helpers/cli');
// C0 (ESC, BEL, CR), DEL, C1 (CSI) and bidi controls: none may reach a terminal raw.
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function runCli(args, { stdout = 'pipe', closeStdout = false, shell } = {}) {
  return new Promise((resolve, reject) => {
    const child = shell
      ? spawn('/bin/sh', ['-c', `exec "$0" "$@" ${shell}`, process.execPath, CLI, ...args], { stdio: ['pipe', stdout, 'pipe'] })
      : spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', stdout, 'pipe'] });
    let out = '';
    let err = '';
    if (child.stdout && closeStdout) child.stdout.destroy();
    else child.stdout?.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: out, stderr: err }));
    child.stdin.end();
  });
}

function hostileArgs(server, ...extra) {
  return [
    '--allow-unnamed',
    '--host',
    '127.0.0.1',
    '--port',
    String(server.port),
    '--no-tls',
    '--provision-key',
    'k',
    '--provision-secret',
    's',
    '--type',
    'access-token',
    ...extra,
  ];
}

describe('hostile server and input: the CLI', function () {
  this.timeout(30_000);
  let server;
  after(removeTempDirs);
  afterEach(async () => {
    if (server) await server.stop();
    server = undefined;
  });

  it('errorMsg with escape sequences: escaped on stderr; --json keeps the exact text, JSON-escaped', async () => {
    server = await startHostileServer('escape-error');
    const human = await runCli(hostileArgs(server));
    assert.equal(human.code, 3);
    assert.doesNotMatch(human.stderr, RAW_CONTROL);
    assert.ok(human.stderr.includes('\\x1b[2J\\x1b]0;pwned\\x07\\x0d\\x0aProvisioned'), human.stderr);
    const json = await runCli(hostileArgs(server, '--json'));
    assert.doesNotMatch(json.stdout, RAW_CONTROL);
    assert.equal(JSON.parse(json.stdout).error.details.serverMessage, TERMINAL_ATTACK);
  });

  it('an unknown status full of escapes: escaped, exit 6', async () => {
    server = await startHostileServer('escape-status');
    const { code, stderr } = await runCli(hostileArgs(server));
    assert.equal(code, 6);
    assert.doesNotMatch(stderr, RAW_CONTROL);
  });

  it('a token with C1 and bidi controls: printed escaped; --json gives the exact token', async () => {
    server = await startHostileServer('escape-token');
    const human = await runCli(hostileArgs(server));
    assert.equal(human.code, 0, human.stderr);
    assert.doesNotMatch(human.stdout, RAW_CONTROL);
    assert.ok(human.stdout.includes('tok\\x9b2J\\u202eevil'), human.stdout);
    const json = await runCli(hostileArgs(server, '--json'));
    assert.doesNotMatch(json.stdout, RAW_CONTROL);
    assert.equal(JSON.parse(json.stdout).credentials.accessToken, 'tok\u009b2J\u202eevil');
  });

  it('client id and a 600-character user name with controls: escaped, the long one shortened with its length', async () => {
    server = await startHostileServer('escape-names');
    const { code, stdout, stderr } = await runCli(
      hostileArgs(server)
        .map((arg) => (arg === 'access-token' ? 'mqtt-basic' : arg))
        .concat(['--client-id', 'c']),
    );
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stdout, RAW_CONTROL);
    assert.match(stdout, /user name: +u\\u202en+… \(602 characters in all\)/);
  });

  for (const mode of ['huge-announced', 'huge-answer', 'huge-error', 'huge-token', 'deep-nesting', 'non-utf8']) {
    it(`${mode}: exit 6 (BAD_RESPONSE), a short message`, async () => {
      server = await startHostileServer(mode, { size: 4 << 20 });
      const { code, stdout, stderr } = await runCli(hostileArgs(server));
      assert.equal(code, 6, stderr);
      assert.match(stderr, /^error \[BAD_RESPONSE\]/m);
      assert.ok(stdout.length + stderr.length < 2000);
    });
  }

  it('--out "": INVALID_INPUT (exit 2) before anything is sent', async () => {
    server = await startHostileServer('honest-token');
    const { code, stderr } = await runCli(hostileArgs(server, '--out', ''));
    assert.equal(code, 2);
    assert.match(stderr, /--out must name a folder/);
    assert.equal(server.sessions.length, 0);
  });

  for (const [title, options] of [
    ['/dev/null', { stdout: 'ignore' }],
    ['closed', { stdout: 'ignore', shell: '>&-' }],
  ]) {
    it(`stdout ${title} without --out: exit 2 before anything is sent`, async () => {
      server = await startHostileServer('honest-token');
      const { code, stderr } = await runCli(hostileArgs(server), options);
      assert.equal(code, 2, stderr);
      assert.match(stderr, /stdout is closed or \/dev\/null/);
      assert.equal(server.sessions.length, 0);
    });
  }

  it('stdout broken after provisioning (EPIPE), no --out: no crash, the credentials go to stderr, exit 7', async () => {
    server = await startHostileServer('honest-token');
    const { code, stderr } = await runCli(hostileArgs(server), { closeStdout: true });
    assert.equal(code, 7, stderr);
    assert.match(stderr, /stdout cannot be written \(EPIPE\)/);
    assert.match(stderr, /access token: +honest-token/);
  });

  it('stdout broken (EPIPE) with --out: the credentials are on disk, exit 0', async () => {
    server = await startHostileServer('honest-token');
    const out = tempDir();
    const { code, stderr } = await runCli(hostileArgs(server, '--out', out, '--device-name', uniqueName('epipe')), { closeStdout: true });
    assert.equal(code, 0, stderr);
    assert.match(stderr, /the credentials are saved in/);
    assert.doesNotMatch(stderr, /honest-token/);
  });

  it('--json --out with an access token: the token is in the file only', async () => {
    server = await startHostileServer('honest-token');
    const out = tempDir();
    const { code, stdout, stderr } = await runCli(hostileArgs(server, '--out', out, '--device-name', uniqueName('json-out'), '--json'));
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stdout, /honest-token/);
    const result = JSON.parse(stdout);
    assert.equal(result.connectOptions, undefined);
    assert.ok(fs.readFileSync(path.join(result.stored.dir, 'credentials.json'), 'utf8').includes('honest-token'));
  });
});

describe('the CLI against the simulator: --json --out, and TLS off on a TLS port', function () {
  this.timeout(30_000);
  let sim;
  before(async () => {
    sim = await startSim();
  });
  after(async () => {
    removeTempDirs();
    await sim.stop();
  });

  it('--json --out (X.509): no private key on stdout, only where it was saved', async () => {
    const out = tempDir();
    const args = ['--host', '127.0.0.1', '--port', String(sim.mqttsPort), '--ca', sim.caFile, '--provision-key', KEY, '--provision-secret', SECRET];
    const { code, stdout, stderr } = await runCli([...args, '--device-name', uniqueName('json-out-x509'), '--key-type', 'p256', '--out', out, '--json']);
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stdout, /PRIVATE KEY/);
    const result = JSON.parse(stdout);
    assert.equal(result.credentials.privateKey, undefined);
    assert.ok(result.credentials.credentialsId);
    assert.ok(result.stored.files.some((file) => file.endsWith('private-key.pem')));
  });

  it('--no-tls against the TLS port: TLS (exit 4) with the hint to turn TLS on; nothing sent', async () => {
    const args = [
      '--allow-unnamed',
      '--host',
      '127.0.0.1',
      '--port',
      String(sim.mqttsPort),
      '--no-tls',
      '--provision-key',
      KEY,
      '--provision-secret',
      SECRET,
      '--type',
      'access-token',
    ];
    const { code, stderr } = await runCli(args);
    assert.equal(code, 4, stderr);
    assert.match(stderr, /error \[TLS\]: .* speaks TLS, but TLS is off .*leave out --no-tls.*Nothing was sent/);
  });
});
