'use strict';
// Devices read from the credential store (src/device/stored-device.ts), as provisionDevice wrote them,
// and an X.509 session that sends a chain after its certificate, against the simulator over TLS.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startTestSimulator, DEFAULT_PROFILE } = require('../helpers/simulator');
const { tempDir } = require('../helpers/faults');
const { provisionDevice, validateServer, entryNameForDevice } = require('../../nodes/provisioning');
const { readStoredDevice, ConnectionPool, POOL_DEFAULTS, buildDeviceAction } = require('../../nodes/device');

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
    await assert.rejects(readStoredDevice(storeDir, 'not-there'), (error) => error.code === 'STORE' && error.details.deviceName === 'not-there' && /not-there/.test(error.message));
    await provision('store-nokey', { credentialsType: 'X509_CERTIFICATE', keyAlgorithm: 'p256' });
    const dir = path.join(storeDir, entryNameForDevice('store-nokey'));
    const record = JSON.parse(fs.readFileSync(path.join(dir, 'credentials.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'credentials.json'), JSON.stringify({ ...record, credentials: { ...record.credentials, certificateFile: '../../etc/passwd' } }));
    await assert.rejects(readStoredDevice(storeDir, 'store-nokey'), (error) => error.code === 'STORE' && /incomplete/.test(error.message));
    const { privateKeyFile, ...withoutKey } = record.credentials;
    assert.equal(privateKeyFile, 'private-key.pem');
    fs.writeFileSync(path.join(dir, 'credentials.json'), JSON.stringify({ ...record, credentials: withoutKey }));
    await assert.rejects(readStoredDevice(storeDir, 'store-nokey'), (error) => error.code === 'STORE' && /no private key/.test(error.message));
  });

  it('a stored chain file is sent after the certificate; the session logs in as the leaf', async function () {
    const device = await provision('store-chain', { credentialsType: 'X509_CERTIFICATE', keyAlgorithm: 'p256' });
    const dir = path.join(storeDir, entryNameForDevice('store-chain'));
    const record = JSON.parse(fs.readFileSync(path.join(dir, 'credentials.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'chain.pem'), sim.caPem);
    fs.writeFileSync(path.join(dir, 'credentials.json'), JSON.stringify({ ...record, credentials: { ...record.credentials, chainFile: 'chain.pem' } }));
    const identity = await readStoredDevice(storeDir, 'store-chain');
    assert.equal(identity.credentials.chain, sim.caPem);

    const pool = new ConnectionPool({ ...POOL_DEFAULTS, server: validateServer(serverOptions), receive: false }, { incoming: () => {}, changed: () => {} });
    try {
      await pool.send(identity, buildDeviceAction('telemetry', { chained: true }, undefined, identity.deviceName));
    } finally {
      await pool.close();
    }
    assert.deepEqual(sim.telemetry(device.deviceName).map((r) => r.payload), [{ chained: true }]);
  });
});
