'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { provisionDevice, resumePending, certificateCredentialsId } = require('../../nodes/provisioning');
const { unusedPort } = require('../helpers/faults');
const { startSim, options, tlsServer, uniqueName, rejectsWith, tempDir, mode } = require('./support');

const SHORT = { answerTimeoutMs: 400 };

describe('resumePending: finishing requests whose answer was lost', function () {
  this.timeout(60_000);
  let sim;
  let dir;
  before(async () => {
    sim = await startSim();
  });
  after(() => sim.stop());
  beforeEach(() => {
    dir = tempDir('gl-resume-');
  });
  afterEach(() => {
    sim.setFaults({});
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Provisions with a fault that loses the answer; returns the OUTCOME_UNKNOWN error. */
  async function lostAnswer(fault, extra) {
    sim.setFaults(fault);
    try {
      return await rejectsWith(provisionDevice(options(sim, { storeDir: dir, ...extra, server: SHORT })), 'OUTCOME_UNKNOWN');
    } finally {
      sim.setFaults({});
    }
  }

  const pendingNames = () => fs.readdirSync(path.join(dir, '.pending')).filter((name) => !name.startsWith('.'));

  it('two resumes at once: each entry is settled by one of them; the other says another process settled it (no "undefined", no advice to save by hand)', async () => {
    const names = [];
    for (let i = 0; i < 8; i++) {
      const deviceName = uniqueName(`twice-${i}`);
      names.push(deviceName);
      await lostAnswer({ noAnswer: true }, { deviceName, credentialsType: 'ACCESS_TOKEN', token: `twice-token-${i}-${Date.now()}` });
    }
    const [first, second] = await Promise.all([
      resumePending({ server: tlsServer(sim), storeDir: dir }),
      resumePending({ server: tlsServer(sim), storeDir: dir }),
    ]);
    const reports = [...first.entries, ...second.entries];
    for (const report of reports) {
      assert.ok(['provisioned', 'settled-elsewhere'].includes(report.outcome), `${report.outcome}: ${report.message}`);
      assert.doesNotMatch(report.message, /undefined|by hand/);
    }
    for (const deviceName of names) {
      assert.ok(
        reports.some((report) => report.deviceName === deviceName && report.outcome === 'provisioned'),
        `${deviceName} committed by one run`,
      );
    }
    assert.deepEqual(pendingNames(), []);
  });

  it('X.509, device created, answer lost: the pending record holds the certificate and server (0600) and a resume commits the device', async () => {
    const deviceName = uniqueName('lost');
    const error = await lostAnswer({ noAnswer: true }, { deviceName, keyAlgorithm: 'p256' });
    const created = sim.devices().find((device) => device.name === deviceName);
    assert.ok(created, 'the server created the device');
    assert.equal(mode(error.details.pendingPath), 0o600);
    assert.equal(mode(error.details.pendingKeyPath), 0o600);
    const record = JSON.parse(fs.readFileSync(error.details.pendingPath, 'utf8'));
    assert.equal(record.deviceName, deviceName);
    assert.equal(record.credentialsType, 'X509_CERTIFICATE');
    assert.deepEqual(record.server, { host: '127.0.0.1', port: sim.mqttsPort, tls: true });
    assert.equal(certificateCredentialsId(record.certificate), created.credentials.credentialsId);
    assert.ok(!JSON.stringify(record).includes('PRIVATE KEY'), 'the key is in its own file');
    assert.match(error.message, /resume/);
    const pendingKey = fs.readFileSync(error.details.pendingKeyPath, 'utf8');

    const summary = await resumePending({ server: tlsServer(sim), storeDir: dir });
    assert.equal(summary.entries.length, 1);
    const [report] = summary.entries;
    assert.equal(report.outcome, 'provisioned', report.message);
    assert.equal(report.deviceName, deviceName);
    assert.equal(report.result.credentials.credentialsId, created.credentials.credentialsId);
    const deviceDir = path.join(dir, deviceName);
    assert.equal(report.result.stored.dir, deviceDir);
    assert.equal(fs.readFileSync(path.join(deviceDir, 'private-key.pem'), 'utf8'), pendingKey);
    assert.equal(fs.readFileSync(path.join(deviceDir, 'certificate.pem'), 'utf8'), record.certificate);
    const stored = JSON.parse(fs.readFileSync(path.join(deviceDir, 'credentials.json'), 'utf8'));
    assert.equal(stored.credentials.credentialsId, created.credentials.credentialsId);
    for (const file of fs.readdirSync(deviceDir)) assert.equal(mode(path.join(deviceDir, file)), 0o600);
    assert.deepEqual(pendingNames(), []);

    // Now the same name is answered from the store, nothing sent.
    const devices = sim.devices().length;
    const again = await provisionDevice(options(sim, { deviceName, keyAlgorithm: 'p256', storeDir: dir }));
    assert.equal(again.fromStore, true);
    assert.equal(again.credentials.credentialsId, created.credentials.credentialsId);
    assert.equal(sim.devices().length, devices);
  });

  it('ACCESS_TOKEN and MQTT_BASIC chosen by the client: resumed by a login with those credentials', async () => {
    const tokenName = uniqueName('tok');
    const basicName = uniqueName('bas');
    await lostAnswer({ noAnswer: true }, { deviceName: tokenName, credentialsType: 'ACCESS_TOKEN', token: `t-${tokenName}` });
    await lostAnswer(
      { noAnswer: true },
      { deviceName: basicName, credentialsType: 'MQTT_BASIC', clientId: `c-${basicName}`, username: `u-${basicName}`, password: 'pw' },
    );
    const { entries } = await resumePending({ server: tlsServer(sim), storeDir: dir });
    const byName = Object.fromEntries(entries.map((entry) => [entry.deviceName, entry]));
    assert.equal(byName[tokenName].outcome, 'provisioned', byName[tokenName].message);
    assert.deepEqual(byName[tokenName].result.credentials, { accessToken: `t-${tokenName}` });
    assert.equal(byName[basicName].outcome, 'provisioned', byName[basicName].message);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, basicName, 'credentials.json'), 'utf8')).credentials.password, 'pw');
    assert.deepEqual(pendingNames(), []);
  });

  it('device never created (connection closed on the request): moved to .pending/.not-created, never deleted; provisioning again then works', async () => {
    const deviceName = uniqueName('never');
    const tokenName = uniqueName('never-tok');
    await lostAnswer({ closeAfterRequest: true }, { deviceName, keyAlgorithm: 'p256' });
    await lostAnswer({ closeAfterRequest: true }, { deviceName: tokenName, credentialsType: 'ACCESS_TOKEN', token: `t-${tokenName}` });
    assert.equal(
      sim.devices().some((device) => device.name === deviceName || device.name === tokenName),
      false,
    );
    const { entries } = await resumePending({ server: { ...tlsServer(sim), protocolVersion: 5 }, storeDir: dir });
    for (const report of entries) {
      assert.equal(report.outcome, 'not-created', report.message);
      assert.equal(report.returnCode, report.credentialsType === 'X509_CERTIFICATE' ? 0x87 : 0x86);
      for (const file of report.movedTo) assert.equal(path.dirname(file), path.join(dir, '.pending', '.not-created'));
    }
    assert.deepEqual(pendingNames(), []);
    assert.deepEqual(
      fs.readdirSync(path.join(dir, '.pending', '.not-created')).sort(),
      [`${deviceName}.json`, `${deviceName}.key.pem`, `${tokenName}.json`].sort(),
    );
    const result = await provisionDevice(options(sim, { deviceName, keyAlgorithm: 'p256', storeDir: dir }));
    assert.equal(result.fromStore, undefined);
    assert.ok(result.stored);
  });

  it('server-generated credentials cannot be resumed; an unreachable server leaves entries unknown; both stay pending', async () => {
    const generated = uniqueName('gen');
    await lostAnswer({ noAnswer: true }, { deviceName: generated, credentialsType: 'ACCESS_TOKEN' });
    const x509 = uniqueName('unreach');
    await lostAnswer({ noAnswer: true }, { deviceName: x509, keyAlgorithm: 'p256' });
    const { entries } = await resumePending({ server: { ...tlsServer(sim), port: await unusedPort(), connectTimeoutMs: 2000 }, storeDir: dir });
    const byName = Object.fromEntries(entries.map((entry) => [entry.deviceName, entry]));
    assert.equal(byName[generated].outcome, 'cannot-resume');
    assert.match(byName[generated].message, /generate the credentials/);
    assert.equal(byName[x509].outcome, 'unknown');
    assert.deepEqual(pendingNames().sort(), [`${generated}.json`, `${x509}.json`, `${x509}.key.pem`].sort());
    // A new attempt for a waiting name is refused, pointing at resume.
    const retry = await rejectsWith(provisionDevice(options(sim, { deviceName: x509, keyAlgorithm: 'p256', storeDir: dir })), 'STORE');
    assert.match(retry.message, /resume/);
    // With the right server it settles.
    const second = await resumePending({ server: tlsServer(sim), storeDir: dir });
    assert.equal(second.entries.find((entry) => entry.deviceName === x509).outcome, 'provisioned');
  });

  it('tampered records: pid 1 with settledBy in 9999 is not in progress for ever, a pid started after the record is not its writer, a corrupt record is named as such', async () => {
    const { spawn } = require('node:child_process');
    const forever = uniqueName('forever');
    await lostAnswer({ noAnswer: true }, { deviceName: forever, keyAlgorithm: 'p256' });
    const younger = uniqueName('younger');
    await lostAnswer({ noAnswer: true }, { deviceName: younger, keyAlgorithm: 'p256' });
    const corrupt = uniqueName('corrupt');
    await lostAnswer({ noAnswer: true }, { deviceName: corrupt, keyAlgorithm: 'p256' });
    const future = uniqueName('future');
    await lostAnswer({ noAnswer: true }, { deviceName: future, keyAlgorithm: 'p256' });
    const edit = (name, change) => {
      const file = path.join(dir, '.pending', `${name}.json`);
      fs.writeFileSync(file, change(fs.readFileSync(file, 'utf8')));
    };
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    edit(forever, (text) => JSON.stringify({ ...JSON.parse(text), pid: 1, createdAt: hourAgo, settledBy: '9999-12-31T00:00:00.000Z' }));
    // Written "in an hour" by a live pid: a tampered or copied record, not a run that still goes.
    const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
    edit(future, (text) => JSON.stringify({ ...JSON.parse(text), pid: 1, createdAt: inAnHour, settledBy: '9999-12-31T00:00:00.000Z' }));
    // A live process that started after the record was written cannot have sent it (pid reused).
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const tenSecondsAgo = new Date(Date.now() - 10_000).toISOString();
      edit(younger, (text) =>
        JSON.stringify({ ...JSON.parse(text), pid: child.pid, createdAt: tenSecondsAgo, settledBy: new Date(Date.now() + 60_000).toISOString() }),
      );
      edit(corrupt, (text) => text.slice(0, 20));
      const { entries } = await resumePending({ server: tlsServer(sim), storeDir: dir });
      const byName = Object.fromEntries(entries.map((entry) => [entry.entry, entry]));
      assert.equal(byName[forever].outcome, 'provisioned', byName[forever].message);
      assert.equal(byName[future].outcome, 'provisioned', byName[future].message);
      if (process.platform === 'linux') assert.equal(byName[younger].outcome, 'provisioned', byName[younger].message);
      assert.equal(byName[corrupt].outcome, 'cannot-resume');
      assert.doesNotMatch(byName[corrupt].message, /Only a private key is kept/);
      assert.match(byName[corrupt].message, /cannot be read \(it is not a complete record/);
    } finally {
      child.kill();
    }
  });

  it('a run killed between the commit and removing the pending files: resume finds it committed and removes the pending copy', async () => {
    const deviceName = uniqueName('both');
    const error = await lostAnswer({ noAnswer: true }, { deviceName, keyAlgorithm: 'p256' });
    const saved = { record: fs.readFileSync(error.details.pendingPath), key: fs.readFileSync(error.details.pendingKeyPath) };
    await resumePending({ server: tlsServer(sim), storeDir: dir });
    fs.writeFileSync(error.details.pendingPath, saved.record, { mode: 0o600 });
    fs.writeFileSync(error.details.pendingKeyPath, saved.key, { mode: 0o600 });
    const { entries } = await resumePending({ server: tlsServer(sim), storeDir: dir });
    assert.equal(entries[0].outcome, 'provisioned');
    assert.match(entries[0].message, /Already committed/);
    assert.deepEqual(pendingNames(), []);
  });
});
