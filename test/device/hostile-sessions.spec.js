'use strict';
// The device connection pool against a server that misbehaves on purpose (test/helpers/hostile-server,
// mode 'device-drops', plain MQTT on 127.0.0.1): sessions dropped while other devices wait for a place,
// publishes never acknowledged, and a reconnect storm. No exception may escape, what was published is
// OUTCOME_UNKNOWN, reconnects back off and respect the connecting limit.
const assert = require('node:assert/strict');
const { startHostileServer } = require('../helpers/hostile-server');
const { settledSnapshot, expectNothingLeft } = require('../helpers/faults');
const { waitUntil } = require('../helpers/node-red');
const { ConnectionPool, POOL_DEFAULTS, ReconnectBackoff, buildDeviceAction } = require('../../nodes/device');
const { validateServer } = require('../../nodes/provisioning');

function tokenDevice(i) {
  return { deviceName: `hostile-dev-${i}`, credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: `hostile-token-${i}` } };
}

function telemetry(identity, values) {
  return buildDeviceAction('telemetry', values, undefined, identity.deviceName);
}

/** Runs `fn`; fails if an exception or a rejection escaped to the process meanwhile (Node-RED would have exited). */
async function withoutUncaught(fn) {
  const escaped = [];
  const record = (error) => escaped.push(error);
  process.on('uncaughtException', record);
  process.on('unhandledRejection', record);
  try {
    await fn();
  } finally {
    process.removeListener('uncaughtException', record);
    process.removeListener('unhandledRejection', record);
  }
  assert.deepEqual(
    escaped.map((error) => error.stack),
    [],
  );
}

describe('device sessions against a hostile server (src/device)', function () {
  let hostile;
  let pool;
  let baseline;

  async function start(options, settings = {}, server = {}) {
    hostile = await startHostileServer('device-drops', options);
    pool = new ConnectionPool(
      {
        ...POOL_DEFAULTS,
        server: validateServer({ host: '127.0.0.1', port: hostile.port, tls: false, connectTimeoutMs: 5000, answerTimeoutMs: 5000, ...server }),
        receive: false,
        ...settings,
      },
      { incoming: () => {}, changed: () => {} },
    );
  }

  beforeEach(async function () {
    baseline = await settledSnapshot();
  });
  afterEach(async function () {
    if (pool) await pool.close();
    if (hostile) await hostile.stop();
    pool = hostile = undefined;
    await expectNothingLeft(baseline);
  });

  it('6 devices, 5 places, no PUBACK, the first session dropped: no exception, every publish OUTCOME_UNKNOWN, the 6th device gets the place', async function () {
    await start({ noPuback: true, dropAfterSubackMs: 200, dropSessions: 1 }, { maxConnections: 5 }, { answerTimeoutMs: 1200 });
    const devices = Array.from({ length: 6 }, (_, i) => tokenDevice(i));
    let results;
    await withoutUncaught(async () => {
      results = await Promise.allSettled(devices.map((device) => pool.send(device, telemetry(device, { n: 1 }))));
    });
    for (const result of results) {
      assert.equal(result.status, 'rejected');
      assert.deepEqual([result.reason.code, result.reason.details.requestSent], ['OUTCOME_UNKNOWN', true], result.reason.message);
    }
    assert.equal(
      hostile.sessions.flatMap((session) => session.requests).filter((packet) => !packet.topic.includes('/rpc/request/')).length,
      6,
      'each device published once',
    );
  });

  it("a new device's message while a dropped session waits to reconnect is published (not refused as an unexpected problem)", async function () {
    await start({ dropAfterSubackMs: 100, dropSessions: 1 }, { maxConnections: 5, reconnectBaseMs: 60_000, reconnectMaxMs: 60_000 });
    await withoutUncaught(async () => {
      for (let i = 0; i < 5; i++) await pool.send(tokenDevice(i), telemetry(tokenDevice(i), { i }));
      await waitUntil(() => pool.counts().connected === 4);
      await pool.send(tokenDevice(5), telemetry(tokenDevice(5), { i: 5 }));
    });
    assert.equal(hostile.sessions.flatMap((session) => session.requests).filter((packet) => !packet.topic.includes('/rpc/request/')).length, 6);
    assert.deepEqual(pool.counts(), { connected: 5, queued: 0, open: 5 });
  });

  for (const protocolVersion of [5, 4]) {
    it(`a reconnect storm over MQTT ${protocolVersion === 5 ? '5' : '3.1.1'} (logins take 10 ms, each session dropped 50 ms after its SUBACK): about one connect per device per backoff step, never more than maxConnecting at once${protocolVersion === 5 ? ', and no device stops' : ''}`, async function () {
      const DEVICES = 200;
      const STORM_MS = 3000;
      await start({ dropAfterSubackMs: 50, connackDelayMs: 10 }, { maxConnecting: 16, reconnectBaseMs: 50, reconnectMaxMs: 5000 }, { protocolVersion });
      const devices = Array.from({ length: DEVICES }, (_, i) => tokenDevice(i));
      await withoutUncaught(async () => {
        // Acknowledged, or lost with its session when the machine is slow: either way the device logged in once.
        await Promise.allSettled(devices.map((device) => pool.send(device, telemetry(device, { first: true }))));
        await new Promise((resolve) => setTimeout(resolve, STORM_MS));
        hostile.dropping = false;
      });
      // Backoff caps 50, 100, 200, 400, 800, 1600 ms (full jitter: half of that on average) plus the 60 ms
      // each login and session lasts: about 7 connects per device in 3 s. Without backoff growth a device would
      // connect every ~110 ms (about 27 in 3 s); counting the first connect, 12 on average leaves room for a slow machine.
      assert.ok(hostile.sessions.length <= DEVICES * 12, `${hostile.sessions.length} connects for ${DEVICES} devices in ${STORM_MS} ms`);
      assert.ok(hostile.maxConnecting <= 16, `${hostile.maxConnecting} sessions connecting at once (limit 16)`);
      const perDevice = new Map();
      for (const { username } of hostile.sessions) if (username !== undefined) perDevice.set(username, (perDevice.get(username) ?? 0) + 1);
      assert.ok(
        devices.every((device) => perDevice.get(device.credentials.accessToken) >= 2),
        'every device reconnected',
      );
      if (protocolVersion === 5) {
        // MQTT 5 names a takeover (DISCONNECT 0x8E): a dropped socket is not one, so no device stopped: the storm over, each sends again.
        const after = await Promise.allSettled(devices.map((device) => pool.send(device, telemetry(device, { after: true }))));
        assert.deepEqual(
          after.filter((outcome) => outcome.status === 'rejected').map((outcome) => outcome.reason.code),
          [],
        );
      }
      // Over 3.1.1 the server gives no reason: three closes within 60 s of the login in a row read as a takeover
      // and stop the device (SESSION_TAKEN_OVER, documented); MQTT 5 tells the two apart.
    });
  }

  it('ReconnectBackoff: a random delay under a cap that doubles up to the maximum; reset only by a session up reconnectStableMs', function () {
    const settings = { reconnectBaseMs: 100, reconnectMaxMs: 1000, reconnectStableMs: 30_000 };
    const highest = new ReconnectBackoff(settings, () => 0.9999);
    assert.deepEqual(
      Array.from({ length: 6 }, () => highest.nextDelay(0)),
      [99, 199, 399, 799, 999, 999],
    );
    highest.up(0);
    assert.equal(highest.nextDelay(29_999), 999, 'up for less than reconnectStableMs: the backoff goes on');
    highest.up(0);
    assert.equal(highest.nextDelay(30_000), 99, 'up long enough: back to the first step');
    assert.equal(new ReconnectBackoff(settings, () => 0).nextDelay(), 0, 'full jitter: from zero');
  });
});
