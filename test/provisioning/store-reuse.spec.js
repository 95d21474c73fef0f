'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { provisionDevice } = require('../../nodes/provisioning');
const { countingProxy } = require('../helpers/session-counter');
const { startSim, options, uniqueName, rejectsWith, tempDir } = require('./support');

describe('credential store as the source of truth: ifStored', function () {
  this.timeout(60_000);
  let sim;
  let proxy;
  let dir;
  before(async () => {
    sim = await startSim();
    proxy = await countingProxy(sim.mqttsPort);
  });
  after(async () => {
    await proxy.close();
    await sim.stop();
  });
  beforeEach(() => {
    dir = tempDir('gl-reuse-');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const viaProxy = (extra) => options(sim, { ...extra, server: { port: proxy.port, servername: 'localhost' } });

  for (const [label, extra] of [
    ['X.509', { keyAlgorithm: 'p256' }],
    ['ACCESS_TOKEN', { credentialsType: 'ACCESS_TOKEN' }],
    ['MQTT_BASIC', { credentialsType: 'MQTT_BASIC', clientId: 'c-reuse', username: 'u-reuse', password: 'p' }],
  ]) {
    it(`reuse (default), ${label}: a stored device is answered from the store with fromStore: true and no connection at all`, async () => {
      const deviceName = uniqueName('reuse');
      const first = await provisionDevice(
        viaProxy({ deviceName, storeDir: dir, ...extra, ...(extra.username ? { username: `${extra.username}-${deviceName}` } : {}) }),
      );
      assert.equal(first.fromStore, undefined);
      const devices = sim.devices().length;
      const connections = proxy.connections();

      const again = await provisionDevice(
        viaProxy({ deviceName, storeDir: dir, ...extra, ...(extra.username ? { username: `${extra.username}-${deviceName}` } : {}) }),
      );
      assert.equal(proxy.connections(), connections, 'no connection was opened');
      assert.equal(sim.devices().length, devices);
      assert.equal(again.fromStore, true);
      assert.equal(again.deviceName, deviceName);
      assert.equal(again.credentialsType, first.credentialsType);
      assert.deepEqual(again.credentials, first.credentials);
      assert.deepEqual(again.stored, first.stored);
      assert.deepEqual(again.server, first.server);
      assert.deepEqual(again.connectOptions, first.connectOptions);
    });
  }

  it("ifStored 'fail' keeps the STORE refusal, nothing sent", async () => {
    const deviceName = uniqueName('fail');
    await provisionDevice(viaProxy({ deviceName, storeDir: dir, credentialsType: 'ACCESS_TOKEN' }));
    const connections = proxy.connections();
    const error = await rejectsWith(provisionDevice(viaProxy({ deviceName, storeDir: dir, credentialsType: 'ACCESS_TOKEN', ifStored: 'fail' })), 'STORE');
    assert.equal(error.details.requestSent, false);
    assert.match(error.message, /never overwritten/);
    assert.equal(proxy.connections(), connections);
  });

  it('a stored folder whose credentials cannot be read is STORE, not a new provisioning', async () => {
    const deviceName = uniqueName('broken');
    fs.mkdirSync(path.join(dir, deviceName));
    fs.writeFileSync(path.join(dir, deviceName, 'credentials.json'), '{"mine":');
    const connections = proxy.connections();
    const error = await rejectsWith(provisionDevice(viaProxy({ deviceName, storeDir: dir, credentialsType: 'ACCESS_TOKEN' })), 'STORE');
    assert.match(error.message, /cannot be read/);
    assert.equal(proxy.connections(), connections);
  });

  it('the one reader of stored entries: a file name that leaves the folder, or a file over 1 MiB, is STORE naming the device, nothing sent', async () => {
    const deviceName = uniqueName('escape');
    await provisionDevice(viaProxy({ deviceName, storeDir: dir, keyAlgorithm: 'p256' }));
    const entry = path.join(dir, deviceName);
    const record = JSON.parse(fs.readFileSync(path.join(entry, 'credentials.json'), 'utf8'));
    const connections = proxy.connections();

    fs.writeFileSync(
      path.join(entry, 'credentials.json'),
      JSON.stringify({ ...record, credentials: { ...record.credentials, privateKeyFile: '../../key.pem' } }),
    );
    const escaping = await rejectsWith(provisionDevice(viaProxy({ deviceName, storeDir: dir, keyAlgorithm: 'p256' })), 'STORE');
    assert.equal(escaping.details.deviceName, deviceName);
    assert.ok(escaping.message.includes(`device "${deviceName}"`) && /not a file in that folder/.test(escaping.message), escaping.message);

    fs.writeFileSync(path.join(entry, 'credentials.json'), JSON.stringify(record));
    fs.appendFileSync(path.join(entry, record.credentials.certificateFile), Buffer.alloc(1024 * 1024, 0x20));
    const large = await rejectsWith(provisionDevice(viaProxy({ deviceName, storeDir: dir, keyAlgorithm: 'p256' })), 'STORE');
    assert.equal(large.details.reason, 'EFBIG');
    assert.equal(proxy.connections(), connections);
  });

  it('ifStored must be reuse or fail', async () => {
    await rejectsWith(provisionDevice(viaProxy({ deviceName: 'x', storeDir: dir, ifStored: 'overwrite' })), 'INVALID_INPUT');
  });
});
