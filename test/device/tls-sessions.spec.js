'use strict';
// Device sessions over TLS (src/device) against the simulator's TLS port: token and basic devices share
// one TLS context per CA set, and the server's name and certificate are still checked for each session.
const assert = require('node:assert/strict');
const { startTestSimulator, DEFAULT_PROFILE } = require('../helpers/simulator');
const { settledSnapshot, expectNothingLeft } = require('../helpers/faults');
const { ConnectionPool, POOL_DEFAULTS, buildDeviceAction, sessionOptions } = require('../../nodes/device');
const { validateServer } = require('../../nodes/provisioning');

const TOKEN = { deviceName: 'tls-token-device', credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: 'tls-token' } };
const BASIC = {
  deviceName: 'tls-basic-device',
  credentialsType: 'MQTT_BASIC',
  credentials: { clientId: 'tls-basic-client', userName: 'tls-user', password: 'tls-pass' },
};

function telemetry(identity, values) {
  return buildDeviceAction('telemetry', values, undefined, identity.deviceName);
}

describe('device sessions over TLS: one shared trust context, every session still verified', function () {
  let sim;
  let pool;
  let baseline;

  function poolFor(server) {
    pool = new ConnectionPool({ ...POOL_DEFAULTS, server, receive: true }, { incoming: () => {}, changed: () => {} });
    return pool;
  }

  function tlsServer(fields = {}) {
    return validateServer({ host: sim.host, port: sim.mqttsPort, tls: true, ca: sim.caPem, servername: 'localhost', connectTimeoutMs: 3000, ...fields });
  }

  before(async function () {
    sim = await startTestSimulator({
      devices: [
        { name: TOKEN.deviceName, profile: DEFAULT_PROFILE.name, credentialsType: 'ACCESS_TOKEN', credentialsValue: TOKEN.credentials.accessToken },
        { name: BASIC.deviceName, profile: DEFAULT_PROFILE.name, credentialsType: 'MQTT_BASIC', ...BASIC.credentials },
      ],
    });
  });
  after(async function () {
    await sim.stop();
  });
  beforeEach(async function () {
    baseline = await settledSnapshot();
  });
  afterEach(async function () {
    if (pool) await pool.close();
    pool = undefined;
    await expectNothingLeft(baseline);
  });

  it('token and basic devices publish over TLS through one context built from the server CA', async function () {
    const server = tlsServer();
    const tokenOptions = sessionOptions(server, TOKEN);
    assert.ok(tokenOptions.secureContext, 'a token session over TLS gets the shared context');
    assert.equal(sessionOptions(server, BASIC).secureContext, tokenOptions.secureContext);
    assert.notEqual(sessionOptions(tlsServer({ ca: undefined }), TOKEN).secureContext, tokenOptions.secureContext, 'another CA set, another context');
    assert.equal(sessionOptions({ ...server, tls: false }, TOKEN).secureContext, undefined);

    poolFor(server);
    await Promise.all([pool.send(TOKEN, telemetry(TOKEN, { t: 1 })), pool.send(BASIC, telemetry(BASIC, { b: 2 }))]);
    assert.deepEqual(
      sim.telemetry(TOKEN.deviceName).map((r) => r.payload),
      [{ t: 1 }],
    );
    assert.deepEqual(
      sim.telemetry(BASIC.deviceName).map((r) => r.payload),
      [{ b: 2 }],
    );
  });

  it('the shared context does not skip checks: a wrong server name or an untrusted server is TLS naming the device', async function () {
    poolFor(tlsServer({ servername: 'not-the-server.example' }));
    await assert.rejects(
      pool.send(TOKEN, telemetry(TOKEN, { t: 2 })),
      (error) => error.code === 'TLS' && error.details.deviceName === TOKEN.deviceName && /ERR_TLS_CERT_ALTNAME_INVALID/.test(error.message),
    );
    await pool.close();

    poolFor(tlsServer({ ca: undefined }));
    await assert.rejects(pool.send(BASIC, telemetry(BASIC, { b: 3 })), (error) => error.code === 'TLS' && error.details.deviceName === BASIC.deviceName);
    await pool.close();

    // Verification off (the server node's "verify server certificate" unticked): the same untrusted server is accepted.
    poolFor(tlsServer({ ca: undefined, rejectUnauthorized: false }));
    await pool.send(TOKEN, telemetry(TOKEN, { insecure: true }));
    assert.deepEqual(sim.telemetry(TOKEN.deviceName).at(-1).payload, { insecure: true });
  });
});
