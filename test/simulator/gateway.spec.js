'use strict';
// The simulator's gateway API (src/simulator/gateway/, protocol-more.md §5) over real sockets: a gateway's
// children created by connect and by telemetry, their telemetry and attributes per child, attribute
// requests, server RPCs and shared attributes through the control, what closes a gateway session, and a
// non-gateway device's gateway publish dropped without a PUBACK.
const assert = require('node:assert/strict');
const { startTestSimulator, provisionOnce, provisionRequest, DEFAULT_PROFILE } = require('../helpers/simulator');
const { openSession, publishAcked, subscribe, nextMessage, closeSession, closesWithin } = require('../helpers/device-clients');

const device = (name, gateway) => ({ name, profile: DEFAULT_PROFILE.name, credentialsType: 'ACCESS_TOKEN', credentialsValue: `${name}-token`, gateway });
const DEVICES = [device('gw-1', true), device('gw-2', true), device('plain-1', false)];

describe('simulator gateway API (v1/gateway/*)', function () {
  let sim;
  const open = [];
  const session = async (token, protocolVersion) => {
    const opened = await openSession(sim, token, { protocolVersion });
    open.push(opened);
    return opened;
  };
  before(async function () {
    sim = await startTestSimulator({ mqttsPort: null, devices: DEVICES });
  });
  afterEach(async function () {
    await Promise.all(open.splice(0).map(closeSession));
  });
  after(async function () {
    await sim.stop();
  });
  const child = (name) => sim.devices().find((record) => record.name === name);

  it('a device provisioned with "gateway": true is a gateway in the registry', async function () {
    const answer = await provisionOnce(sim, provisionRequest({ deviceName: 'gw-provisioned', gateway: true }));
    assert.equal(answer.status, 'SUCCESS');
    assert.equal(child('gw-provisioned').gateway, true);
    assert.equal(child('plain-1').gateway, false);
  });

  it('children are created by connect (with its type) and by telemetry (type default), with their gateway', async function () {
    const gw = await session('gw-1-token');
    assert.deepEqual(await publishAcked(gw, 'v1/gateway/connect', { device: 'Meter 1', type: 'meter' }), { ok: true });
    assert.deepEqual(await publishAcked(gw, 'v1/gateway/telemetry', { 'Meter 2': [{ kwh: 1 }] }), { ok: true });
    assert.deepEqual(
      { type: child('Meter 1').type, profile: child('Meter 1').profile, gatewayName: child('Meter 1').gatewayName, gateway: child('Meter 1').gateway },
      { type: 'meter', profile: 'meter', gatewayName: 'gw-1', gateway: false },
    );
    assert.equal(child('Meter 1').credentials.credentialsType, 'ACCESS_TOKEN');
    assert.equal(child('Meter 2').type, 'default');
    assert.deepEqual(sim.connectedChildren(), { 'gw-1': ['Meter 1', 'Meter 2'] });
    assert.deepEqual(await publishAcked(gw, 'v1/gateway/disconnect', { device: 'Meter 1' }), { ok: true });
    assert.deepEqual(sim.connectedChildren(), { 'gw-1': ['Meter 2'] });
  });

  it('telemetry is kept per child, every record in arrival order, duplicates included; a non-array child is skipped', async function () {
    const gw = await session('gw-1-token');
    const first = { 'T 1': [{ ts: 1, values: { v: 1 } }, { v: 2 }], 'T 2': [{ v: 10 }], 'T skipped': { v: 0 } };
    assert.deepEqual(await publishAcked(gw, 'v1/gateway/telemetry', first), { ok: true });
    assert.deepEqual(await publishAcked(gw, 'v1/gateway/telemetry', { 'T 1': [{ v: 2 }] }), { ok: true });
    assert.deepEqual(await publishAcked(gw, 'v1/gateway/telemetry', { 'T 1': [{ v: 2 }] }), { ok: true });
    const t1 = sim.telemetry('T 1');
    assert.deepEqual(
      t1.map((record) => record.payload),
      [[{ ts: 1, values: { v: 1 } }, { v: 2 }], [{ v: 2 }], [{ v: 2 }]],
    );
    assert.ok(t1.every((record) => record.gateway === 'gw-1' && record.topic === 'v1/devices/me/telemetry'));
    assert.deepEqual(
      sim.telemetry('T 2').map((record) => record.payload),
      [[{ v: 10 }]],
    );
    assert.deepEqual(sim.telemetry('T skipped'), []);
    assert.equal(child('T skipped'), undefined);
  });

  it('attributes per child; attribute requests answered with value (one key), values (several), neither (none found)', async function () {
    const gw = await session('gw-1-token');
    await subscribe(gw, ['v1/gateway/attributes/response']);
    assert.deepEqual(await publishAcked(gw, 'v1/gateway/attributes', { 'A 1': { fw: '1.0', model: 'x' }, 'A 2': { fw: '2.0' } }), { ok: true });
    assert.deepEqual(sim.clientAttributes('A 1'), { fw: '1.0', model: 'x' });
    assert.equal(sim.telemetry('A 2')[0].topic, 'v1/devices/me/attributes');
    sim.setChildSharedAttributes('A 1', { target: 21 });
    const ask = async (request) => {
      await publishAcked(gw, 'v1/gateway/attributes/request', request);
      return (await nextMessage(gw, 'v1/gateway/attributes/response', (answer) => answer.id === request.id)).payload;
    };
    assert.deepEqual(await ask({ id: 1, device: 'A 1', client: true, key: 'fw' }), { id: 1, device: 'A 1', value: '1.0' });
    assert.deepEqual(await ask({ id: 2, device: 'A 1', client: true, keys: ['fw', 'model', 'gone'] }), {
      id: 2,
      device: 'A 1',
      values: { fw: '1.0', model: 'x' },
    });
    assert.deepEqual(await ask({ id: 3, device: 'A 1', client: true, keys: ['fw'] }), { id: 3, device: 'A 1', value: '1.0' });
    assert.deepEqual(await ask({ id: 4, device: 'A 1', client: true, key: 'gone' }), { id: 4, device: 'A 1' });
    assert.deepEqual(await ask({ id: 5, device: 'A 1', client: false, key: 'target' }), { id: 5, device: 'A 1', value: 21 });
    assert.deepEqual(await ask({ id: 6, device: 'A 1', client: false, key: 'fw' }), { id: 6, device: 'A 1' });
  });

  it('server RPCs reach each child through its gateway and resolve with the reply; an unanswered one times out', async function () {
    const gw = await session('gw-1-token');
    await subscribe(gw, ['v1/gateway/rpc']);
    gw.client.on('message', (topic, payload) => {
      const { device: name, data } = JSON.parse(payload.toString());
      if (topic !== 'v1/gateway/rpc' || data.method === 'ignore') return;
      gw.client.publish('v1/gateway/rpc', JSON.stringify({ device: name, id: data.id, data: { echo: name, params: data.params } }), { qos: 1 });
    });
    await publishAcked(gw, 'v1/gateway/connect', { device: 'R 1' });
    await publishAcked(gw, 'v1/gateway/connect', { device: 'R 2' });
    const answers = await Promise.all([
      sim.sendChildRpc('R 1', { method: 'get', params: { pin: 1 } }),
      sim.sendChildRpc('R 2', { method: 'get', params: { pin: 2 } }),
    ]);
    assert.deepEqual(answers, [
      { echo: 'R 1', params: { pin: 1 } },
      { echo: 'R 2', params: { pin: 2 } },
    ]);
    const request = gw.received.find((message) => message.topic === 'v1/gateway/rpc' && message.payload.device === 'R 1');
    assert.deepEqual(Object.keys(request.payload.data), ['id', 'method', 'params']);
    await assert.rejects(sim.sendChildRpc('R 1', { method: 'ignore' }, 100), /did not answer/);
    await assert.rejects(sim.sendChildRpc('nobody', { method: 'get' }), /not online/);
  });

  it('shared-attribute updates (with deleted) and a dropped child reach the gateway', async function () {
    const gw = await session('gw-2-token');
    await subscribe(gw, ['v1/gateway/attributes', 'v1/gateway/disconnect']);
    await publishAcked(gw, 'v1/gateway/connect', { device: 'S 1' });
    assert.equal(sim.setChildSharedAttributes('S 1', { target: 5 }), 1);
    assert.equal(sim.setChildSharedAttributes('S 1', { mode: 'eco' }, ['target']), 1);
    await nextMessage(gw, 'v1/gateway/attributes', (update) => update.data.mode === 'eco');
    assert.deepEqual(
      gw.received.filter((message) => message.topic === 'v1/gateway/attributes').map((message) => message.payload),
      [
        { device: 'S 1', data: { target: 5 } },
        { device: 'S 1', data: { mode: 'eco', deleted: ['target'] } },
      ],
    );
    assert.equal(sim.disconnectChild('S 1', 3), 1);
    assert.deepEqual((await nextMessage(gw, 'v1/gateway/disconnect')).payload, { device: 'S 1', reason: 3 });
    assert.equal(sim.connectedChildren()['gw-2'], undefined);
    await assert.rejects(sim.sendChildRpc('S 1', { method: 'get' }), /not online/);
  });

  for (const [what, topic, body, reasonCode] of [
    ['JSON that does not parse', 'v1/gateway/telemetry', '{"M": [', 0x99],
    ['a missing "device"', 'v1/gateway/connect', { type: 'meter' }, 0x83],
    ['an "id" that is not a number', 'v1/gateway/attributes/request', { id: 'seven', device: 'M', key: 'k' }, 0x83],
    ['an empty object', 'v1/gateway/telemetry', {}, 0x83],
  ]) {
    it(`${what} closes the gateway session: MQTT 5 PUBACK 0x${reasonCode.toString(16)} then close; 3.1.1 closed`, async function () {
      const v5 = await session('gw-2-token', 5);
      assert.deepEqual(await publishAcked(v5, topic, body), { reasonCode });
      assert.equal(await closesWithin(v5), true);
      const v4 = await session('gw-2-token', 4);
      assert.deepEqual(await publishAcked(v4, topic, body), { closed: true });
    });
  }

  it('a device that is not a gateway gets no PUBACK on v1/gateway/* and nothing else; its session goes on', async function () {
    for (const protocolVersion of [4, 5]) {
      const plain = await session('plain-1-token', protocolVersion);
      let gatewayAck = null;
      plain.client.publish('v1/gateway/telemetry', JSON.stringify({ 'X 1': [{ v: 1 }] }), { qos: 1 }, (error) => {
        gatewayAck = error || 'acked';
      });
      // aedes handles a session's packets in order: once the next publish is acknowledged, the first was decided.
      assert.deepEqual(await publishAcked(plain, 'v1/devices/me/telemetry', { v: 1 }), { ok: true });
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(gatewayAck, null);
      assert.equal(child('X 1'), undefined);
      assert.equal(plain.client.connected, true);
      await closeSession(plain);
    }
  });
});
