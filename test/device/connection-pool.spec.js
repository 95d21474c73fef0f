'use strict';
// The device connection pool (src/device) against the simulator over real sockets: one session per
// device, telemetry/attributes/requests/RPC answers, errors naming the device, queue limit, LRU, idle
// close, reconnect after a lost session, and nothing left open after close(). Over TLS, token and basic
// devices share one TLS context per CA set and every session is still verified; mqtt.js' logger is
// replaced only while DEBUG is unset.
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { startTestSimulator, DEFAULT_PROFILE } = require('../helpers/simulator');
const { settledSnapshot, expectNothingLeft, unusedPort } = require('../helpers/faults');
const { waitUntil } = require('../helpers/node-red');
const { tlsServer } = require('../provisioning/support');
const { ConnectionPool, POOL_DEFAULTS, buildDeviceAction, sessionOptions } = require('../../nodes/device');
const { validateServer } = require('../../nodes/provisioning');

const TOKENS = Array.from({ length: 6 }, (_, i) => ({ name: `pool-dev-${i}`, token: `pool-token-${i}` }));

const TOKEN = { deviceName: 'tls-token-device', credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: 'tls-token' } };
const BASIC = {
  deviceName: 'tls-basic-device',
  credentialsType: 'MQTT_BASIC',
  credentials: { clientId: 'tls-basic-client', userName: 'tls-user', password: 'tls-pass' },
};

function tokenDevice(i) {
  return { deviceName: TOKENS[i].name, credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: TOKENS[i].token } };
}

function telemetry(identity, values) {
  return buildDeviceAction('telemetry', values, undefined, identity.deviceName);
}

describe('device connection pool (src/device) against the simulator', function () {
  let sim;
  let server;
  let pool;
  let received;
  let baseline;

  function makePool(settings = {}, changed = () => {}) {
    received = [];
    pool = new ConnectionPool(
      { ...POOL_DEFAULTS, server, receive: true, ...settings },
      { incoming: (deviceName, message) => received.push({ deviceName, ...message }), changed },
    );
    return pool;
  }

  before(async function () {
    sim = await startTestSimulator({
      devices: [
        ...TOKENS.map((t) => ({ name: t.name, profile: DEFAULT_PROFILE.name, credentialsType: 'ACCESS_TOKEN', credentialsValue: t.token })),
        { name: TOKEN.deviceName, profile: DEFAULT_PROFILE.name, credentialsType: 'ACCESS_TOKEN', credentialsValue: TOKEN.credentials.accessToken },
        { name: BASIC.deviceName, profile: DEFAULT_PROFILE.name, credentialsType: 'MQTT_BASIC', ...BASIC.credentials },
      ],
    });
    server = validateServer({ host: sim.host, port: sim.mqttPort, tls: false, connectTimeoutMs: 3000, answerTimeoutMs: 3000 });
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

  it('publishes telemetry as each device over one session per device, acknowledged (QoS 1)', async function () {
    makePool();
    const a = tokenDevice(0);
    const b = tokenDevice(1);
    await Promise.all([1, 2, 3].map((n) => pool.send(a, telemetry(a, { n }))).concat(pool.send(b, telemetry(b, { n: 9 }))));
    assert.deepEqual(
      sim
        .telemetry(a.deviceName)
        .map((r) => r.payload.n)
        .sort(),
      [1, 2, 3],
    );
    assert.deepEqual(
      sim.telemetry(b.deviceName).map((r) => r.payload),
      [{ n: 9 }],
    );
    assert.deepEqual(pool.counts(), { connected: 2, queued: 0, open: 2 });
    assert.deepEqual(sim.connectedDevices().sort(), [a.deviceName, b.deviceName]);
  });

  it('other credentials under a device name already in use get a session of their own; each message goes out with its own login', async function () {
    makePool();
    const current = tokenDevice(0);
    // The same name with another login: the server knows that token as pool-dev-1, so where a message lands shows which session sent it.
    const other = { deviceName: current.deviceName, credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: TOKENS[1].token } };
    const revoked = { deviceName: current.deviceName, credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: 'pool-token-revoked' } };
    const before = [TOKENS[0].name, TOKENS[1].name].map((name) => sim.telemetry(name).length);
    await pool.send(current, telemetry(current, { via: 'current', n: 1 }));
    await pool.send(other, telemetry(other, { via: 'other', n: 1 }));
    await pool.send(current, telemetry(current, { via: 'current', n: 2 }));
    await assert.rejects(pool.send(revoked, telemetry(revoked, { via: 'revoked' })), (error) => error.code === 'CONNECT_REFUSED');
    await pool.send(other, telemetry(other, { via: 'other', n: 2 }));
    await pool.send(current, telemetry(current, { via: 'current', n: 3 }));
    assert.deepEqual(
      sim
        .telemetry(TOKENS[0].name)
        .slice(before[0])
        .map((r) => r.payload),
      [1, 2, 3].map((n) => ({ via: 'current', n })),
    );
    assert.deepEqual(
      sim
        .telemetry(TOKENS[1].name)
        .slice(before[1])
        .map((r) => r.payload),
      [1, 2].map((n) => ({ via: 'other', n })),
    );
    assert.deepEqual(pool.counts(), { connected: 2, queued: 0, open: 2 });
  });

  it('client attributes, then an attribute request answered with client and shared keys', async function () {
    makePool();
    const device = tokenDevice(2);
    await pool.send(device, buildDeviceAction('attributes', { firmware: '1.2', model: 'x' }, undefined, device.deviceName));
    sim.setSharedAttributes(device.deviceName, { interval: 30, mode: 'eco' });
    const answer = await pool.send(
      device,
      buildDeviceAction('attributes/request', { clientKeys: ['firmware'], sharedKeys: 'interval,missing' }, undefined, device.deviceName),
    );
    assert.deepEqual(answer, { client: { firmware: '1.2' }, shared: { interval: 30 } });
    const all = await pool.send(device, buildDeviceAction('attributes/request', {}, undefined, device.deviceName));
    assert.deepEqual(all, { client: { firmware: '1.2', model: 'x' }, shared: { interval: 30, mode: 'eco' } });
  });

  it('server RPC comes in, the answer goes back; a shared-attribute update comes in; nothing leaks to another device', async function () {
    makePool();
    const device = tokenDevice(3);
    const other = tokenDevice(4);
    await pool.send(device, telemetry(device, { up: 1 }));
    await pool.send(other, telemetry(other, { up: 1 }));
    const answered = sim.sendRpc(device.deviceName, { method: 'setLed', params: { on: true } });
    await waitUntil(() => received.some((m) => m.kind === 'rpc/request'));
    const request = received.find((m) => m.kind === 'rpc/request');
    assert.equal(request.deviceName, device.deviceName);
    assert.deepEqual(request.payload, { method: 'setLed', params: { on: true } });
    await pool.send(device, buildDeviceAction('rpc/response', { ok: true }, String(request.requestId), device.deviceName));
    assert.deepEqual(await answered, { ok: true });
    assert.equal(sim.setSharedAttributes(device.deviceName, { target: 21 }), 1);
    await waitUntil(() => received.some((m) => m.kind === 'attributes'));
    assert.deepEqual(
      received.filter((m) => m.kind === 'attributes'),
      [{ deviceName: device.deviceName, kind: 'attributes', payload: { target: 21 } }],
    );
    await pool.send(device, buildDeviceAction('attributes', { reported: 1 }, undefined, device.deviceName));
    assert.equal(received.filter((m) => m.deviceName === other.deviceName).length, 0);
  });

  it('MQTT 5 sessions (server node protocolVersion 5): telemetry, an RPC round trip, a refusal with its reason code', async function () {
    pool = new ConnectionPool(
      {
        ...POOL_DEFAULTS,
        server: validateServer({ host: sim.host, port: sim.mqttPort, tls: false, protocolVersion: 5, connectTimeoutMs: 3000 }),
        receive: true,
      },
      { incoming: (deviceName, message) => received.push({ deviceName, ...message }), changed: () => {} },
    );
    received = [];
    const device = tokenDevice(2);
    await pool.send(device, telemetry(device, { v5: true }));
    assert.deepEqual(sim.telemetry(device.deviceName).at(-1).payload, { v5: true });
    const answer = sim.sendRpc(device.deviceName, { method: 'v5' });
    await waitUntil(() => received.some((m) => m.kind === 'rpc/request'));
    const request = received.find((m) => m.kind === 'rpc/request');
    await pool.send(device, buildDeviceAction('rpc/response', { over: 5 }, request.requestId, device.deviceName));
    assert.deepEqual(await answer, { over: 5 });
    const wrong = { deviceName: 'v5-wrong', credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: 'v5-wrong-token' } };
    await assert.rejects(pool.send(wrong, telemetry(wrong, {})), (error) => error.code === 'CONNECT_REFUSED' && error.details.returnCode >= 0x80);
  });

  it('a body that fits 64 KB but not the packet limit with its topic and packet id is INVALID_INPUT before it is sent; the session stays up', async function () {
    makePool();
    const device = tokenDevice(3);
    // {"v":"xxx…"}: 65,000 and 65,520 bytes of JSON; the PUBLISH adds 2 + 23 (topic) + 2 (packet id).
    const body = (bytes) => ({ v: 'x'.repeat(bytes - 8) });
    await pool.send(device, telemetry(device, body(65_000)));
    const before = sim.telemetry(device.deviceName).length;
    const error = await pool.send(device, telemetry(device, body(65_520))).catch((e) => e);
    assert.deepEqual([error.code, error.details.field, error.details.requestSent], ['INVALID_INPUT', 'payload', false], error.message);
    assert.match(error.message, /65547 bytes.*limit of 65536 bytes/);
    await pool.send(device, telemetry(device, { after: 1 }));
    assert.equal(sim.telemetry(device.deviceName).length, before + 1);
    assert.equal(pool.counts().connected, 1);
  });

  it('with receive off, the session does not subscribe to RPCs', async function () {
    makePool({ receive: false });
    const device = tokenDevice(5);
    await pool.send(device, telemetry(device, { x: 1 }));
    assert.equal(sim.isSubscribedToRpc(device.deviceName), false);
    await assert.rejects(sim.sendRpc(device.deviceName, { method: 'm' }), /no session subscribed/);
  });

  it('a wrong token is CONNECT_REFUSED naming the device, for every queued message, and the next device still works', async function () {
    makePool();
    const wrong = { deviceName: 'revoked-one', credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: 'no-such-token' } };
    const results = await Promise.allSettled([1, 2].map((n) => pool.send(wrong, telemetry(wrong, { n }))));
    for (const result of results) {
      assert.equal(result.status, 'rejected');
      assert.equal(result.reason.code, 'CONNECT_REFUSED');
      assert.equal(result.reason.details.deviceName, 'revoked-one');
      assert.equal(result.reason.details.returnCode, 5);
      assert.match(result.reason.message, /"revoked-one"/);
    }
    const good = tokenDevice(0);
    await pool.send(good, telemetry(good, { after: true }));
    assert.equal(pool.counts().open, 1);
  });

  it('nothing listening is UNREACHABLE naming the device', async function () {
    const port = await unusedPort();
    pool = new ConnectionPool(
      { ...POOL_DEFAULTS, server: validateServer({ host: '127.0.0.1', port, tls: false, connectTimeoutMs: 3000 }), receive: true },
      { incoming: () => {}, changed: () => {} },
    );
    const device = tokenDevice(0);
    await assert.rejects(
      pool.send(device, telemetry(device, { x: 1 })),
      (error) => error.code === 'UNREACHABLE' && error.details.deviceName === device.deviceName,
    );
  });

  it('more messages than the queue holds while connecting: the extra ones fail QUEUE_FULL, the others are sent', async function () {
    makePool({ queueLimit: 3 });
    const device = tokenDevice(1);
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => pool.send(device, telemetry(device, { q: n }))));
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected'],
    );
    assert.equal(results[3].reason.code, 'QUEUE_FULL');
    assert.equal(results[3].reason.details.deviceName, device.deviceName);
  });

  it('at most maxConnections open: the least recently used idle session is closed for a new device', async function () {
    makePool({ maxConnections: 2 });
    const [a, b, c] = [tokenDevice(0), tokenDevice(1), tokenDevice(2)];
    await pool.send(a, telemetry(a, { i: 1 }));
    await pool.send(b, telemetry(b, { i: 1 }));
    await pool.send(a, telemetry(a, { i: 2 })); // b is now the least recently used
    await pool.send(c, telemetry(c, { i: 1 }));
    assert.equal(pool.counts().open, 2);
    await waitUntil(() => !sim.connectedDevices().includes(b.deviceName));
    assert.deepEqual(sim.connectedDevices().sort(), [a.deviceName, c.deviceName]);
  });

  it('an idle session is closed after the idle time; the next message opens a new one', async function () {
    makePool({ idleTimeoutMs: 200 });
    const device = tokenDevice(3);
    await pool.send(device, telemetry(device, { i: 1 }));
    await waitUntil(() => pool.counts().open === 0);
    await waitUntil(() => !sim.connectedDevices().includes(device.deviceName));
    await pool.send(device, telemetry(device, { i: 2 }));
    assert.equal(pool.counts().connected, 1);
  });

  it('a lost session reconnects with backoff and keeps receiving RPCs', async function () {
    // The drop is seen as it happens: with full jitter the session may be back before a poll would look.
    let dropped = false;
    makePool({ reconnectBaseMs: 50, reconnectMaxMs: 200 }, () => {
      if (pool.counts().connected === 0) dropped = true;
    });
    const device = tokenDevice(4);
    await pool.send(device, telemetry(device, { i: 1 }));
    dropped = false;
    assert.equal(sim.disconnectDevice(device.deviceName), 1);
    await waitUntil(() => dropped);
    await waitUntil(() => sim.isSubscribedToRpc(device.deviceName) && pool.counts().connected === 1);
    const answer = sim.sendRpc(device.deviceName, { method: 'ping' });
    await waitUntil(() => received.some((m) => m.kind === 'rpc/request'));
    const request = received.find((m) => m.kind === 'rpc/request');
    await pool.send(device, buildDeviceAction('rpc/response', 'pong', request.requestId, device.deviceName));
    assert.equal(await answer, 'pong');
  });

  it('no PUBACK within the answer timeout is OUTCOME_UNKNOWN, no attribute answer is TIMEOUT', async function () {
    server = validateServer({ host: sim.host, port: sim.mqttPort, tls: false, connectTimeoutMs: 3000, answerTimeoutMs: 300 });
    try {
      makePool();
      const device = tokenDevice(0);
      await pool.send(device, telemetry(device, { before: true }));
      sim.setFaults({ deviceSilent: true });
      const [unacknowledged, unanswered] = await Promise.allSettled([
        pool.send(device, telemetry(device, { lost: true })),
        pool.send(device, buildDeviceAction('attributes/request', {}, undefined, device.deviceName)),
      ]);
      assert.deepEqual([unacknowledged.reason.code, unacknowledged.reason.details.requestSent], ['OUTCOME_UNKNOWN', true]);
      assert.match(unacknowledged.reason.message, /no acknowledgement came within 300 ms/);
      assert.equal(unanswered.reason.code, 'TIMEOUT');
      assert.equal(unanswered.reason.details.deviceName, device.deviceName);
    } finally {
      sim.setFaults({});
      server = validateServer({ host: sim.host, port: sim.mqttPort, tls: false, connectTimeoutMs: 3000, answerTimeoutMs: 3000 });
    }
  });

  it('close() ends every session and reports devices with messages still waiting', async function () {
    makePool();
    const device = tokenDevice(5);
    const pending = pool.send(device, telemetry(device, { i: 1 })).then(
      () => assert.fail('a message still waiting cannot have been sent'),
      (error) => error,
    );
    const report = await pool.close();
    pool = undefined;
    assert.deepEqual(report, [{ deviceName: device.deviceName, queued: 1, unacknowledged: 0 }]);
    assert.equal((await pending).code, 'ABORTED');
  });

  it('a message after close() is ABORTED and opens no session', async function () {
    const closed = makePool();
    const device = tokenDevice(4);
    await closed.close();
    pool = undefined;
    await assert.rejects(
      closed.send(device, telemetry(device, { late: true })),
      (error) => error.code === 'ABORTED' && error.details.deviceName === device.deviceName,
    );
    assert.deepEqual(closed.counts(), { connected: 0, queued: 0, open: 0 });
    assert.equal(sim.connectedDevices().includes(device.deviceName), false);
  });

  /** The simulator's TLS port, validated as the pool takes it. */
  function tlsPort(fields = {}) {
    return validateServer(tlsServer(sim, { servername: 'localhost', connectTimeoutMs: 3000, ...fields }));
  }

  it('token and basic devices publish over TLS through one context built from the server CA', async function () {
    const server = tlsPort();
    const tokenOptions = sessionOptions(server, TOKEN);
    assert.ok(tokenOptions.secureContext, 'a token session over TLS gets the shared context');
    assert.equal(sessionOptions(server, BASIC).secureContext, tokenOptions.secureContext);
    assert.notEqual(sessionOptions(tlsPort({ ca: undefined }), TOKEN).secureContext, tokenOptions.secureContext, 'another CA set, another context');
    assert.equal(sessionOptions({ ...server, tls: false }, TOKEN).secureContext, undefined);

    makePool({ server });
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
    makePool({ server: tlsPort({ servername: 'not-the-server.example' }) });
    await assert.rejects(
      pool.send(TOKEN, telemetry(TOKEN, { t: 2 })),
      (error) => error.code === 'TLS' && error.details.deviceName === TOKEN.deviceName && /ERR_TLS_CERT_ALTNAME_INVALID/.test(error.message),
    );
    await pool.close();

    makePool({ server: tlsPort({ ca: undefined }) });
    await assert.rejects(pool.send(BASIC, telemetry(BASIC, { b: 3 })), (error) => error.code === 'TLS' && error.details.deviceName === BASIC.deviceName);
    await pool.close();

    // Verification off (the server node's "verify server certificate" unticked): the same untrusted server is accepted.
    makePool({ server: tlsPort({ ca: undefined, rejectUnauthorized: false }) });
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
