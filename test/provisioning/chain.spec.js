'use strict';
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const tls = require('node:tls');
const mqttPacket = require('mqtt-packet');
const { provisionDevice, certificateCredentialsId, resumePending } = require('../../nodes/provisioning');
const { startSim, tlsServer, rejectsWith, leakedSince, resourceBaseline, tempDir, mode } = require('./support');
const { connectDevice } = require('../helpers/simulator');
const { validateChainOptions } = require('../../nodes/provisioning/chain');
const { createCertificate } = require('../../nodes/simulator');
const { makeFleetPki, deviceCsr, openssl, craftCsr, tlv, oidDer } = require('../helpers/chain-pki');

describe('provisioning: X.509 certificate chain (core against the simulator over TLS)', function () {
  this.timeout(60_000);
  let pki;
  let sim;
  before(async function () {
    pki = makeFleetPki();
    // fleet-ec does not allow new devices: one exists already, with a first leaf made by openssl.
    const existing = deviceCsr(pki.dir, 'ec-existing', 'ec-existing');
    sim = await startSim({
      mqttPort: null,
      profiles: [
        { name: 'fleet', strategy: 'X509_CERTIFICATE_CHAIN', caCertificate: pki.fleet.certPem, certificateRegExPattern: '^acme-(.*)$' },
        { name: 'fleet-ec', strategy: 'X509_CERTIFICATE_CHAIN', caCertificate: pki.fleetEc.certPem, allowCreateNewDevices: false },
      ],
      devices: [{ name: 'ec-existing', profile: 'fleet-ec', credentialsType: 'X509_CERTIFICATE', credentialsValue: existing.leaf(pki.fleetEc) }],
    });
  });
  after(async function () {
    await sim.stop();
    pki.remove();
  });

  function chainOptions(extra = {}) {
    const { server, ...rest } = extra;
    return {
      server: tlsServer(sim, server),
      credentialsType: 'X509_CERTIFICATE_CHAIN',
      signerCertificate: pki.fleet.certPem,
      signerKey: pki.fleet.keyPem,
      ...rest,
    };
  }
  const device = (name) => sim.devices().find((d) => d.name === name);

  it('creates the device: issues a leaf for a new key, logs in with leaf + signer, reports the name the pattern gives', async function () {
    const baseline = await resourceBaseline();
    const result = await provisionDevice(
      chainOptions({ commonName: 'acme-pump-1', certificateRegExPattern: '^acme-(.*)$', keyAlgorithm: 'p256', verify: true }),
    );
    assert.equal(result.deviceName, 'pump-1');
    assert.equal(result.provisioned, true);
    assert.equal(result.issued, true);
    assert.equal(result.credentialsType, 'X509_CERTIFICATE');
    const leaf = new crypto.X509Certificate(result.credentials.certificate);
    assert.equal(leaf.subject, 'CN=acme-pump-1');
    assert.equal(leaf.issuer, new crypto.X509Certificate(pki.fleet.certPem).subject);
    assert.equal(leaf.verify(new crypto.X509Certificate(pki.fleet.certPem).publicKey), true);
    assert.equal(leaf.checkPrivateKey(crypto.createPrivateKey(result.credentials.privateKey)), true);
    assert.equal(leaf.publicKey.asymmetricKeyDetails.namedCurve, 'prime256v1');
    assert.equal(result.credentials.credentialsId, certificateCredentialsId(result.credentials.certificate));
    assert.equal(result.connectOptions.cert, result.credentials.certificate + result.credentials.chain);
    assert.deepEqual(result.verification, { accepted: true });
    assert.equal(device('pump-1').credentials.credentialsId, result.credentials.credentialsId);
    assert.equal(device('pump-1').profile, 'fleet');
    assert.deepEqual(await leakedSince(baseline), []);
  });

  it('an EC signer with the root as chain rotates an existing device; the leaf verifies with openssl against the root (RSA device key)', async function () {
    const result = await provisionDevice(
      chainOptions({ signerCertificate: pki.fleetEc.certPem, signerKey: pki.fleetEc.keyPem, chain: pki.root.certPem, deviceName: 'ec-existing' }),
    );
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'leaf.pem'), result.credentials.certificate);
    const verified = openssl([
      'verify',
      '-CAfile',
      pki.root.certFile,
      '-untrusted',
      pki.fleetEc.certFile,
      '-purpose',
      'sslclient',
      path.join(dir, 'leaf.pem'),
    ]).toString();
    assert.match(verified, /leaf\.pem: OK/);
    assert.equal(new crypto.X509Certificate(result.credentials.certificate).publicKey.asymmetricKeyType, 'rsa');
    assert.equal(result.credentials.chain, pki.fleetEc.certPem.replace(/\r/g, '') + pki.root.certPem.replace(/\r/g, ''));
    assert.equal(device('ec-existing').credentials.credentialsId, result.credentials.credentialsId);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('rotates an existing device: a second provisioning with the same name replaces its credential', async function () {
    const first = await provisionDevice(chainOptions({ deviceName: 'acme-rotating' }));
    const created = device('rotating');
    assert.equal(first.deviceName, 'acme-rotating');
    const second = await provisionDevice(chainOptions({ deviceName: 'acme-rotating' }));
    assert.notEqual(second.credentials.credentialsId, first.credentials.credentialsId);
    assert.equal(device('rotating').credentials.credentialsId, second.credentials.credentialsId);
    assert.equal(device('rotating').createdTime, created.createdTime);
    const old = await connectDevice(sim, { tls: true, cert: first.credentials.certificate, key: first.credentials.privateKey }).catch((error) => error);
    assert.equal(old.code, 5);
  });

  it('predicts a refusal by the CN pattern before anything is made or sent (INVALID_INPUT)', async function () {
    const count = sim.devices().length;
    const noMatch = await rejectsWith(provisionDevice(chainOptions({ deviceName: 'pump-2', certificateRegExPattern: '^acme-(.*)$' })), 'INVALID_INPUT');
    assert.equal(noMatch.details.field, 'certificateRegExPattern');
    assert.match(noMatch.message, /does not match/);
    const otherName = await rejectsWith(
      provisionDevice(chainOptions({ deviceName: 'pump-2', commonName: 'acme-pump-3', certificateRegExPattern: '^acme-(.*)$' })),
      'INVALID_INPUT',
    );
    assert.equal(otherName.details.field, 'deviceName');
    const javaOnly = await rejectsWith(provisionDevice(chainOptions({ deviceName: 'x', certificateRegExPattern: '\\Qacme\\E(.*)' })), 'INVALID_INPUT');
    assert.match(javaOnly.message, /Java-only/);
    assert.equal(sim.devices().length, count);
  });

  it('names the device as GridLinks reads the CN (RFC 4514 escaping: meter,7 is meter\\,7), with a warning; the simulator agrees', async function () {
    const result = await provisionDevice(chainOptions({ commonName: 'acme-meter,7', certificateRegExPattern: '^acme-(.*)$', keyAlgorithm: 'p256' }));
    assert.equal(result.deviceName, 'meter\\,7');
    assert.equal(device('meter\\,7').credentials.credentialsId, result.credentials.credentialsId);
    assert.equal(device('meter,7'), undefined);
    assert.ok(
      result.warnings.some((warning) => /RFC 4514 value, "acme-meter\\,7"/.test(warning)),
      result.warnings.join('\n'),
    );
    // deviceName as the user wrote it is the device meant: accepted, reported under the name GridLinks gives it.
    const named = await provisionDevice(
      chainOptions({ deviceName: 'meter;8', commonName: 'acme-meter;8', certificateRegExPattern: '^acme-(.*)$', keyAlgorithm: 'p256' }),
    );
    assert.equal(named.deviceName, 'meter\\;8');
    assert.ok(device('meter\\;8'));
    // A plain CN: no warning about escaping.
    const plain = await provisionDevice(chainOptions({ commonName: 'acme-plain-1', certificateRegExPattern: '^acme-(.*)$', keyAlgorithm: 'p256' }));
    assert.ok(!plain.warnings.some((warning) => /RFC 4514/.test(warning)));
  });

  it('group 1 empty: a warning when the options are checked; if it goes ahead, deviceName null and the device under a random name', async function () {
    const options = chainOptions({ commonName: 'acme-', certificateRegExPattern: '^acme-(.*)$', keyAlgorithm: 'p256' });
    const checked = validateChainOptions(options);
    assert.equal(checked.warnings.length, 1);
    assert.match(checked.warnings[0], /random 20-character name/);
    const result = await provisionDevice(options);
    assert.equal(result.deviceName, null);
    assert.equal(result.provisioned, true);
    assert.equal(result.warnings.filter((warning) => /random 20-character name/.test(warning)).length, 1);
    const created = sim.devices().find((d) => d.credentials.credentialsId === result.credentials.credentialsId);
    assert.match(created.name, /^[A-Za-z0-9]{20}$/);
  });

  it('back-dates the leaf by a day (a server clock behind this one must not see it as not valid yet)', async function () {
    const result = await provisionDevice(chainOptions({ deviceName: 'acme-backdated', keyAlgorithm: 'p256', validityDays: 30 }));
    const leaf = new crypto.X509Certificate(result.credentials.certificate);
    const now = Date.now();
    assert.ok(Date.parse(leaf.validFrom) <= now - 23 * 3_600_000, leaf.validFrom);
    assert.ok(Date.parse(leaf.validTo) >= now + 29.9 * 86_400_000, leaf.validTo);
  });

  it('CHAIN_REFUSED with advice when the server pattern refuses the CN (MQTT 3.1.1 code 5, MQTT 5 0x87)', async function () {
    const baseline = await resourceBaseline();
    const error = await rejectsWith(provisionDevice(chainOptions({ deviceName: 'not-acme' })), 'CHAIN_REFUSED');
    assert.equal(error.details.returnCode, 5);
    assert.match(error.message, /CA certificate.*regular expression.*allow creating new devices/s);
    const v5 = await rejectsWith(provisionDevice(chainOptions({ deviceName: 'not-acme', server: { protocolVersion: 5 } })), 'CHAIN_REFUSED');
    assert.equal(v5.details.returnCode, 0x87);
    assert.equal(device('not-acme'), undefined);
    assert.deepEqual(await leakedSince(baseline), []);
  });

  it('CHAIN_REFUSED when the profile does not allow new devices; with a store the key stays pending (GridLinks may have acted during the handshake) and a resume settles it', async function () {
    const storeDir = tempDir();
    const error = await rejectsWith(
      provisionDevice(chainOptions({ signerCertificate: pki.fleetEc.certPem, signerKey: pki.fleetEc.keyPem, deviceName: 'ec-new', storeDir })),
      'CHAIN_REFUSED',
    );
    assert.equal(device('ec-new'), undefined);
    assert.doesNotMatch(error.message, /no device was created/);
    assert.match(error.message, /may have been created or changed.*resume/s);
    assert.equal(fs.existsSync(error.details.pendingKeyPath), true);
    // Refused again with the same leaf: settled as not created, the key removed.
    const summary = await resumePending({ server: tlsServer(sim), storeDir });
    assert.deepEqual(
      summary.entries.map((entry) => [entry.deviceName, entry.outcome]),
      [['ec-new', 'not-created']],
    );
    assert.equal(fs.existsSync(error.details.pendingKeyPath), false);
    fs.rmSync(storeDir, { recursive: true, force: true });
  });

  it('CHAIN_REFUSED when the signer is not the CA of any chain profile', async function () {
    await rejectsWith(
      provisionDevice(chainOptions({ signerCertificate: pki.other.certPem, signerKey: pki.other.keyPem, deviceName: 'acme-other' })),
      'CHAIN_REFUSED',
    );
    assert.equal(device('other'), undefined);
  });

  it('bounds the chain before parsing it: more than 10 certificates or more than 64 KiB of PEM is INVALID_INPUT (chain), nothing sent', async function () {
    const count = sim.devices().length;
    // Each link verifies (the root repeated signs itself): only the bound refuses it.
    const long = await rejectsWith(provisionDevice(chainOptions({ deviceName: 'acme-long', chain: pki.root.certPem.repeat(10) })), 'INVALID_INPUT');
    assert.equal(long.details.field, 'chain');
    assert.match(long.message, /hold 11 certificates, more than 10/);
    const big = await rejectsWith(provisionDevice(chainOptions({ deviceName: 'acme-big', chain: pki.root.certPem + '\n'.repeat(64 * 1024) })), 'INVALID_INPUT');
    assert.equal(big.details.field, 'chain');
    assert.match(big.message, /more than 64 KiB/);
    assert.equal(sim.devices().length, count);
    // Ten certificates are still accepted.
    const ten = await provisionDevice(chainOptions({ deviceName: 'acme-ten', keyAlgorithm: 'p256', chain: pki.root.certPem.repeat(9) }));
    assert.equal(ten.deviceName, 'acme-ten');
  });

  it('checks the signer and every link of the chain before making a key (INVALID_INPUT)', async function () {
    const broken = await rejectsWith(provisionDevice(chainOptions({ deviceName: 'acme-x', chain: pki.other.certPem })), 'INVALID_INPUT');
    assert.equal(broken.details.field, 'chain');
    assert.match(broken.message, /chain is broken/);
    const wrongKey = await rejectsWith(provisionDevice(chainOptions({ deviceName: 'acme-x', signerKey: pki.other.keyPem })), 'INVALID_INPUT');
    assert.equal(wrongKey.details.field, 'signerKey');
    assert.doesNotMatch(wrongKey.message, /PRIVATE KEY/);
    const plain = await rejectsWith(provisionDevice(chainOptions({ deviceName: 'acme-x', server: { tls: false } })), 'INVALID_INPUT');
    assert.equal(plain.details.field, 'server.tls');
    const secret = await rejectsWith(provisionDevice(chainOptions({ deviceName: 'acme-x', provisionDeviceSecret: 's' })), 'INVALID_INPUT');
    assert.equal(secret.details.field, 'provisionDeviceSecret');
    const noName = await rejectsWith(provisionDevice(chainOptions({})), 'INVALID_INPUT');
    assert.equal(noName.details.field, 'commonName');
    const leafDevice = deviceCsr(pki.dir, 'not-a-ca', 'acme-leaf');
    const notCa = await rejectsWith(
      provisionDevice(chainOptions({ deviceName: 'acme-x', signerCertificate: leafDevice.leaf(pki.fleet), signerKey: leafDevice.keyPem })),
      'INVALID_INPUT',
    );
    assert.equal(notCa.details.field, 'signerCertificate');
    assert.match(notCa.message, /not a CA certificate/);
  });

  it('stores certificate, key and chain (0600) like the key/secret path', async function () {
    const storeDir = tempDir();
    const result = await provisionDevice(chainOptions({ deviceName: 'acme-stored', storeDir }));
    assert.equal(result.stored.dir, path.join(storeDir, 'acme-stored'));
    const files = fs.readdirSync(result.stored.dir).sort();
    assert.deepEqual(files, ['certificate.pem', 'chain.pem', 'credentials.json', 'private-key.pem']);
    for (const file of files) assert.equal(mode(path.join(result.stored.dir, file)), 0o600);
    assert.equal(fs.readFileSync(path.join(result.stored.dir, 'chain.pem'), 'utf8'), result.credentials.chain);
    assert.equal(JSON.parse(fs.readFileSync(path.join(result.stored.dir, 'credentials.json'), 'utf8')).credentials.chainFile, 'chain.pem');
    fs.rmSync(storeDir, { recursive: true, force: true });
  });

  /** A TLS endpoint that takes the handshake and the CONNECT, then closes: the device may exist now. Runs `use(port, ca)`. */
  async function withDroppingServer(use) {
    const ca = await createCertificate({ commonName: 'drop test CA', isCA: true });
    const serverCert = await createCertificate({ commonName: 'localhost', issuer: ca, ipAddresses: ['127.0.0.1'] });
    const server = tls.createServer({ cert: serverCert.certPem, key: serverCert.keyPem, requestCert: true, rejectUnauthorized: false }, (socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.destroy());
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const storeDir = tempDir();
    try {
      await use({ port: server.address().port, ca: ca.certPem }, storeDir);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      fs.rmSync(storeDir, { recursive: true, force: true });
    }
  }

  it('OUTCOME_UNKNOWN when the server drops the connection after the CONNECT without a CONNACK; the stored key is kept', async function () {
    await withDroppingServer(async (dropping, storeDir) => {
      const error = await rejectsWith(provisionDevice(chainOptions({ deviceName: 'acme-dropped', storeDir, server: dropping })), 'OUTCOME_UNKNOWN');
      assert.equal(error.details.requestSent, true);
      assert.equal(fs.existsSync(error.details.pendingKeyPath), true);
      assert.match(fs.readFileSync(error.details.pendingKeyPath, 'utf8'), /BEGIN PRIVATE KEY/);
      // The simulator never saw this leaf: a resume's login with it is refused, so the attempt is settled as not created.
      const summary = await resumePending({ server: tlsServer(sim), storeDir });
      assert.deepEqual(
        summary.entries.map((entry) => [entry.deviceName, entry.outcome]),
        [['acme-dropped', 'not-created']],
      );
    });
  });

  it('a resume that finds the device created commits it with its chain; the store then answers with the chain', async function () {
    await withDroppingServer(async (dropping, storeDir) => {
      const error = await rejectsWith(provisionDevice(chainOptions({ deviceName: 'acme-answer-lost', storeDir, server: dropping })), 'OUTCOME_UNKNOWN');
      // What the lost login did on a server that got it: the leaf and the chain create the device.
      const record = JSON.parse(fs.readFileSync(error.details.pendingPath, 'utf8'));
      assert.equal(record.chain, pki.fleet.certPem);
      const { client } = await connectDevice(sim, {
        tls: true,
        cert: record.certificate + record.chain,
        key: fs.readFileSync(error.details.pendingKeyPath, 'utf8'),
      });
      await client.endAsync();
      assert.equal(device('answer-lost').credentials.credentialsId, certificateCredentialsId(record.certificate));

      const summary = await resumePending({ server: tlsServer(sim), storeDir });
      assert.deepEqual(
        summary.entries.map((entry) => [entry.deviceName, entry.outcome]),
        [['acme-answer-lost', 'provisioned']],
      );
      const deviceDir = summary.entries[0].result.stored.dir;
      assert.equal(fs.readFileSync(path.join(deviceDir, 'chain.pem'), 'utf8'), pki.fleet.certPem);
      assert.equal(JSON.parse(fs.readFileSync(path.join(deviceDir, 'credentials.json'), 'utf8')).credentials.chainFile, 'chain.pem');

      const again = await provisionDevice(chainOptions({ deviceName: 'acme-answer-lost', storeDir }));
      assert.equal(again.fromStore, true);
      assert.equal(again.credentials.chain, pki.fleet.certPem);
      assert.ok(again.stored.files.includes(path.join(deviceDir, 'chain.pem')));
    });
  });

  it('store rules of the key/secret path: a stored device is answered from the store (reuse) or refused (fail), nothing sent', async function () {
    const storeDir = tempDir();
    const first = await provisionDevice(chainOptions({ deviceName: 'acme-kept', storeDir }));
    const again = await provisionDevice(chainOptions({ deviceName: 'acme-kept', storeDir }));
    assert.equal(again.fromStore, true);
    assert.equal(again.credentials.credentialsId, first.credentials.credentialsId);
    assert.equal(device('kept').credentials.credentialsId, first.credentials.credentialsId);
    await rejectsWith(provisionDevice(chainOptions({ deviceName: 'acme-kept', storeDir, ifStored: 'fail' })), 'STORE');
    fs.rmSync(storeDir, { recursive: true, force: true });
  });

  it("the leaf never outlives its signer: 10 years asked, the fleet CA's 30 days given (notAfter capped) and a warning; 5 days fit without one", async function () {
    const signer = new crypto.X509Certificate(pki.fleet.certPem);
    const capped = await provisionDevice(chainOptions({ commonName: 'acme-capped', keyAlgorithm: 'p256' }));
    const leaf = new crypto.X509Certificate(capped.credentials.certificate);
    assert.equal(Date.parse(leaf.validTo), Date.parse(signer.validTo));
    assert.ok(
      capped.warnings.some((text) => text.includes(`valid until ${new Date(signer.validTo).toISOString()} only, not 3650 days`)),
      capped.warnings.join('\n'),
    );
    const short = await provisionDevice(chainOptions({ commonName: 'acme-short', keyAlgorithm: 'p256', validityDays: 5 }));
    const days = (Date.parse(new crypto.X509Certificate(short.credentials.certificate).validTo) - Date.now()) / 86_400_000;
    assert.ok(days > 4.9 && days <= 5, String(days));
    assert.equal(
      short.warnings.some((text) => /valid until/.test(text)),
      false,
    );
  });

  describe('CSR signing: the device keeps its key', function () {
    for (const kind of ['ec', 'rsa']) {
      it(`${kind}: issues for the CSR's key and CN without connecting; openssl verifies it and its key is the CSR's; the device then connects and is created`, async function () {
        const csr = deviceCsr(pki.dir, `csr-${kind}`, `acme-csr-${kind}`, { kind });
        const count = sim.devices().length;
        const result = await provisionDevice(chainOptions({ csr: csr.csrPem, chain: pki.root.certPem }));
        assert.equal(result.provisioned, false);
        assert.equal(result.issued, true);
        assert.equal(result.deviceName, `acme-csr-${kind}`);
        assert.equal(result.credentials.privateKey, undefined);
        assert.equal(result.connectOptions.key, undefined);
        assert.equal(sim.devices().length, count);

        const dir = tempDir();
        const leafFile = path.join(dir, 'leaf.pem');
        fs.writeFileSync(leafFile, result.credentials.certificate);
        assert.match(openssl(['verify', '-CAfile', pki.root.certFile, '-untrusted', pki.fleet.certFile, '-purpose', 'sslclient', leafFile]).toString(), /OK/);
        const leafKey = openssl(['x509', '-in', leafFile, '-noout', '-pubkey']).toString();
        const csrKey = openssl(['req', '-in', csr.csrFile, '-noout', '-pubkey']).toString();
        assert.equal(leafKey, csrKey);
        assert.match(openssl(['x509', '-in', leafFile, '-noout', '-subject']).toString(), new RegExp(`CN ?= ?acme-csr-${kind}`));
        fs.rmSync(dir, { recursive: true, force: true });

        const { client } = await connectDevice(sim, { tls: true, cert: result.credentials.certificate + result.credentials.chain, key: csr.keyPem });
        await client.endAsync();
        assert.equal(device(`csr-${kind}`).credentials.credentialsId, result.credentials.credentialsId);
      });
    }

    it('with a store: certificate, chain and credentials.json are saved, no private key (the device has it)', async function () {
      const csr = deviceCsr(pki.dir, 'csr-store', 'acme-csr-stored');
      const storeDir = tempDir();
      const result = await provisionDevice(chainOptions({ csr: csr.csrPem, storeDir }));
      assert.deepEqual(fs.readdirSync(result.stored.dir).sort(), ['certificate.pem', 'chain.pem', 'credentials.json']);
      assert.deepEqual(fs.readdirSync(path.join(storeDir, '.pending')), []);
      fs.rmSync(storeDir, { recursive: true, force: true });
    });

    it('commonName overrides the CSR CN; a CSR whose signature does not verify is refused (INVALID_INPUT csr)', async function () {
      const csr = deviceCsr(pki.dir, 'csr-cn', 'ignored-cn');
      const result = await provisionDevice(chainOptions({ csr: csr.csrPem, commonName: 'acme-chosen' }));
      assert.equal(new crypto.X509Certificate(result.credentials.certificate).subject, 'CN=acme-chosen');
      const der = Buffer.from(csr.csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
      der[der.length - 5] ^= 0x01;
      const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
      const error = await rejectsWith(provisionDevice(chainOptions({ csr: tampered })), 'INVALID_INPUT');
      assert.equal(error.details.field, 'csr');
    });

    it('key policy: a CSR for a key a given private key may not be (RSA < 2048, e = 3, P-192, secp256k1, brainpool, RSA-PSS, DSA) is refused naming the key', async function () {
      const key = (type, options) => crypto.generateKeyPairSync(type, options).privateKey;
      const cases = [
        [openssl(['req', '-newkey', 'rsa:1024', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=acme-weak', '-out', '-']).toString(), /RSA 1024-bit/],
        [craftCsr(key('rsa', { modulusLength: 512 })), /RSA 512-bit/],
        [craftCsr(key('rsa', { modulusLength: 2048, publicExponent: 3 })), /RSA 2048-bit with exponent 3/],
        [craftCsr(key('ec', { namedCurve: 'prime192v1' }), { algorithm: '1.2.840.10045.4.3.2' }), /EC prime192v1/],
        [craftCsr(key('ec', { namedCurve: 'secp256k1' }), { algorithm: '1.2.840.10045.4.3.2' }), /EC secp256k1/],
        [craftCsr(key('ec', { namedCurve: 'brainpoolP256r1' }), { algorithm: '1.2.840.10045.4.3.2' }), /EC brainpoolP256r1/],
        [craftCsr(key('rsa-pss', { modulusLength: 2048 })), /RSA-PSS 2048-bit/],
        [craftCsr(key('dsa', { modulusLength: 2048, divisorLength: 256 })), /DSA/],
      ];
      for (const [csr, named] of cases) {
        const error = await rejectsWith(provisionDevice(chainOptions({ csr, commonName: 'acme-weak' })), 'INVALID_INPUT');
        assert.equal(error.details.field, 'csr');
        assert.match(error.message, named);
        assert.match(error.message, /RSA \(2048 bits or more, exponent 65537\) or EC P-256\/P-384/);
      }
      // An accepted key whose CSR claims the other family's signature algorithm (ECDSA signature labelled sha256WithRSA).
      const mislabelled = craftCsr(key('ec', { namedCurve: 'prime256v1' }), { algorithm: '1.2.840.113549.1.1.11' });
      const error = await rejectsWith(provisionDevice(chainOptions({ csr: mislabelled, commonName: 'acme-weak' })), 'INVALID_INPUT');
      assert.match(error.message, /claims sha256WithRSAEncryption but its key is EC prime256v1/);
      // The crafted CSRs themselves are sound: the same builder with a P-256 key and its own algorithm is issued.
      const sound = craftCsr(key('ec', { namedCurve: 'prime256v1' }), { algorithm: '1.2.840.10045.4.3.2', commonName: 'acme-crafted' });
      assert.equal((await provisionDevice(chainOptions({ csr: sound }))).deviceName, 'acme-crafted');
    });

    it('a validly signed CSR whose subject is malformed (not a name, an attribute without OID or value) is INVALID_INPUT, not a TypeError', async function () {
      const key = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
      const subjects = [
        tlv(0x30, tlv(0x31, tlv(0x02, Buffer.from([1])))), // a SET holding an INTEGER
        tlv(0x30, tlv(0x30, tlv(0x02, Buffer.from([1])))), // a SEQUENCE where the SET goes
        tlv(0x30, tlv(0x31, tlv(0x30, tlv(0x0c, Buffer.from('x'))))), // an attribute without its OID
        tlv(0x30, tlv(0x31, tlv(0x30, oidDer('2.5.4.3')))), // a CN without its value
        tlv(0x02, Buffer.from([1])), // an INTEGER for the whole name
      ];
      for (const subject of subjects) {
        const csr = craftCsr(key, { subject, algorithm: '1.2.840.10045.4.3.2' });
        const error = await rejectsWith(provisionDevice(chainOptions({ csr, commonName: 'acme-odd' })), 'INVALID_INPUT');
        assert.equal(error.details.field, 'csr');
        assert.match(error.message, /subject is not a well-formed X.500 name/);
      }
    });

    it('interop: openssl s_client presenting a certificate issued here (leaf + chain) gets CONNACK 0 and the device is created', async function () {
      const csr = deviceCsr(pki.dir, 'csr-sclient', 'acme-sclient');
      const result = await provisionDevice(chainOptions({ csr: csr.csrPem }));
      const dir = tempDir();
      const files = { cert: path.join(dir, 'leaf.pem'), chain: path.join(dir, 'chain.pem'), ca: path.join(dir, 'ca.pem') };
      fs.writeFileSync(files.cert, result.credentials.certificate);
      fs.writeFileSync(files.chain, result.credentials.chain);
      fs.writeFileSync(files.ca, sim.caPem);
      const child = spawn(
        'openssl',
        [
          's_client',
          '-connect',
          `127.0.0.1:${sim.mqttsPort}`,
          '-servername',
          'localhost',
          '-CAfile',
          files.ca,
          '-verify_return_error',
          '-cert',
          files.cert,
          '-cert_chain',
          files.chain,
          '-key',
          csr.keyFile,
          '-quiet',
        ],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      const received = [];
      const connack = new Promise((resolve) => {
        child.stdout.on('data', (chunk) => {
          received.push(chunk);
          if (Buffer.concat(received).length >= 4) resolve(Buffer.concat(received).subarray(0, 4));
        });
        child.once('exit', () => resolve(Buffer.concat(received)));
      });
      child.stdin.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 's-client', clean: true, keepalive: 30 }));
      const bytes = await connack;
      child.stdin.end();
      child.kill();
      fs.rmSync(dir, { recursive: true, force: true });
      assert.deepEqual([...bytes], [0x20, 0x02, 0x00, 0x00]);
      assert.equal(device('sclient').credentials.credentialsId, result.credentials.credentialsId);
    });
  });
});
