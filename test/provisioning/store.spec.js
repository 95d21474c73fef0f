'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { provisionDevice, entryNameForDevice } = require('../../nodes/provisioning');
const { startSim, options, uniqueName, rejectsWith, tempDir, mode, leakedSince, resourceBaseline } = require('./support');

const pendingFiles = (dir) => (fs.existsSync(path.join(dir, '.pending')) ? fs.readdirSync(path.join(dir, '.pending')) : []);

describe('provisioning credential store', function () {
  this.timeout(60_000);
  let sim;
  let dir;
  before(async () => {
    sim = await startSim();
  });
  after(() => sim.stop());
  beforeEach(() => {
    dir = tempDir('gl-store-');
  });
  afterEach(() => {
    sim.setFaults({});
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('SUCCESS (X.509): certificate, key and credentials.json committed 0600 in the device folder; no pending key left', async () => {
    const deviceName = uniqueName('store');
    const result = await provisionDevice(options(sim, { deviceName, keyAlgorithm: 'p256', storeDir: dir }));
    const deviceDir = path.join(dir, deviceName);
    assert.deepEqual(result.stored, {
      dir: deviceDir,
      files: ['certificate.pem', 'private-key.pem', 'credentials.json'].map((file) => path.join(deviceDir, file)),
    });
    for (const file of result.stored.files) assert.equal(mode(file), 0o600, file);
    assert.equal(mode(deviceDir), 0o700);
    assert.equal(fs.readFileSync(path.join(deviceDir, 'certificate.pem'), 'utf8'), result.credentials.certificate);
    assert.equal(fs.readFileSync(path.join(deviceDir, 'private-key.pem'), 'utf8'), result.credentials.privateKey);
    const record = JSON.parse(fs.readFileSync(path.join(deviceDir, 'credentials.json'), 'utf8'));
    assert.equal(record.deviceName, deviceName);
    assert.equal(record.credentialsType, 'X509_CERTIFICATE');
    assert.deepEqual(record.credentials, {
      credentialsId: result.credentials.credentialsId,
      certificateFile: 'certificate.pem',
      privateKeyFile: 'private-key.pem',
    });
    assert.deepEqual(record.server, result.server);
    assert.deepEqual(pendingFiles(dir), []);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['.pending', deviceName].sort(), 'no temporary folders left');
  });

  it('SUCCESS (token, basic): credentials.json holds the credentials', async () => {
    const tokenName = uniqueName('st');
    await provisionDevice(options(sim, { deviceName: tokenName, credentialsType: 'ACCESS_TOKEN', storeDir: dir }));
    const tokenRecord = JSON.parse(fs.readFileSync(path.join(dir, tokenName, 'credentials.json'), 'utf8'));
    assert.match(tokenRecord.credentials.accessToken, /^[A-Za-z0-9]{20}$/);
    const basicName = uniqueName('sb');
    await provisionDevice(options(sim, { deviceName: basicName, credentialsType: 'MQTT_BASIC', username: uniqueName('u'), password: 'pw', storeDir: dir }));
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, basicName, 'credentials.json'), 'utf8')).credentials.password, 'pw');
  });

  it('server-generated names: entries named from the credentials id, never from the secret token', async () => {
    const x509 = await provisionDevice(options(sim, { keyAlgorithm: 'p256', storeDir: dir }));
    assert.equal(path.basename(x509.stored.dir), `@x509-${x509.credentials.credentialsId.slice(0, 16)}`);
    const token = await provisionDevice(options(sim, { credentialsType: 'ACCESS_TOKEN', storeDir: dir }));
    assert.match(path.basename(token.stored.dir), /^@token-[0-9a-f]{16}$/);
    assert.ok(!token.stored.dir.includes(token.credentials.accessToken));
  });

  it('device names become safe, distinct folder names', () => {
    assert.equal(entryNameForDevice('pump-1.A_b'), 'pump-1.A_b');
    assert.equal(entryNameForDevice('a/b'), 'a%2Fb');
    assert.notEqual(entryNameForDevice('a/b'), entryNameForDevice('a_b'));
    assert.equal(entryNameForDevice('..'), '%2E.');
    assert.equal(entryNameForDevice('é'), '%C3%A9');
    assert.ok(entryNameForDevice('x'.repeat(255)).length <= 180);
    assert.notEqual(entryNameForDevice(`${'x'.repeat(250)}1`), entryNameForDevice(`${'x'.repeat(250)}2`));
  });

  it("never overwrites: with ifStored 'fail', existing credentials for the device name are refused with STORE before anything is sent", async () => {
    const deviceName = uniqueName('twice');
    fs.mkdirSync(path.join(dir, deviceName));
    fs.writeFileSync(path.join(dir, deviceName, 'credentials.json'), '{"mine":true}');
    const before = sim.devices().length;
    const error = await rejectsWith(provisionDevice(options(sim, { deviceName, keyAlgorithm: 'p256', storeDir: dir, ifStored: 'fail' })), 'STORE');
    assert.equal(error.details.requestSent, false);
    assert.equal(sim.devices().length, before, 'nothing was sent');
    assert.equal(fs.readFileSync(path.join(dir, deviceName, 'credentials.json'), 'utf8'), '{"mine":true}');
    assert.deepEqual(pendingFiles(dir), []);
  });

  it('OUTCOME_UNKNOWN (connection killed after the publish): the pending key is kept 0600 and its path is in the error', async () => {
    sim.setFaults({ closeAfterRequest: true });
    const deviceName = uniqueName('killed');
    const error = await rejectsWith(provisionDevice(options(sim, { deviceName, keyAlgorithm: 'p256', storeDir: dir })), 'OUTCOME_UNKNOWN');
    const keyPath = error.details.pendingKeyPath;
    assert.equal(keyPath, path.join(dir, '.pending', `${deviceName}.key.pem`));
    assert.ok(error.message.includes(keyPath));
    assert.equal(mode(keyPath), 0o600);
    crypto.createPrivateKey(fs.readFileSync(keyPath)); // a usable key
    assert.equal(fs.existsSync(path.join(dir, deviceName)), false);

    // A retry for the same device is refused until the user has looked at the kept key.
    sim.setFaults({});
    const retry = await rejectsWith(provisionDevice(options(sim, { deviceName, keyAlgorithm: 'p256', storeDir: dir })), 'STORE');
    assert.equal(retry.details.pendingKeyPath, keyPath);
    assert.equal(retry.details.requestSent, false);
  });

  it('NOT_FOUND, FAILURE and CONNECTION_CLOSED remove the pending key', async () => {
    await rejectsWith(
      provisionDevice(options(sim, { deviceName: uniqueName('nf'), keyAlgorithm: 'p256', storeDir: dir, provisionDeviceSecret: 'nope' })),
      'NOT_FOUND',
    );
    const taken = uniqueName('taken');
    await provisionDevice(options(sim, { deviceName: taken, credentialsType: 'ACCESS_TOKEN' }));
    await rejectsWith(provisionDevice(options(sim, { deviceName: taken, keyAlgorithm: 'p256', storeDir: dir })), 'FAILURE');
    sim.setFaults({ closeAfterPuback: true });
    await rejectsWith(provisionDevice(options(sim, { deviceName: uniqueName('cc'), keyAlgorithm: 'p256', storeDir: dir })), 'CONNECTION_CLOSED');
    assert.deepEqual(pendingFiles(dir), []);
    assert.deepEqual(fs.readdirSync(dir), ['.pending']);
  });

  it('a folder that appears for the device while the request is in flight is not overwritten: warning, key kept pending', async () => {
    const deviceName = uniqueName('race');
    sim.waitForLog(/provision SUCCESS/).then(() => {
      fs.mkdirSync(path.join(dir, deviceName));
      fs.writeFileSync(path.join(dir, deviceName, 'credentials.json'), '{"other":true}');
    });
    const result = await provisionDevice(options(sim, { deviceName, keyAlgorithm: 'p256', storeDir: dir }));
    assert.equal(result.stored, undefined);
    assert.match(result.warnings.join(' '), /could not be saved/);
    assert.ok(result.credentials.privateKey, 'the credentials are still in the result');
    assert.equal(fs.readFileSync(path.join(dir, deviceName, 'credentials.json'), 'utf8'), '{"other":true}');
    const pending = path.join(dir, '.pending', `${deviceName}.key.pem`);
    assert.equal(fs.readFileSync(pending, 'utf8'), result.credentials.privateKey);
    assert.ok(result.warnings.join(' ').includes(pending));
    assert.deepEqual(
      fs.readdirSync(dir).filter((name) => name.startsWith('.tmp-')),
      [],
      'temporary folder removed',
    );
  });

  it('STORE: a store folder that cannot be written fails before anything is sent', async () => {
    const file = path.join(dir, 'not-a-folder');
    fs.writeFileSync(file, 'x');
    const before = sim.devices().length;
    const baseline = await resourceBaseline();
    const error = await rejectsWith(provisionDevice(options(sim, { deviceName: uniqueName('ro'), keyAlgorithm: 'p256', storeDir: file })), 'STORE');
    assert.equal(error.details.requestSent, false);
    assert.equal(sim.devices().length, before);
    assert.deepEqual(await leakedSince(baseline), []);
  });
});
