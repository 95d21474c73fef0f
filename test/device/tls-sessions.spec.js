'use strict';
// Device sessions (src/device) against the simulator: over TLS, token and basic devices share one TLS
// context per CA set and the server's name and certificate are still checked for each session; mqtt.js'
// logger is replaced only while DEBUG is unset.
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFile } = require('node:child_process');
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

describe('device sessions: one shared TLS trust context, every session still verified; DEBUG still logs', function () {
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

  it("with DEBUG set, mqtt.js' own logger still runs in device sessions (the no-op logger is only used without DEBUG)", async function () {
    const script = `
      const { ConnectionPool, POOL_DEFAULTS, buildDeviceAction } = require(${JSON.stringify(path.resolve(__dirname, '../../nodes/device'))});
      const { validateServer } = require(${JSON.stringify(path.resolve(__dirname, '../../nodes/provisioning'))});
      const server = validateServer({ host: '127.0.0.1', port: ${sim.mqttPort}, tls: false, connectTimeoutMs: 3000 });
      const pool = new ConnectionPool({ ...POOL_DEFAULTS, server, receive: false }, { incoming() {}, changed() {} });
      const device = ${JSON.stringify(TOKEN)};
      pool.send(device, buildDeviceAction('telemetry', { debug: process.env.DEBUG || 'unset' }, undefined, device.deviceName))
        .then(() => pool.close(), (error) => { console.log('failed', error.code); return pool.close(); });`;
    const run = (env) =>
      new Promise((resolve, reject) =>
        execFile(process.execPath, ['-e', script], { env, timeout: 20_000 }, (error, stdout, stderr) => (error ? reject(error) : resolve({ stdout, stderr }))),
      );
    const withoutDebug = { ...process.env };
    delete withoutDebug.DEBUG;
    const quiet = await run(withoutDebug);
    assert.equal(quiet.stdout, '');
    assert.doesNotMatch(quiet.stderr, /mqttjs/);
    const debugged = await run({ ...withoutDebug, DEBUG: 'mqttjs:client' });
    assert.equal(debugged.stdout, '');
    assert.match(debugged.stderr, /mqttjs:client/);
    assert.deepEqual(
      sim
        .telemetry(TOKEN.deviceName)
        .slice(-2)
        .map((r) => r.payload),
      [{ debug: 'unset' }, { debug: 'mqttjs:client' }],
    );
  });
});
