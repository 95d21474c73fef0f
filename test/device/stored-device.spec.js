'use strict';
// Devices read from the credential store (src/device/stored-device.ts), as provisionDevice wrote them,
// and a device from X.509 chain provisioning whose session sends the chain after its certificate.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startTestSimulator, DEFAULT_PROFILE } = require('../helpers/simulator');
const { tempDir } = require('../helpers/faults');
const { provisionDevice, validateServer, entryNameForDevice } = require('../../nodes/provisioning');
const { readStoredDevice, rereadStoredDevice, ConnectionPool, POOL_DEFAULTS, buildDeviceAction, sessionOptions } = require('../../nodes/device');
const { makeFleetPki } = require('../helpers/chain-pki');

describe('devices from the credential store', function () {
  let sim;
  let storeDir;
  let serverOptions;
  before(async function () {
    sim = await startTestSimulator();
    storeDir = tempDir('device-store-read');
    serverOptions = { host: sim.host, port: sim.mqttsPort, tls: true, ca: sim.caPem, servername: 'localhost' };
  });
  after(async function () {
    await sim.stop();
  });

  async function provision(deviceName, fields) {
    return provisionDevice({
      server: serverOptions,
      provisionDeviceKey: DEFAULT_PROFILE.provisionDeviceKey,
      provisionDeviceSecret: DEFAULT_PROFILE.provisionDeviceSecret,
      deviceName,
      storeDir,
      ...fields,
    });
  }

  it('reads X.509 (certificate and key files), access-token and MQTT basic devices as provisionDevice stored them', async function () {
    const x509 = await provision('store/x509 één', { credentialsType: 'X509_CERTIFICATE', keyAlgorithm: 'p256' });
    const token = await provision('store-token', { credentialsType: 'ACCESS_TOKEN' });
    const basic = await provision('store-basic', { credentialsType: 'MQTT_BASIC', clientId: 'store-basic-c', username: 'store-basic-u', password: 'pw' });

    const readX509 = await readStoredDevice(storeDir, 'store/x509 één');
    assert.equal(readX509.credentialsType, 'X509_CERTIFICATE');
    assert.equal(readX509.credentials.certificate, x509.credentials.certificate);
    assert.equal(readX509.credentials.privateKey, x509.credentials.privateKey);
    assert.deepEqual((await readStoredDevice(storeDir, 'store-token')).credentials, token.credentials);
    assert.deepEqual((await readStoredDevice(storeDir, 'store-basic')).credentials, basic.credentials);
  });

  it('an unknown device, a missing key, or a file name that leaves the device folder is STORE naming the device', async function () {
    await assert.rejects(
      readStoredDevice(storeDir, 'not-there'),
      (error) => error.code === 'STORE' && error.details.deviceName === 'not-there' && /not-there/.test(error.message),
    );
    await provision('store-nokey', { credentialsType: 'X509_CERTIFICATE', keyAlgorithm: 'p256' });
    const dir = path.join(storeDir, entryNameForDevice('store-nokey'));
    const record = JSON.parse(fs.readFileSync(path.join(dir, 'credentials.json'), 'utf8'));
    fs.writeFileSync(
      path.join(dir, 'credentials.json'),
      JSON.stringify({ ...record, credentials: { ...record.credentials, certificateFile: '../../etc/passwd' } }),
    );
    await assert.rejects(readStoredDevice(storeDir, 'store-nokey'), (error) => error.code === 'STORE' && /incomplete/.test(error.message));
    const { privateKeyFile, ...withoutKey } = record.credentials;
    assert.equal(privateKeyFile, 'private-key.pem');
    fs.writeFileSync(path.join(dir, 'credentials.json'), JSON.stringify({ ...record, credentials: withoutKey }));
    await assert.rejects(readStoredDevice(storeDir, 'store-nokey'), (error) => error.code === 'STORE' && /no private key/.test(error.message));
  });

  it('read again before a login: the stored files; not while a live run renews the folder (the leftovers of a dead or old run do not hold it); a key that does not belong to the certificate is STORE', async function () {
    const stored = await provision('store-reread', { credentialsType: 'X509_CERTIFICATE', keyAlgorithm: 'p256' });
    const other = await provision('store-reread-other', { credentialsType: 'X509_CERTIFICATE', keyAlgorithm: 'p256' });
    const dir = path.join(storeDir, entryNameForDevice('store-reread'));
    assert.equal((await rereadStoredDevice(storeDir, 'store-reread')).credentials.certificate, stored.credentials.certificate);

    // A renewal begun by a live process (the one that started this test run): the next certificate may be GridLinks' already.
    fs.writeFileSync(path.join(dir, 'certificate.next.pem'), other.credentials.certificate);
    const record = (createdAt) => JSON.stringify({ version: 1, pid: process.ppid, createdAt, newKey: false });
    fs.writeFileSync(path.join(dir, 'renewal.json'), record(new Date().toISOString()));
    assert.equal(await rereadStoredDevice(storeDir, 'store-reread'), undefined);
    fs.writeFileSync(path.join(dir, 'renewal.json'), record(new Date(Date.now() - 3_600_000).toISOString()));
    assert.equal((await rereadStoredDevice(storeDir, 'store-reread')).credentials.certificate, stored.credentials.certificate);
    fs.rmSync(path.join(dir, 'certificate.next.pem'));
    fs.rmSync(path.join(dir, 'renewal.json'));

    // A new key next to the old certificate (a swap cut by a crash): STORE, the session keeps the identity it had.
    fs.writeFileSync(path.join(dir, 'private-key.pem'), other.credentials.privateKey);
    await assert.rejects(rereadStoredDevice(storeDir, 'store-reread'), (error) => error.code === 'STORE' && /does not belong/.test(error.message));
    fs.writeFileSync(path.join(dir, 'private-key.pem'), stored.credentials.privateKey);
    assert.equal((await rereadStoredDevice(storeDir, 'store-reread')).credentials.privateKey, stored.credentials.privateKey);
  });

  it('a device from X.509 chain provisioning: its stored chain file is sent after the certificate, and it publishes', async function () {
    const pki = makeFleetPki();
    const chainSim = await startTestSimulator({
      mqttPort: null,
      profiles: [{ name: 'fleet', strategy: 'X509_CERTIFICATE_CHAIN', caCertificate: pki.fleet.certPem }],
    });
    const pool = new ConnectionPool(
      {
        ...POOL_DEFAULTS,
        server: validateServer({ host: chainSim.host, port: chainSim.mqttsPort, tls: true, ca: chainSim.caPem, servername: 'localhost' }),
        receive: false,
      },
      { incoming: () => {}, changed: () => {} },
    );
    try {
      const result = await provisionDevice({
        server: { host: chainSim.host, port: chainSim.mqttsPort, tls: true, ca: chainSim.caPem, servername: 'localhost' },
        credentialsType: 'X509_CERTIFICATE_CHAIN',
        signerCertificate: pki.fleet.certPem,
        signerKey: pki.fleet.keyPem,
        commonName: 'chain-meter-1',
        keyAlgorithm: 'p256',
        storeDir,
      });
      const identity = await readStoredDevice(storeDir, result.deviceName);
      assert.equal(identity.credentials.chain, pki.fleet.certPem);
      const options = sessionOptions(validateServer({ host: chainSim.host, port: chainSim.mqttsPort }), identity);
      assert.equal((options.cert.match(/BEGIN CERTIFICATE/g) || []).length, 2);
      await pool.send(identity, buildDeviceAction('telemetry', { chained: true }, undefined, identity.deviceName));
      assert.deepEqual(
        chainSim.telemetry(result.deviceName).map((r) => r.payload),
        [{ chained: true }],
      );
    } finally {
      await pool.close();
      await chainSim.stop();
      pki.remove();
    }
  });
});
