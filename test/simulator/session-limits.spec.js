'use strict';
// Session limits (protocol-more.md §4, §7) over real sockets: getSessionLimits answered, configured rate
// limits enforced as GridLinks does (device: closed without PUBACK; gateway: PUBACK 0x97 then close;
// CONNECT: CONNACK 0x9F), one session per device (the older evicted), and the server taken down and up again.
const assert = require('node:assert/strict');
const net = require('node:net');
const { startTestSimulator, connectDevice, DEFAULT_PROFILE } = require('../helpers/simulator');
const { openSession, publishAcked, subscribe, nextMessage, closeSession, closesWithin } = require('../helpers/device-clients');

const device = (name, gateway = false) => ({
  name,
  profile: DEFAULT_PROFILE.name,
  credentialsType: 'ACCESS_TOKEN',
  credentialsValue: `${name}-token`,
  gateway,
});

function refusedConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('simulator session limits, session takeover, down and up', function () {
  let sim;
  const open = [];
  const session = async (token, protocolVersion, clientId) => {
    const opened = await openSession(sim, token, { protocolVersion, clientId });
    open.push(opened);
    return opened;
  };
  afterEach(async function () {
    await Promise.all(open.splice(0).map(closeSession));
    await sim?.stop();
    sim = undefined;
  });

  async function askLimits(token) {
    const asking = await session(token);
    await subscribe(asking, ['v1/devices/me/rpc/response/+']);
    await publishAcked(asking, 'v1/devices/me/rpc/request/42', { method: 'getSessionLimits', params: {} });
    return (await nextMessage(asking, 'v1/devices/me/rpc/response/42')).payload;
  }

  it('getSessionLimits: defaults (no rate limits) for a device; a gateway gets gatewayRateLimits too; configured values answered', async function () {
    sim = await startTestSimulator({ mqttsPort: null, devices: [device('d-1'), device('gw-1', true)] });
    const none = { messages: null, telemetryMessages: null, telemetryDataPoints: null };
    assert.deepEqual(await askLimits('d-1-token'), { maxPayloadSize: 65536, maxInflightMessages: 100, rateLimits: none });
    assert.deepEqual(await askLimits('gw-1-token'), { maxPayloadSize: 65536, maxInflightMessages: 100, rateLimits: none, gatewayRateLimits: none });
    await sim.stop();
    const rateLimits = { messages: '100:1,3000:60', telemetryMessages: '50:1', telemetryDataPoints: '500:1' };
    sim = await startTestSimulator({
      mqttsPort: null,
      devices: [device('gw-1', true)],
      sessionLimits: { maxPayloadSize: 32768, maxInflightMessages: 10, rateLimits, gatewayRateLimits: { messages: '1000:1' } },
    });
    assert.deepEqual(await askLimits('gw-1-token'), {
      maxPayloadSize: 32768,
      maxInflightMessages: 10,
      rateLimits,
      gatewayRateLimits: { messages: '1000:1', telemetryMessages: null, telemetryDataPoints: null },
    });
  });

  it('a device publish over a rate limit is not acknowledged and closes the session (MQTT 5: DISCONNECT 0x83)', async function () {
    sim = await startTestSimulator({
      mqttsPort: null,
      devices: [device('d-1'), device('d-2')],
      sessionLimits: { rateLimits: { messages: '3:60', telemetryDataPoints: '4:60' } },
    });
    const v5 = await session('d-1-token', 5);
    for (let i = 0; i < 3; i++) assert.deepEqual(await publishAcked(v5, 'v1/devices/me/attributes', { i }), { ok: true });
    assert.deepEqual(await publishAcked(v5, 'v1/devices/me/attributes', { i: 3 }), { closed: true });
    assert.equal(v5.disconnectPacket?.reasonCode, 0x83);
    const v4 = await session('d-2-token', 4);
    assert.deepEqual(await publishAcked(v4, 'v1/devices/me/telemetry', { a: 1, b: 2, c: 3 }), { ok: true });
    assert.deepEqual(await publishAcked(v4, 'v1/devices/me/telemetry', [{ ts: 1, values: { d: 4, e: 5 } }]), { closed: true });
  });

  it("a gateway publish over its own or a child's rate limit gets PUBACK 0x97 and the session is closed", async function () {
    sim = await startTestSimulator({
      mqttsPort: null,
      devices: [device('gw-1', true)],
      sessionLimits: { gatewayRateLimits: { messages: '2:60' }, rateLimits: { telemetryDataPoints: '2:60' } },
    });
    const first = await session('gw-1-token', 5);
    assert.deepEqual(await publishAcked(first, 'v1/gateway/telemetry', { 'C 1': [{ a: 1, b: 2 }] }), { ok: true });
    assert.deepEqual(await publishAcked(first, 'v1/gateway/telemetry', { 'C 1': [{ a: 1 }] }), { reasonCode: 0x97 });
    assert.equal(await closesWithin(first), true);
    const second = await session('gw-1-token', 5);
    assert.deepEqual(await publishAcked(second, 'v1/gateway/connect', { device: 'C 2' }), { reasonCode: 0x97 });
    assert.equal(sim.telemetry('C 1').length, 1);
  });

  it('a CONNECT over the connection rate limit gets CONNACK 0x9F (MQTT 5; 3.1.1: 3) and a close', async function () {
    sim = await startTestSimulator({ mqttsPort: null, devices: [device('d-1')], sessionLimits: { connections: '2:60' }, maxSessionsPerDevice: 0 });
    await session('d-1-token', 5);
    await session('d-1-token', 5);
    await assert.rejects(connectDevice(sim, { username: 'd-1-token', protocolVersion: 5 }), (error) => error.code === 0x9f);
    await assert.rejects(connectDevice(sim, { username: 'd-1-token', protocolVersion: 4 }), (error) => error.code === 3);
  });

  it('one session per device: a second session evicts the first (MQTT 5: DISCONNECT 0x8E; 3.1.1: closed); more when allowed', async function () {
    sim = await startTestSimulator({ mqttsPort: null, devices: [device('d-1')] });
    const older = await session('d-1-token', 5, 'first');
    const newer = await session('d-1-token', 4, 'second');
    assert.equal(await closesWithin(older), true);
    assert.equal(older.disconnectPacket?.reasonCode, 0x8e);
    await session('d-1-token', 4, 'third');
    assert.equal(await closesWithin(newer), true);
    assert.deepEqual(sim.connectedDevices(), ['d-1']);
    await sim.stop();
    sim = await startTestSimulator({ mqttsPort: null, devices: [device('d-1')], maxSessionsPerDevice: 2 });
    const [a, b] = [await session('d-1-token', 4, 'a'), await session('d-1-token', 4, 'b')];
    assert.deepEqual(await publishAcked(a, 'v1/devices/me/telemetry', { v: 1 }), { ok: true });
    assert.deepEqual(await publishAcked(b, 'v1/devices/me/telemetry', { v: 2 }), { ok: true });
    await session('d-1-token', 4, 'c');
    assert.equal(await closesWithin(a), true);
    assert.equal(b.client.connected, true);
  });

  it('pause() drops every connection and refuses new ones; resume() listens on the same ports with devices and telemetry kept', async function () {
    sim = await startTestSimulator({ mqttsPort: null, devices: [device('gw-1', true)] });
    const port = sim.mqttPort;
    const gw = await session('gw-1-token');
    await publishAcked(gw, 'v1/gateway/telemetry', { 'P 1': [{ v: 1 }] });
    await sim.pause();
    assert.equal(await closesWithin(gw), true);
    assert.equal(await refusedConnect(port), true);
    await sim.resume();
    assert.equal(sim.mqttPort, port);
    const again = await session('gw-1-token');
    assert.deepEqual(await publishAcked(again, 'v1/gateway/telemetry', { 'P 1': [{ v: 2 }] }), { ok: true });
    assert.deepEqual(
      sim.telemetry('P 1').map((record) => record.payload),
      [[{ v: 1 }], [{ v: 2 }]],
    );
    assert.equal(sim.devices().find((record) => record.name === 'P 1').gatewayName, 'gw-1');
    await sim.restart();
    assert.equal(await closesWithin(again), true);
    await session('gw-1-token');
  });
});
