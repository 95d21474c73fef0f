'use strict';
// Session limits (protocol-more.md §7) against the simulator: each session asks getSessionLimits, keeps
// to maxPayloadSize, and paces publishes under the rate limits, so a burst never trips them.
const assert = require('node:assert/strict');
const { startTestSimulator, DEFAULT_PROFILE } = require('../helpers/simulator');
const { settledSnapshot, expectNothingLeft } = require('../helpers/faults');
const { ConnectionPool, POOL_DEFAULTS, buildDeviceAction } = require('../../nodes/device');
const { validateServer } = require('../../nodes/provisioning');

const device = (name) => ({ deviceName: name, credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: `${name}-token` } });
const record = (name) => ({ name, profile: DEFAULT_PROFILE.name, credentialsType: 'ACCESS_TOKEN', credentialsValue: `${name}-token` });
const telemetry = (identity, values) => buildDeviceAction('telemetry', values, undefined, identity.deviceName);

describe('session limits: getSessionLimits, size and rate limits (src/device)', function () {
  let sim;
  let baseline;
  const pools = [];
  function makePool(protocolVersion = 4) {
    const server = validateServer({ host: sim.host, port: sim.mqttPort, tls: false, protocolVersion, connectTimeoutMs: 3000, answerTimeoutMs: 3000 });
    const pool = new ConnectionPool({ ...POOL_DEFAULTS, server, receive: false, reconnectBaseMs: 50 }, { incoming: () => {}, changed: () => {} });
    pools.push(pool);
    return pool;
  }

  before(async function () {
    sim = await startTestSimulator({
      mqttsPort: null,
      devices: ['paced', 'small'].map(record),
      sessionLimits: { maxPayloadSize: 2048, rateLimits: { messages: '10:1,20:60' } },
    });
  });
  after(async function () {
    await sim.stop();
  });
  beforeEach(async function () {
    baseline = await settledSnapshot();
  });
  afterEach(async function () {
    await Promise.all(pools.splice(0).map((pool) => pool.close()));
    await expectNothingLeft(baseline);
  });

  it('a burst of 15 publishes over a "10:1" limit is paced: every one acknowledged over one session', async function () {
    this.timeout(10000);
    const pool = makePool();
    const paced = device('paced');
    await pool.send(paced, telemetry(paced, { n: 0 }));
    await Promise.all(Array.from({ length: 15 }, (_, i) => pool.send(paced, telemetry(paced, { n: i + 1 }))));
    assert.equal(sim.telemetry('paced').length, 16);
    assert.equal(pool.counts().connected, 1);
  });

  it("maxPayloadSize as the server answers it: a body over it is INVALID_INPUT naming the server's limit", async function () {
    const pool = makePool();
    const small = device('small');
    await pool.send(small, telemetry(small, { first: 1 }));
    const error = await pool.send(small, telemetry(small, { v: 'x'.repeat(3000) })).catch((e) => e);
    assert.deepEqual([error.code, error.details.field], ['INVALID_INPUT', 'payload'], error.message);
    assert.match(error.message, /limit of 2048 bytes/);
  });
});
