'use strict';
const assert = require('node:assert/strict');
const { startTestSimulator, provisionRequest, RawSession, rawProvision, connectDevice } = require('../helpers/simulator');

async function openAndRequest(sim, fields, opts = {}) {
  const session = await RawSession.open(sim, opts);
  await session.next('connack');
  session.subscribe();
  if (!opts.noSuback) await session.next('suback');
  session.publish(provisionRequest(fields));
  return session;
}

describe('simulator: fault switches', function () {
  let sim;
  before(async function () {
    sim = await startTestSimulator({ mqttsPort: null });
  });
  afterEach(function () {
    sim.setFaults({});
  });
  after(async function () {
    await sim.stop();
  });

  it('noAnswer: the device is created but neither PUBACK nor answer arrives', async function () {
    sim.setFaults({ noAnswer: true });
    const session = await openAndRequest(sim, { deviceName: 'fault-no-answer' });
    session.send({ cmd: 'pingreq' });
    await session.next('pingresp');
    await waitUntil(() => sim.devices().some((d) => d.name === 'fault-no-answer'));
    await assert.rejects(session.next('puback', 300), /no puback/);
    assert.equal(
      session.packets.some((p) => p.cmd === 'publish'),
      false,
    );
    await session.destroy();
  });

  it('garbageAnswer: PUBACK, then an answer that is not JSON', async function () {
    sim.setFaults({ garbageAnswer: true });
    const { body, puback } = await rawProvision(sim, provisionRequest({ deviceName: 'fault-garbage' }));
    assert.ok(puback);
    assert.throws(() => JSON.parse(body.toString('utf8')));
  });

  it('rawAnswer: the answer is exactly these bytes', async function () {
    sim.setFaults({ rawAnswer: Buffer.from([0x7b, 0x00, 0xff]) });
    const { body } = await rawProvision(sim, provisionRequest({ deviceName: 'fault-raw' }));
    assert.deepEqual(body, Buffer.from([0x7b, 0x00, 0xff]));
  });

  it('noSuback: SUBSCRIBE and UNSUBSCRIBE get no answer, the request is still answered with QoS 1', async function () {
    sim.setFaults({ noSuback: true });
    const session = await RawSession.open(sim);
    await session.next('connack');
    session.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '/provision/response', qos: 0 }] });
    session.send({ cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['/nothing'] });
    session.publish(provisionRequest({ deviceName: 'fault-no-suback' }));
    const answer = await session.next('publish');
    assert.equal(JSON.parse(answer.payload).status, 'SUCCESS');
    assert.equal(answer.qos, 1, 'the ignored subscription grants nothing, so the answer is QoS 1');
    assert.deepEqual(
      session.packets.map((p) => p.cmd),
      ['connack', 'puback', 'publish'],
    );
    await session.destroy();
  });

  it('answerDelayMs: PUBACK and answer come after the delay', async function () {
    sim.setFaults({ answerDelayMs: 400 });
    const session = await openAndRequest(sim, { deviceName: 'fault-delay' });
    await waitUntil(() => sim.devices().some((d) => d.name === 'fault-delay'));
    assert.equal(
      session.packets.some((p) => p.cmd === 'puback'),
      false,
      'nothing before the delay',
    );
    const answer = await session.next('publish', 5000);
    assert.equal(JSON.parse(answer.payload).status, 'SUCCESS');
    assert.ok(session.packets.some((p) => p.cmd === 'puback'));
    await session.destroy();
  });

  it('closeAfterRequest: closed without PUBACK, no decision', async function () {
    sim.setFaults({ closeAfterRequest: true });
    const session = await openAndRequest(sim, { deviceName: 'fault-close' });
    assert.equal(await session.waitClose(), true);
    assert.deepEqual(
      session.packets.map((p) => p.cmd),
      ['connack', 'suback'],
    );
    assert.equal(
      sim.devices().some((d) => d.name === 'fault-close'),
      false,
    );
  });

  it('closeAfterPuback: PUBACK (MQTT 5 reason 0x83), then close, no answer, no device', async function () {
    sim.setFaults({ closeAfterPuback: true });
    let session = await openAndRequest(sim, { deviceName: 'fault-core' });
    assert.equal(await session.waitClose(), true);
    assert.deepEqual(
      session.packets.map((p) => p.cmd),
      ['connack', 'suback', 'puback'],
    );
    session = await openAndRequest(sim, { deviceName: 'fault-core' }, { protocolVersion: 5 });
    assert.equal((await session.next('puback')).reasonCode, 0x83);
    assert.equal(await session.waitClose(), true);
    assert.equal(
      session.packets.some((p) => p.cmd === 'publish'),
      false,
    );
    assert.equal(
      sim.devices().some((d) => d.name === 'fault-core'),
      false,
    );
  });

  it('refuseConnect: every CONNECT, provisioning or device, gets that code (mapped for the protocol version)', async function () {
    sim.setFaults({ refuseConnect: 3 });
    let session = await RawSession.open(sim);
    assert.equal((await session.next('connack')).returnCode, 3);
    assert.equal(await session.waitClose(), true);
    session = await RawSession.open(sim, { protocolVersion: 5 });
    assert.equal((await session.next('connack')).reasonCode, 0x88);
    await assert.rejects(connectDevice(sim, { username: 'whatever' }), (error) => error.code === 3);
    sim.setFaults({ refuseConnect: 0x9f });
    await assert.rejects(connectDevice(sim, { username: 'x', protocolVersion: 5 }), (error) => error.code === 0x9f);
  });

  it('setFaults({}) restores normal behaviour', async function () {
    const { json } = await rawProvision(sim, provisionRequest({ deviceName: 'fault-none' }));
    assert.equal(json.status, 'SUCCESS');
  });
});

async function waitUntil(condition, timeoutMs = 5000) {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
