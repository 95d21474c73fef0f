'use strict';
// `gridlinks-provision ca create`: a fleet CA made right (CA:TRUE, pathlen 0, keyCertSign/cRLSign, key 0600),
// which a chain profile of the simulator then takes to create devices.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { X509Certificate } = require('node:crypto');
const { execFileSync } = require('node:child_process');
const { certificateCredentialsId } = require('../../nodes/provisioning');
const { startSim, tempDir } = require('../provisioning/support');
const { runCli } = require('../helpers/cli');

describe('gridlinks-provision ca create', function () {
  this.timeout(60_000);
  let dir;
  before(() => {
    dir = tempDir('gl-ca-');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes ca.pem and ca.key (0600), prints the PEM and its SHA3-256; the certificate is a CA for device certificates only', async function () {
    const out = path.join(dir, 'fleet');
    const { code, stdout, stderr } = await runCli(['ca', 'create', '--out', out, '--name', 'Test fleet CA', '--days', '30', '--key-type', 'p256']);
    assert.equal(code, 0, stderr);
    const pem = fs.readFileSync(path.join(out, 'ca.pem'), 'utf8');
    assert.equal(fs.statSync(path.join(out, 'ca.key')).mode & 0o777, 0o600);
    assert.ok(stdout.includes(pem.trim()), 'the PEM to paste is printed');
    assert.ok(stdout.includes(certificateCredentialsId(pem)), 'its SHA3-256 (the profile key) is printed');
    assert.doesNotMatch(stdout + stderr, /PRIVATE KEY/);

    const certificate = new X509Certificate(pem);
    assert.equal(certificate.ca, true);
    assert.equal(certificate.subject, 'CN=Test fleet CA');
    assert.ok(certificate.checkPrivateKey(require('node:crypto').createPrivateKey(fs.readFileSync(path.join(out, 'ca.key')))));
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: pem }).toString();
    assert.match(text, /CA:TRUE, pathlen:0/);
    assert.match(text, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
    const days = (Date.parse(certificate.validTo) - Date.parse(certificate.validFrom)) / 86_400_000;
    assert.ok(days > 29 && days < 31, `${days} days`);
  });

  it('never overwrites a CA key: STORE (exit 7), the first key unchanged', async function () {
    const out = path.join(dir, 'twice');
    assert.equal((await runCli(['ca', 'create', '--out', out])).code, 0);
    const key = fs.readFileSync(path.join(out, 'ca.key'), 'utf8');
    const again = await runCli(['ca', 'create', '--out', out]);
    assert.equal(again.code, 7);
    assert.match(again.stderr, /never overwritten/);
    assert.equal(fs.readFileSync(path.join(out, 'ca.key'), 'utf8'), key);
  });

  it('bad arguments are INVALID_INPUT (exit 2) naming the flag', async function () {
    for (const [args, flag] of [
      [['ca', 'create'], /--out/],
      [['ca', 'create', '--out', path.join(dir, 'x'), '--days', '0'], /--days/],
      [['ca', 'create', '--out', path.join(dir, 'x'), '--key-type', 'rsa1024'], /--key-type/],
      [['ca', 'remove'], /create/],
    ]) {
      const { code, stderr } = await runCli(args);
      assert.equal(code, 2, stderr);
      assert.match(stderr, flag);
    }
  });

  it('the CA it makes serves a chain profile: a device provisioned by chain with it exists and logs in', async function () {
    const out = path.join(dir, 'served');
    assert.equal((await runCli(['ca', 'create', '--out', out, '--key-type', 'p256'])).code, 0);
    const sim = await startSim({
      mqttPort: null,
      profiles: [{ name: 'fleet', strategy: 'X509_CERTIFICATE_CHAIN', caCertificate: path.join(out, 'ca.pem') }],
    });
    try {
      const signer = ['--type', 'x509-chain', '--signer-cert', path.join(out, 'ca.pem'), '--signer-key', path.join(out, 'ca.key')];
      const { code, stdout, stderr } = await runCli([
        ...['--host', '127.0.0.1', '--port', String(sim.mqttsPort), '--ca', sim.caFile],
        ...signer,
        ...['--common-name', 'ca-made-1', '--key-type', 'p256', '--verify', '--json'],
      ]);
      assert.equal(code, 0, stderr);
      const result = JSON.parse(stdout);
      assert.deepEqual(result.verification, { accepted: true });
      assert.ok(sim.devices().some((device) => device.name === 'ca-made-1'));
    } finally {
      await sim.stop();
    }
  });
});
