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

/**
 * A simulator with these session limits for the describe block it is called in, and pools on it (MQTT 3.1.1
 * unless asked), closed after each test with nothing left behind.
 */
function simulatorWithPools(options) {
  const context = { sim: undefined, makePool };
  let baseline;
  const pools = [];
  function makePool(protocolVersion = 4) {
    const { sim } = context;
    const server = validateServer({ host: sim.host, port: sim.mqttPort, tls: false, protocolVersion, connectTimeoutMs: 3000, answerTimeoutMs: 3000 });
    const pool = new ConnectionPool({ ...POOL_DEFAULTS, server, receive: false, reconnectBaseMs: 50 }, { incoming: () => {}, changed: () => {} });
    pools.push(pool);
    return pool;
  }
  before(async function () {
    context.sim = await startTestSimulator({ mqttsPort: null, ...options });
  });
  after(async function () {
    await context.sim.stop();
  });
  beforeEach(async function () {
    baseline = await settledSnapshot();
  });
  afterEach(async function () {
    await Promise.all(pools.splice(0).map((pool) => pool.close()));
    await expectNothingLeft(baseline);
  });
  return context;
}

describe('session limits: getSessionLimits, size and rate limits (src/device)', function () {
  const limits = simulatorWithPools({
    devices: ['paced', 'small'].map(record),
    sessionLimits: { maxPayloadSize: 2048, rateLimits: { messages: '10:1,20:60' } },
  });
  const { makePool } = limits;

  it('a burst of 15 publishes over a "10:1" limit is paced: every one acknowledged over one session', async function () {
    this.timeout(10000);
    const pool = makePool();
    const paced = device('paced');
    await pool.send(paced, telemetry(paced, { n: 0 }));
    await Promise.all(Array.from({ length: 15 }, (_, i) => pool.send(paced, telemetry(paced, { n: i + 1 }))));
    assert.equal(limits.sim.telemetry('paced').length, 16);
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

describe('session limits: a burst sent before the limits are known (src/device)', function () {
  const { makePool } = simulatorWithPools({ devices: ['burst-4', 'burst-5'].map(record), sessionLimits: { rateLimits: { messages: '10:1' } } });

  const settle = (promise) =>
    promise.then(
      () => 'ok',
      (error) => error,
    );

  // Sent while the session connects: they go out before getSessionLimits is answered and trip the server's limit.
  for (const protocolVersion of [4, 5]) {
    it(`MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}: the burst closed over the rate limit fails RATE_LIMITED, and the next session waits for the limits`, async function () {
      this.timeout(10000);
      const pool = makePool(protocolVersion);
      const burst = device(`burst-${protocolVersion}`);
      const outcomes = await Promise.all(Array.from({ length: 15 }, (_, i) => settle(pool.send(burst, telemetry(burst, { n: i })))));
      const failed = outcomes.filter((outcome) => outcome !== 'ok');
      assert.ok(failed.length > 0, 'the burst tripped the limit');
      for (const error of failed) {
        assert.equal(error.code, 'RATE_LIMITED', error.message);
        assert.equal(error.details.reason, 'RATE_LIMITED');
        // The limit as far as it is known: here the session closed before the answer came.
        assert.match(error.message, /over its rate limits/);
      }
      // The next session holds its messages until the limits come, charges the burst to them, and paces: none trips them again.
      const after = await Promise.all(Array.from({ length: 5 }, (_, i) => settle(pool.send(burst, telemetry(burst, { after: i })))));
      assert.deepEqual(after, ['ok', 'ok', 'ok', 'ok', 'ok'], after.map((outcome) => outcome.message ?? outcome).join('\n'));
      assert.equal(pool.counts().connected, 1);
    });
  }
});
