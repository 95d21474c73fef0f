'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { startSim, uniqueName, tempDir, mode, KEY, SECRET } = require('../provisioning/support');

const { runCli } = require('../helpers/cli');
const { openGateway } = require('../../nodes/gateway');

describe('gridlinks-provision CLI against the simulator (TLS)', function () {
  this.timeout(60_000);
  let sim;
  let dir;
  let connection;
  before(async () => {
    sim = await startSim();
    dir = tempDir('gl-cli-');
    connection = ['--host', '127.0.0.1', '--port', String(sim.mqttsPort), '--ca', sim.caFile, '--allow-unnamed'];
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await sim.stop();
  });
  afterEach(() => sim.setFaults({}));

  it('--help documents the interface and the exit codes', async () => {
    const { code, stdout } = await runCli(['--help']);
    assert.equal(code, 0);
    for (const text of ['--provision-key', '--key-type', '--mqtt-version', 'Exit codes:', 'OUTCOME_UNKNOWN', '130']) assert.ok(stdout.includes(text), text);
  });

  it('--private-key without --cert: a certificate is made for that key', async () => {
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyFile = path.join(dir, 'own-key.pem');
    fs.writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const deviceName = uniqueName('cli-own-key');
    const { code, stdout, stderr } = await runCli([
      ...connection,
      '--provision-key',
      KEY,
      '--provision-secret',
      SECRET,
      '--device-name',
      deviceName,
      '--private-key',
      keyFile,
      '--json',
    ]);
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout);
    assert.equal(new crypto.X509Certificate(result.credentials.certificate).checkPrivateKey(privateKey), true);
  });

  it('--json success: one JSON object with the node-shaped result; the device really exists', async () => {
    const deviceName = uniqueName('cli');
    const { code, stdout, stderr } = await runCli([
      ...connection,
      '--provision-key',
      KEY,
      '--provision-secret',
      SECRET,
      '--device-name',
      deviceName,
      '--key-type',
      'p256',
      '--json',
      '--verify',
    ]);
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout);
    assert.equal(result.deviceName, deviceName);
    assert.equal(result.credentialsType, 'X509_CERTIFICATE');
    assert.ok(new crypto.X509Certificate(result.credentials.certificate));
    assert.match(result.credentials.privateKey, /BEGIN PRIVATE KEY/);
    assert.deepEqual(result.server, { host: '127.0.0.1', port: sim.mqttsPort, tls: true });
    assert.deepEqual(result.verification, { accepted: true });
    assert.equal(result.connectOptions.protocol, 'mqtts');
    assert.ok(sim.devices().some((device) => device.name === deviceName));
    assert.ok(!stdout.includes(SECRET) && !stderr.includes(SECRET), 'the provision secret is never printed');
  });

  it('readable access-token success prints the token; the secret can come from the environment', async () => {
    const { code, stdout, stderr } = await runCli([...connection, '--device-name', uniqueName('clitok'), '--type', 'access-token', '--mqtt-version', '5'], {
      env: { GRIDLINKS_PROVISION_KEY: KEY, GRIDLINKS_PROVISION_SECRET: SECRET },
    });
    assert.equal(code, 0, stderr);
    assert.match(
      stdout,
      /^Provisioned device "clitok-.*" on 127\.0\.0\.1:\d+ \(TLS\) with ACCESS_TOKEN credentials\.\n {2}access token: {3}[A-Za-z0-9]{20}\n$/,
    );
  });

  it('NOT_FOUND exits 3 with the error as JSON', async () => {
    const { code, stdout } = await runCli([...connection, '--provision-key', KEY, '--provision-secret', 'wrong', '--type', 'access-token', '--json']);
    assert.equal(code, 3);
    const { error } = JSON.parse(stdout);
    assert.equal(error.code, 'NOT_FOUND');
    assert.match(error.message, /key and secret/);
  });

  it('missing required input with a non-terminal stdin: exit 2, nothing asked', async () => {
    const { code, stdout, stderr } = await runCli([...connection, '--provision-key', KEY]);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /error \[INVALID_INPUT\]: --provision-secret/);
  });

  it('bad option values exit 2 with the flag name', async () => {
    const badType = await runCli([...connection, '--provision-key', KEY, '--provision-secret', SECRET, '--type', 'x']);
    assert.equal(badType.code, 2);
    const badKey = await runCli([...connection, '--provision-key', KEY, '--provision-secret', SECRET, '--key-type', 'rsa1024']);
    assert.equal(badKey.code, 2);
    assert.match(badKey.stderr, /--key-type/);
    const missingFile = await runCli([...connection.slice(0, 4), '--ca', path.join(dir, 'nope.pem'), '--provision-key', KEY, '--provision-secret', SECRET]);
    assert.equal(missingFile.code, 2);
    assert.match(missingFile.stderr, /--ca: \S+nope\.pem cannot be read \(ENOENT\)/);
  });

  it('network family exits 4 (TLS: wrong servername); --insecure warns on stderr and works', async () => {
    const tlsFailure = await runCli([
      ...connection,
      '--servername',
      'wrong.example.com',
      '--provision-key',
      KEY,
      '--provision-secret',
      SECRET,
      '--type',
      'access-token',
    ]);
    assert.equal(tlsFailure.code, 4);
    assert.match(tlsFailure.stderr, /error \[TLS\]/);
    const insecure = await runCli([
      '--host',
      '127.0.0.1',
      '--port',
      String(sim.mqttsPort),
      '--insecure',
      '--provision-key',
      KEY,
      '--provision-secret',
      SECRET,
      '--type',
      'access-token',
      '--device-name',
      uniqueName('insec'),
    ]);
    assert.equal(insecure.code, 0, insecure.stderr);
    assert.match(insecure.stderr, /^warning: --insecure/);
    assert.equal(insecure.stderr.match(/insecure/g).length, 1, 'warned once');
  });

  it('--out writes 0600 files and prints where they went, not the key', async () => {
    const deviceName = uniqueName('cliout');
    const out = path.join(dir, 'store');
    const { code, stdout, stderr } = await runCli([
      ...connection,
      '--provision-key',
      KEY,
      '--provision-secret',
      SECRET,
      '--device-name',
      deviceName,
      '--key-type',
      'p256',
      '--out',
      out,
    ]);
    assert.equal(code, 0, stderr);
    const deviceDir = path.join(out, deviceName);
    for (const file of ['certificate.pem', 'private-key.pem', 'credentials.json']) {
      assert.equal(mode(path.join(deviceDir, file)), 0o600, file);
      assert.ok(stdout.includes(path.join(deviceDir, file)));
    }
    assert.ok(!stdout.includes('PRIVATE KEY'));
    const again = await runCli([
      ...connection,
      '--provision-key',
      KEY,
      '--provision-secret',
      SECRET,
      '--device-name',
      deviceName,
      '--out',
      out,
      '--if-stored',
      'fail',
    ]);
    assert.equal(again.code, 7, 'refuses to overwrite');
  });

  it('--gateway creates a gateway: the result, the stored record and the server say so, and it speaks for a child', async () => {
    const deviceName = uniqueName('cli-gw');
    const out = path.join(dir, 'store-gw');
    const args = [...connection, '--provision-key', KEY, '--provision-secret', SECRET, '--device-name', deviceName, '--type', 'access-token'];
    const { code, stdout, stderr } = await runCli([...args, '--gateway', '--out', out, '--json']);
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout);
    assert.equal(result.gateway, true);
    assert.equal(sim.devices().find((device) => device.name === deviceName).gateway, true);
    const stored = JSON.parse(fs.readFileSync(path.join(out, deviceName, 'credentials.json'), 'utf8'));
    assert.equal(stored.gateway, true);
    // The stored record is the login (with --out the printed result leaves the token out).
    const gateway = openGateway({ server: { host: '127.0.0.1', port: sim.mqttsPort, tls: true, ca: fs.readFileSync(sim.caFile, 'utf8') }, gateway: stored });
    try {
      await gateway.request({ deviceName: `${deviceName} child`, payload: { t: 1 } });
    } finally {
      await gateway.close();
    }
    assert.equal(sim.devices().find((device) => device.name === `${deviceName} child`).gatewayName, deviceName);
    const plain = await runCli([...args.map((arg) => (arg === deviceName ? `${deviceName}-plain` : arg)), '--json']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(JSON.parse(plain.stdout).gateway, undefined, 'no --gateway: an ordinary device');
    assert.notEqual(sim.devices().find((device) => device.name === `${deviceName}-plain`).gateway, true);
  });

  it('OUTCOME_UNKNOWN exits 5 and names the kept key', async () => {
    sim.setFaults({ closeAfterRequest: true });
    const out = path.join(dir, 'store5');
    const { code, stdout } = await runCli([
      ...connection,
      '--provision-key',
      KEY,
      '--provision-secret',
      SECRET,
      '--device-name',
      uniqueName('cli5'),
      '--key-type',
      'p256',
      '--out',
      out,
      '--json',
    ]);
    assert.equal(code, 5);
    const { error } = JSON.parse(stdout);
    assert.equal(error.code, 'OUTCOME_UNKNOWN');
    assert.ok(fs.existsSync(error.details.pendingKeyPath));
  });

  it('CONNECTION_CLOSED exits 6', async () => {
    sim.setFaults({ closeAfterPuback: true });
    const { code, stderr } = await runCli([...connection, '--provision-key', KEY, '--provision-secret', SECRET, '--type', 'access-token']);
    assert.equal(code, 6);
    assert.match(stderr, /CONNECTION_CLOSED/);
  });

  it('SIGINT while waiting for the answer: exit 130, ABORTED, says the device may exist', async () => {
    sim.setFaults({ noAnswer: true });
    const waiting = sim.waitForLog(/not answering/);
    const { code, stdout } = await runCli(
      [...connection, '--provision-key', KEY, '--provision-secret', SECRET, '--type', 'access-token', '--timeout', '30', '--json'],
      {
        onStart: (child) => waiting.then(() => child.kill('SIGINT')),
      },
    );
    assert.equal(code, 130);
    const { error } = JSON.parse(stdout);
    assert.equal(error.code, 'ABORTED');
    assert.equal(error.details.requestSent, true);
  });
});
