'use strict';
// Two pools acting as one device against the simulator (one session per device, as GridLinks): each
// login evicts the other (MQTT 5 DISCONNECT 0x8E; 3.1.1 a close right after the login). Without a
// limit they knock each other off forever; a session taken over 3 times in a row stops reconnecting
// and reports SESSION_TAKEN_OVER, and the other client keeps the device.
const assert = require('node:assert/strict');
const { startTestSimulator, DEFAULT_PROFILE } = require('../helpers/simulator');
const { settledSnapshot, expectNothingLeft } = require('../helpers/faults');
const { waitUntil } = require('../helpers/node-red');
const { ConnectionPool, POOL_DEFAULTS, buildDeviceAction } = require('../../nodes/device');
const { validateServer } = require('../../nodes/provisioning');

const DEVICE = { deviceName: 'twin-device', credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: 'twin-token' } };
const telemetry = (values) => buildDeviceAction('telemetry', values, undefined, DEVICE.deviceName);

describe('session takeover: two clients acting as one device (src/device)', function () {
  let sim;
  let baseline;
  const pools = [];

  before(async function () {
    sim = await startTestSimulator({
      mqttsPort: null,
      devices: [{ name: DEVICE.deviceName, profile: DEFAULT_PROFILE.name, credentialsType: 'ACCESS_TOKEN', credentialsValue: 'twin-token' }],
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

  for (const protocolVersion of [5, 4]) {
    it(`MQTT ${protocolVersion === 5 ? '5 (DISCONNECT 0x8E)' : '3.1.1 (closed right after the login)'}: the loop stops after 3 takeovers in a row with SESSION_TAKEN_OVER; the other client keeps the device`, async function () {
      this.timeout(15000);
      const stopped = [];
      const server = validateServer({ host: sim.host, port: sim.mqttPort, tls: false, protocolVersion, connectTimeoutMs: 3000, answerTimeoutMs: 3000 });
      const makePool = (name) => {
        const pool = new ConnectionPool(
          { ...POOL_DEFAULTS, server, receive: true, reconnectBaseMs: 20, reconnectMaxMs: 80 },
          { incoming: () => {}, changed: () => {}, stopped: (deviceName, error) => stopped.push({ name, deviceName, error }) },
        );
        pools.push(pool);
        return pool;
      };
      const a = makePool('a');
      const b = makePool('b');
      await a.send(DEVICE, telemetry({ from: 'a' }));
      // b's login evicts a; a reconnects and evicts b; ...
      await b.send(DEVICE, telemetry({ from: 'b' })).catch(() => {});
      await waitUntil(() => stopped.length > 0);
      const [{ name, deviceName, error }] = stopped;
      assert.equal(deviceName, DEVICE.deviceName);
      assert.equal(error.code, 'SESSION_TAKEN_OVER', error.message);
      assert.match(error.message, /3 times in a row/);
      if (protocolVersion === 5) assert.equal(error.details.returnCode, 0x8e);
      const loser = name === 'a' ? a : b;
      const winner = name === 'a' ? b : a;
      // The loser's messages fail at once, and it opens no session; the winner publishes.
      const refused = await loser.send(DEVICE, telemetry({ late: true })).catch((e) => e);
      assert.equal(refused.code, 'SESSION_TAKEN_OVER');
      assert.equal(loser.counts().open, 0);
      await winner.send(DEVICE, telemetry({ winner: true }));
      assert.deepEqual(sim.telemetry(DEVICE.deviceName).at(-1).payload, { winner: true });
      assert.equal(stopped.length, 1, 'only one of them stopped');
    });
  }
});
