'use strict';
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startSim, tempDir } = require('../provisioning/support');
const { makeFleetPki, deviceCsr, openssl } = require('../helpers/chain-pki');

const { runCli } = require('../helpers/cli');

describe('gridlinks-provision --type x509-chain against the simulator (TLS)', function () {
  this.timeout(60_000);
  let pki;
  let sim;
  let connection;
  let signer;
  before(async function () {
    pki = makeFleetPki();
    sim = await startSim({
      mqttPort: null,
      profiles: [{ name: 'fleet', strategy: 'X509_CERTIFICATE_CHAIN', caCertificate: pki.fleet.certFile, certificateRegExPattern: '^line1-(.*)$' }],
    });
    connection = ['--host', '127.0.0.1', '--port', String(sim.mqttsPort), '--ca', sim.caFile];
    signer = ['--type', 'x509-chain', '--signer-cert', pki.fleet.certFile, '--signer-key', pki.fleet.keyFile, '--chain', pki.root.certFile];
  });
  after(async function () {
    await sim.stop();
    pki.remove();
  });

  it('--help documents the chain flags', async function () {
    const { code, stdout } = await runCli(['--help']);
    assert.equal(code, 0);
    for (const flag of ['x509-chain', '--signer-cert', '--signer-key', '--chain', '--csr', '--common-name', '--regex', 'CHAIN_REFUSED'])
      assert.ok(stdout.includes(flag), flag);
  });

  it('provisions by chain (--json, --verify): the device exists, named by the pattern; no signer key in the output', async function () {
    const { code, stdout, stderr } = await runCli([
      ...connection,
      ...signer,
      '--device-name',
      'pump-1',
      '--common-name',
      'line1-pump-1',
      '--regex',
      '^line1-(.*)$',
      '--key-type',
      'p256',
      '--verify',
      '--json',
    ]);
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout);
    assert.equal(result.deviceName, 'pump-1');
    assert.equal(result.provisioned, true);
    assert.deepEqual(result.verification, { accepted: true });
    assert.equal(sim.devices().find((d) => d.name === 'pump-1').credentials.credentialsId, result.credentials.credentialsId);
    assert.equal(stdout.includes(pki.fleet.keyPem.split('\n')[1]), false);
  });

  it('--csr prints the issued certificate and chain, sends nothing; openssl verifies it against the root', async function () {
    const csr = deviceCsr(pki.dir, 'cli-csr', 'line1-valve-2');
    const count = sim.devices().length;
    const { code, stdout, stderr } = await runCli([...connection, ...signer, '--csr', csr.csrFile, '--regex', '^line1-(.*)$']);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^Issued a certificate for device "valve-2"; nothing was sent/);
    const pems = stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g);
    assert.equal(pems.length, 3);
    assert.doesNotMatch(stdout, /PRIVATE KEY/);
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'leaf.pem'), pems[0]);
    assert.match(openssl(['verify', '-CAfile', pki.root.certFile, '-untrusted', pki.fleet.certFile, path.join(dir, 'leaf.pem')]).toString(), /OK/);
    assert.equal(
      new crypto.X509Certificate(pems[0]).publicKey.export({ type: 'spki', format: 'pem' }),
      openssl(['req', '-in', csr.csrFile, '-noout', '-pubkey']).toString(),
    );
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(sim.devices().length, count);

    const withKeyType = await runCli([...connection, ...signer, '--csr', csr.csrFile, '--key-type', 'p256']);
    assert.equal(withKeyType.code, 2);
    assert.match(withKeyType.stderr, /--key-type does not apply with --csr/);
    assert.equal(withKeyType.stdout, '');
  });

  it('CHAIN_REFUSED exits 3 with the error as JSON; a CN the --regex cannot name exits 2', async function () {
    const refused = await runCli([...connection, ...signer, '--device-name', 'other-1', '--json']);
    assert.equal(refused.code, 3, refused.stderr);
    assert.equal(JSON.parse(refused.stdout).error.code, 'CHAIN_REFUSED');
    const predicted = await runCli([...connection, ...signer, '--device-name', 'other-1', '--regex', '^line1-(.*)$']);
    assert.equal(predicted.code, 2);
    assert.match(predicted.stderr, /--regex: .*does not match/);
  });

  it("missing --signer-key: exit 2 naming the flag; a signer key that is not the signer certificate's: exit 2", async function () {
    const missing = await runCli([...connection, '--type', 'x509-chain', '--signer-cert', pki.fleet.certFile, '--device-name', 'x']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--signer-key/);
    const wrong = await runCli([
      ...connection,
      '--type',
      'x509-chain',
      '--signer-cert',
      pki.fleet.certFile,
      '--signer-key',
      pki.other.keyFile,
      '--device-name',
      'x',
    ]);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /--signer-key: signerKey does not belong/);
  });

  it('--signer-key /dev/zero, a FIFO or a file over 1 MiB: exit 2 at once, naming the file (it used to hang)', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-chain-files-'));
    try {
      const fifo = path.join(dir, 'key.fifo');
      execFileSync('mkfifo', [fifo]);
      const big = path.join(dir, 'big.pem');
      fs.writeFileSync(big, Buffer.alloc(2 * 1024 * 1024, 0x41));
      for (const [file, why] of [
        ['/dev/zero', /is not a regular file/],
        [fifo, /is not a regular file/],
        [big, /is larger than 1 MiB/],
      ]) {
        const run = await runCli([...connection, '--type', 'x509-chain', '--signer-cert', pki.fleet.certFile, '--signer-key', file, '--device-name', 'x'], {
          onStart: (child) => setTimeout(() => child.kill('SIGKILL'), 10_000).unref(),
        });
        assert.equal(run.code, 2, `${file}: ${run.signal ?? ''} ${run.stderr}`);
        assert.match(run.stderr, new RegExp(`--signer-key: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} `));
        assert.match(run.stderr, why);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
