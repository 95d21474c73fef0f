'use strict';
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { generateDeviceCertificate, trimCertificate, certificateCredentialsId } = require('../../nodes/provisioning');
const { tempDir } = require('./support');

const EXPECTED = {
  rsa2048: { type: 'rsa', bits: 2048, signature: 'sha256WithRSAEncryption' },
  rsa3072: { type: 'rsa', bits: 3072, signature: 'sha256WithRSAEncryption' },
  rsa4096: { type: 'rsa', bits: 4096, signature: 'sha256WithRSAEncryption' },
  p256: { type: 'ec', curve: 'prime256v1', signature: 'ecdsa-with-SHA256' },
  p384: { type: 'ec', curve: 'secp384r1', signature: 'ecdsa-with-SHA256' },
};

describe('provisioning/certificate', function () {
  this.timeout(60_000);
  const dir = tempDir();
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [algorithm, expected] of Object.entries(EXPECTED)) {
    it(`${algorithm}: self-signed v3 certificate that openssl parses and that verifies its own signature`, async () => {
      const { certificate, privateKey } = await generateDeviceCertificate({ commonName: 'Dev é/1', validityDays: 30, keyAlgorithm: algorithm });
      const x509 = new crypto.X509Certificate(certificate);
      assert.equal(x509.verify(x509.publicKey), true);
      assert.equal(x509.checkPrivateKey(crypto.createPrivateKey(privateKey)), true);
      assert.match(privateKey, /^-----BEGIN PRIVATE KEY-----\n/);
      assert.equal(x509.subject, 'CN=Dev é/1');
      assert.equal(x509.issuer, x509.subject);
      assert.equal(x509.publicKey.asymmetricKeyType, expected.type);
      if (expected.bits) assert.equal(x509.publicKey.asymmetricKeyDetails.modulusLength, expected.bits);
      else assert.equal(x509.publicKey.asymmetricKeyDetails.namedCurve, expected.curve);
      assert.equal(x509.ca, false);
      const days = (Date.parse(x509.validTo) - Date.parse(x509.validFrom)) / 86_400_000;
      assert.equal(Math.round(days), 30);
      assert.ok(Date.parse(x509.validFrom) <= Date.now());

      const file = path.join(dir, `${algorithm}.pem`);
      fs.writeFileSync(file, certificate);
      const text = execFileSync('openssl', ['x509', '-text', '-noout', '-in', file]).toString();
      assert.match(text, /Version: 3 \(0x2\)/);
      assert.match(text, new RegExp(`Signature Algorithm: ${expected.signature}`));
      assert.match(text, /CA:FALSE/);
      assert.match(text, /TLS Web Client Authentication/);
      assert.match(text, /X509v3 Subject Key Identifier/);
      // Positive serial: openssl prints no minus sign and the first byte is below 0x80.
      const serial = text.match(/Serial Number:\s*\n\s*([0-9a-f:]+)/)[1];
      assert.ok(parseInt(serial.slice(0, 2), 16) < 0x80);
    });
  }

  it('random serials differ', async () => {
    const a = new crypto.X509Certificate((await generateDeviceCertificate({ commonName: 'a', validityDays: 1, keyAlgorithm: 'p256' })).certificate);
    const b = new crypto.X509Certificate((await generateDeviceCertificate({ commonName: 'a', validityDays: 1, keyAlgorithm: 'p256' })).certificate);
    assert.notEqual(a.serialNumber, b.serialNumber);
  });

  it('validity past 2049 uses GeneralizedTime and still parses', async () => {
    const { certificate } = await generateDeviceCertificate({ commonName: 'long', validityDays: 36_500, keyAlgorithm: 'p256' });
    const x509 = new crypto.X509Certificate(certificate);
    assert.ok(new Date(x509.validTo).getUTCFullYear() >= 2100);
  });

  it('trimCertificate / certificateCredentialsId follow GridLinks: SHA3-256 of PEM minus BEGIN/END and CR/LF (= base64 DER)', async () => {
    const { certificate } = await generateDeviceCertificate({ commonName: 'h', validityDays: 1, keyAlgorithm: 'p256' });
    const der = new crypto.X509Certificate(certificate).raw;
    assert.equal(trimCertificate(certificate), der.toString('base64'));
    assert.equal(trimCertificate(certificate.replace(/\n/g, '\r\n')), der.toString('base64'));
    const expected = crypto.createHash('sha3-256').update(der.toString('base64')).digest('hex');
    assert.equal(certificateCredentialsId(certificate), expected);
    // Independent check with Python's hashlib (FIPS-202 SHA3, not Keccak).
    const python = execFileSync('/usr/bin/python3', ['-c', 'import sys,hashlib;print(hashlib.sha3_256(sys.stdin.read().encode()).hexdigest())'], {
      input: trimCertificate(certificate),
    })
      .toString()
      .trim();
    assert.equal(certificateCredentialsId(certificate), python);
  });

  it('keeps the event loop turning while an RSA-4096 key is generated and signed', async () => {
    // Made on the event loop, the key (hundreds of ms) would finish before the loop turned once. The loop is
    // counted with a 1 ms timer rather than spun with setImmediate: a spinning loop takes a whole CPU at normal
    // priority, and on a loaded 2-CPU machine that would starve the key thread, which runs at nice 19.
    let settled = false;
    let turns = 0;
    const turn = () => {
      if (settled) return;
      turns += 1;
      setTimeout(turn, 1);
    };
    setTimeout(turn, 1);
    const { certificate } = await generateDeviceCertificate({ commonName: 'big', validityDays: 1, keyAlgorithm: 'rsa4096' }).finally(() => (settled = true));
    const x509 = new crypto.X509Certificate(certificate);
    assert.equal(x509.verify(x509.publicKey), true);
    assert.ok(turns > 10, `the event loop turned only ${turns} times while the key was made`);
  });
});
