'use strict';
// The simulator's server side of device sessions (src/simulator/devices/device-control.ts), driven with bare
// mqtt.js clients: RPCs only to subscribed sessions, attribute requests answered as GridLinks does, no
// publish of one device ever reaching another, shared updates to subscribers only.
const assert = require('node:assert/strict');
const { startTestSimulator, connectDevice, DEFAULT_PROFILE } = require('../helpers/simulator');
const { waitUntil } = require('../helpers/node-red');

const DEVICES = ['ctl-a', 'ctl-b'].map((name) => ({ name, profile: DEFAULT_PROFILE.name, credentialsType: 'ACCESS_TOKEN', credentialsValue: `${name}-token` }));

function subscribe(client, topics) {
  return new Promise((resolve, reject) => client.subscribe(topics, { qos: 1 }, (error) => (error ? reject(error) : resolve())));
}

function publish(client, topic, value) {
  return new Promise((resolve, reject) => client.publish(topic, JSON.stringify(value), { qos: 1 }, (error) => (error ? reject(error) : resolve())));
}

describe('simulator device control: RPC, attributes, isolation between devices', function () {
  let sim;
  let a;
  let b;
  const received = { a: [], b: [] };
  before(async function () {
    sim = await startTestSimulator({ mqttsPort: null, devices: DEVICES });
    ({ client: a } = await connectDevice(sim, { username: 'ctl-a-token' }));
    ({ client: b } = await connectDevice(sim, { username: 'ctl-b-token' }));
    a.on('message', (topic, payload) => received.a.push({ topic, payload: JSON.parse(payload.toString()) }));
    b.on('message', (topic, payload) => received.b.push({ topic, payload: JSON.parse(payload.toString()) }));
  });
  after(async function () {
    await Promise.all([a, b].map((client) => new Promise((resolve) => client.end(true, {}, resolve))));
    await sim.stop();
  });

  it('an RPC goes only to a session subscribed to RPCs; its answer resolves sendRpc; an unanswered one times out', async function () {
    await assert.rejects(sim.sendRpc('ctl-a', { method: 'm' }), /no session subscribed/);
    await subscribe(a, ['v1/devices/me/rpc/request/+']);
    const answer = sim.sendRpc('ctl-a', { method: 'getValue', params: { pin: 4 } });
    await waitUntil(() => received.a.length === 1);
    const [request] = received.a;
    assert.match(request.topic, /^v1\/devices\/me\/rpc\/request\/\d+$/);
    assert.deepEqual(request.payload, { method: 'getValue', params: { pin: 4 } });
    await publish(a, request.topic.replace('request', 'response'), { value: 1 });
    assert.deepEqual(await answer, { value: 1 });
    await assert.rejects(sim.sendRpc('ctl-a', { method: 'slow' }, 100), /did not answer/);
  });

  it('attribute requests: the keys asked for in "client" and "shared", a scope without values left out, all keys when none named', async function () {
    await subscribe(b, ['v1/devices/me/attributes/response/+']);
    await publish(b, 'v1/devices/me/attributes', { fw: '1.0', model: 'm1' });
    sim.setSharedAttributes('ctl-b', { interval: 5 });
    const ask = async (id, request) => {
      const before = received.b.length;
      await publish(b, `v1/devices/me/attributes/request/${id}`, request);
      await waitUntil(() => received.b.length > before);
      const answer = received.b.at(-1);
      assert.equal(answer.topic, `v1/devices/me/attributes/response/${id}`);
      return answer.payload;
    };
    assert.deepEqual(await ask(1, { clientKeys: 'fw', sharedKeys: 'interval' }), { client: { fw: '1.0' }, shared: { interval: 5 } });
    assert.deepEqual(await ask(2, { clientKeys: 'fw,missing' }), { client: { fw: '1.0' } });
    assert.deepEqual(await ask(3, { sharedKeys: 'missing' }), {});
    assert.deepEqual(await ask(4, {}), { client: { fw: '1.0', model: 'm1' }, shared: { interval: 5 } });
    assert.deepEqual(sim.clientAttributes('ctl-b'), { fw: '1.0', model: 'm1' });
  });

  it("shared-attribute updates reach the device's subscribed sessions only, and one device's publishes never reach another", async function () {
    await subscribe(b, ['v1/devices/me/attributes']);
    const bBefore = received.b.length;
    const aBefore = received.a.length;
    // (A subscription to v1/devices/me/telemetry is refused, as GridLinks refuses it: not a topic it serves.)
    await subscribe(a, ['v1/devices/me/attributes']);
    await publish(a, 'v1/devices/me/attributes', { fromA: true });
    await publish(a, 'v1/devices/me/telemetry', { fromA: true });
    assert.equal(sim.setSharedAttributes('ctl-b', { target: 7 }), 1);
    await waitUntil(() => received.b.length > bBefore);
    assert.deepEqual(received.b.slice(bBefore), [{ topic: 'v1/devices/me/attributes', payload: { target: 7 } }]);
    assert.deepEqual(received.a.slice(aBefore), []);
    assert.deepEqual(sim.connectedDevices().sort(), ['ctl-a', 'ctl-b']);
  });
});
