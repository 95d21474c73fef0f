'use strict';
// The outbox replayed through gridlinks-device's own session pool (src/device outboxPublisher) to the
// simulator: order and ts kept, attributes too; a device whose login the server refuses keeps its records.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { OUTBOX, openOutbox, outboxDir, telemetry, assertReadingsInOrder } = require('./support');
const { replayOutbox } = require(OUTBOX);
const { ConnectionPool, POOL_DEFAULTS, outboxPublisher } = require('../../nodes/device');
const { validateServer } = require('../../nodes/provisioning');
const { startTestSimulator, DEFAULT_PROFILE } = require('../helpers/simulator');

const GOOD = { deviceName: 'outbox-pool-dev', credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: 'outbox-pool-token' } };
const REFUSED = { deviceName: 'outbox-pool-unknown', credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: 'no-such-token' } };

describe('outbox: replay through the device pool', function () {
  this.timeout(30_000);
  let sim;
  let pool;
  let dir;
  let outbox;

  before(async () => {
    sim = await startTestSimulator({
      devices: [{ name: GOOD.deviceName, profile: DEFAULT_PROFILE.name, credentialsType: 'ACCESS_TOKEN', credentialsValue: GOOD.credentials.accessToken }],
    });
  });
  after(async () => sim.stop());
  beforeEach(async () => {
    const server = validateServer({ host: sim.host, port: sim.mqttPort, tls: false, connectTimeoutMs: 3000, answerTimeoutMs: 3000 });
    pool = new ConnectionPool({ ...POOL_DEFAULTS, server, receive: false }, { incoming: () => {}, changed: () => {} });
    dir = outboxDir('pool');
    outbox = await openOutbox({ dir });
  });
  afterEach(async () => {
    await pool.close();
    await outbox.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('sends a backlog in order with its recorded ts, then the outbox is empty; a refused login keeps its records', async function () {
    for (let i = 0; i < 120; i++) await outbox.append(GOOD.deviceName, telemetry({ ts: 1_600_000_000_000 + i, values: { seq: i } }));
    await outbox.append(GOOD.deviceName, { kind: 'attributes', payload: { firmware: 'outbox' } });
    for (let i = 0; i < 5; i++) await outbox.append(REFUSED.deviceName, telemetry({ seq: i }));
    const identities = { [GOOD.deviceName]: GOOD, [REFUSED.deviceName]: REFUSED };
    const report = await replayOutbox(outbox, { publish: outboxPublisher(pool, (key) => identities[key]), messagesPerSecond: 5_000, batchSize: 25 });
    assert.equal(report.devices[GOOD.deviceName], 121);
    assert.equal(report.failures.length, 1);
    assert.equal(report.failures[0].deviceKey, REFUSED.deviceName);
    assert.equal(report.failures[0].error.code, 'CONNECT_REFUSED');
    assertReadingsInOrder(sim, GOOD.deviceName, { count: 120, firstTs: 1_600_000_000_000 });
    assert.equal(sim.clientAttributes(GOOD.deviceName).firmware, 'outbox');
    assert.deepEqual(outbox.devices(), [REFUSED.deviceName]);
    assert.equal(outbox.counts().waiting, 5, 'the refused device keeps every record');
  });
});
