'use strict';
// The core's gateway (src/gateway/, openGateway) over real sockets against the simulator: children
// created by connect and by telemetry, batches never over the packet limit, an RPC round trip per child,
// attribute requests, children announced again after a reconnect, NOT_GATEWAY for an ordinary device,
// and 1,000 children over one session.
const assert = require('node:assert/strict');
const { startTestSimulator, DEFAULT_PROFILE } = require('../helpers/simulator');
const { openGateway, publishOverhead } = require('../../nodes/gateway');
const { Batcher } = require('../../nodes/gateway/batcher');

const device = (name, gateway) => ({ name, profile: DEFAULT_PROFILE.name, credentialsType: 'ACCESS_TOKEN', credentialsValue: `${name}-token`, gateway });
const asGateway = (name) => ({ deviceName: name, credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: `${name}-token` } });
const GATEWAYS = ['gw-core-1', 'gw-core-2', 'gw-core-3', 'gw-core-4', 'gw-core-5'];

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function waitUntil(predicate) {
  while (!predicate()) await delay(10);
}

describe('gateway core (openGateway) against the simulator', function () {
  let sim;
  const opened = [];
  /** A gateway on the simulator's plain port, closed after the test. */
  function gatewayFor(name, options = {}, server = {}) {
    const gateway = openGateway({
      server: { host: '127.0.0.1', port: sim.mqttPort, tls: false, answerTimeoutMs: 2000, ...server },
      gateway: asGateway(name),
      reconnectBaseMs: 20,
      ...options,
    });
    opened.push(gateway);
    return gateway;
  }
  const record = (name) => sim.devices().find((d) => d.name === name);

  before(async function () {
    sim = await startTestSimulator({ mqttsPort: null, devices: [...GATEWAYS.map((name) => device(name, true)), device('plain-core', false)] });
  });
  afterEach(async function () {
    await Promise.all(opened.splice(0).map((gateway) => gateway.close()));
  });
  after(async function () {
    await sim.stop();
  });

  it('creates children by connect (with its type) and by telemetry (type default); one batch carries several children', async function () {
    const gateway = gatewayFor('gw-core-1');
    await gateway.request({ deviceName: 'Core Meter A', deviceType: 'meter', topic: 'connect' });
    await Promise.all([
      gateway.request({ deviceName: 'Core Meter B', payload: { kwh: 1 } }),
      gateway.request({ deviceName: 'Core Meter C', deviceType: 'valve', payload: [{ ts: 1700000000000, values: { open: true } }, { open: false }] }),
      gateway.request({ deviceName: 'Core Meter C', payload: { open: true } }),
      gateway.request({ deviceName: 'Core Meter B', topic: 'attributes', payload: { fw: '1.0' } }),
    ]);
    assert.deepEqual([record('Core Meter A').type, record('Core Meter A').gatewayName], ['meter', 'gw-core-1']);
    assert.equal(record('Core Meter B').type, 'default');
    assert.equal(record('Core Meter C').type, 'valve');
    assert.deepEqual(
      sim.telemetry('Core Meter C').map((r) => r.payload),
      [[{ ts: 1700000000000, values: { open: true } }, { open: false }, { open: true }]],
      'the two messages of one child within the window went out in one array',
    );
    assert.deepEqual(sim.clientAttributes('Core Meter B'), { fw: '1.0' });
    assert.deepEqual(gateway.counts(), { connected: true, children: 3, queued: 0 });
    await gateway.request({ deviceName: 'Core Meter A', topic: 'disconnect' });
    assert.deepEqual(sim.connectedChildren()['gw-core-1'].sort(), ['Core Meter B', 'Core Meter C']);
    assert.equal(gateway.counts().children, 2);
  });

  it('answers an RPC per child with rpc/response, and attribute requests with both scopes', async function () {
    const children = ['Rpc 1', 'Rpc 2', 'Rpc 3'];
    const gateway = gatewayFor('gw-core-2', {
      onRequest: (request) => {
        if (request.kind !== 'rpc/request') return;
        gateway.send(
          {
            deviceName: request.deviceName,
            topic: 'rpc/response',
            requestId: request.requestId,
            payload: { echo: request.payload.params, by: request.deviceName },
          },
          () => {},
        );
      },
    });
    await Promise.all(children.map((name) => gateway.request({ deviceName: name, payload: { up: 1 } })));
    const answers = await Promise.all(children.map((name, i) => sim.sendChildRpc(name, { method: 'ping', params: { i } })));
    assert.deepEqual(
      answers,
      children.map((name, i) => ({ echo: { i }, by: name })),
    );

    await gateway.request({ deviceName: 'Rpc 1', topic: 'attributes', payload: { fw: '2.1', model: 'x' } });
    sim.setChildSharedAttributes('Rpc 1', { target: 21, mode: 'eco' });
    assert.deepEqual(
      await gateway.request({ deviceName: 'Rpc 1', topic: 'attributes/request', payload: { clientKeys: 'fw', sharedKeys: ['target', 'mode', 'none'] } }),
      {
        client: { fw: '2.1' },
        shared: { target: 21, mode: 'eco' },
      },
    );
    assert.deepEqual(await gateway.request({ deviceName: 'Rpc 2', topic: 'attributes/request', payload: { clientKeys: 'missing' } }), {});

    const update = new Promise((resolve) => {
      opened.push(
        openGateway({
          server: { host: '127.0.0.1', port: sim.mqttPort, tls: false },
          gateway: asGateway('gw-core-3'),
          onRequest: resolve,
        }),
      );
    });
    await opened.at(-1).request({ deviceName: 'Shared 1', payload: { t: 1 } });
    sim.setChildSharedAttributes('Shared 1', { setpoint: 5 });
    assert.deepEqual(await update, { kind: 'attributes', deviceName: 'Shared 1', payload: { setpoint: 5 } });
  });

  it('after a lost session, announces every known child again before anything else is sent', async function () {
    // The loss is seen through onChange: with a 20 ms reconnect, polling counts() can miss it on a busy machine.
    let [up, lost] = [false, false];
    const gateway = gatewayFor('gw-core-4', {
      onChange: () => {
        if (gateway.counts().connected) up = true;
        else if (up) lost = true;
      },
    });
    const children = Array.from({ length: 30 }, (_, i) => `Again ${i}`);
    await Promise.all(children.map((name) => gateway.request({ deviceName: name, payload: { i: 1 } })));
    assert.equal(sim.connectedChildren()['gw-core-4'].length, 30);
    assert.equal(lost, false);
    sim.disconnectDevice('gw-core-4');
    await waitUntil(() => lost);
    await waitUntil(() => gateway.counts().connected && (sim.connectedChildren()['gw-core-4'] ?? []).length === 30);
    assert.deepEqual(sim.connectedChildren()['gw-core-4'].sort(), [...children].sort());
  });

  it('a batch is never larger than the limit: Remaining Length (topic and packet id included) of every publish', function () {
    for (const protocolVersion of [4, 5]) {
      const published = [];
      const batcher = new Batcher({ batchWindowMs: 1000, maxPacketBytes: 2048, protocolVersion }, (batch) => published.push(batch));
      for (let i = 0; i < 500; i++)
        batcher.add(i % 3 ? 'telemetry' : 'attributes', `Child ${i % 97} é`, JSON.stringify({ v: 'x'.repeat((i * 37) % 1900) }), () => {});
      batcher.flushAll();
      const sizes = published.map((batch) => {
        const body = batch.body();
        assert.equal(batch.bytes, Buffer.byteLength(body), 'the size kept while filling is the size of the body');
        JSON.parse(body);
        return publishOverhead(`v1/gateway/${batch.kind}`, protocolVersion) + batch.bytes;
      });
      assert.ok(Math.max(...sizes) <= 2048, `largest Remaining Length ${Math.max(...sizes)}`);
      assert.ok(Math.max(...sizes) > 2000, 'batches are filled close to the limit');
      assert.equal(
        published.reduce((sum, batch) => sum + batch.members.length, 0),
        500,
      );
    }
  });

  it('batches fit the server limit over a real session (400 children, parts up to the limit)', async function () {
    this.timeout(20000);
    const small = await startTestSimulator({ mqttsPort: null, devices: [device('gw-small', true)], sessionLimits: { maxPayloadSize: 2048 } });
    try {
      const gateway = openGateway({
        server: { host: '127.0.0.1', port: small.mqttPort, tls: false, answerTimeoutMs: 2000 },
        gateway: asGateway('gw-small'),
        maxPacketBytes: 2048,
        batchWindowMs: 20,
      });
      try {
        // Parts of varied sizes (some near the limit), 400 children: dozens of batches, none refused.
        const sends = Array.from({ length: 400 }, (_, i) => gateway.request({ deviceName: `Small ${i}`, payload: { v: 'x'.repeat((i * 37) % 1900) } }));
        await Promise.all(sends);
        assert.equal(small.connectedDevices().length, 1);
        assert.equal(small.telemetry().length, 400);
        const tooBig = await gateway.request({ deviceName: 'Small big', payload: { v: 'x'.repeat(2048) } }).catch((error) => error);
        assert.deepEqual([tooBig.code, tooBig.details.field, tooBig.details.deviceName], ['INVALID_INPUT', 'payload', 'Small big']);
      } finally {
        await gateway.close();
      }
    } finally {
      await small.stop();
    }
  });

  it('each child paced under the child rate limits: a burst for one child does not trip them, another child is not held back', async function () {
    this.timeout(20000);
    // rateLimits of a gateway's answer are each child's (the gateway's own, gatewayRateLimits, none here).
    const limited = await startTestSimulator({ mqttsPort: null, devices: [device('gw-paced', true)], sessionLimits: { rateLimits: { messages: '5:1' } } });
    const gateway = openGateway({ server: { host: '127.0.0.1', port: limited.mqttPort, tls: false, answerTimeoutMs: 3000 }, gateway: asGateway('gw-paced') });
    try {
      // The first messages go before the limits are told (each child: its announcement and one telemetry): charged to them when they are.
      await Promise.all(['Busy', 'Quiet'].map((name) => gateway.request({ deviceName: name, payload: { n: 0 } })));
      const start = Date.now();
      const settledAt = (promise) => promise.then(() => Date.now() - start);
      // Attributes of one child are a publish each (GridLinks counts one message per publish per child); telemetry within the batch window share one.
      const busy = Array.from({ length: 12 }, (_, i) => settledAt(gateway.request({ deviceName: 'Busy', topic: 'attributes', payload: { n: i + 1 } })));
      const quiet = await Promise.all(Array.from({ length: 12 }, (_, i) => settledAt(gateway.request({ deviceName: 'Quiet', payload: { n: i + 1 } }))));
      const busyTimes = await Promise.all(busy);
      assert.ok(Math.max(...quiet) < 1000, `Quiet's batch went on at once (${Math.max(...quiet)} ms), not behind Busy's burst`);
      assert.ok(Math.max(...busyTimes) > 1500, `Busy's burst was paced under "5:1" at 90 % (last after ${Math.max(...busyTimes)} ms)`);
      assert.equal(limited.telemetry('Quiet').flatMap((r) => r.payload).length, 13);
      assert.deepEqual(limited.clientAttributes('Busy'), { n: 12 });
      assert.deepEqual(limited.connectedDevices(), ['gw-paced']);
      assert.deepEqual(
        limited.logLines.filter((line) => /rate limit/.test(line)),
        [],
        'no limit tripped',
      );
    } finally {
      await gateway.close();
      await limited.stop();
    }
  });

  for (const protocolVersion of [4, 5]) {
    it(`MQTT ${protocolVersion === 5 ? '5 (PUBACK 0x97)' : '3.1.1'}: a child's burst sent before the limits are told, closed over them, fails RATE_LIMITED; the next session keeps to them`, async function () {
      this.timeout(20000);
      const name = `gw-burst-${protocolVersion}`;
      const limited = await startTestSimulator({ mqttsPort: null, devices: [device(name, true)], sessionLimits: { rateLimits: { messages: '5:1' } } });
      const gateway = openGateway({
        server: { host: '127.0.0.1', port: limited.mqttPort, tls: false, protocolVersion, answerTimeoutMs: 3000 },
        gateway: asGateway(name),
      });
      const settle = (promise) =>
        promise.then(
          () => 'ok',
          (error) => error,
        );
      try {
        // Attributes of one child: a publish each, all sent as the session comes up.
        const outcomes = await Promise.all(
          Array.from({ length: 12 }, (_, i) => settle(gateway.request({ deviceName: 'Burst', topic: 'attributes', payload: { n: i } }))),
        );
        const failed = outcomes.filter((outcome) => outcome !== 'ok');
        assert.ok(failed.length > 0, 'the burst tripped the child limit');
        for (const error of failed) {
          assert.deepEqual([error.code, error.details.deviceName, error.details.gatewayName], ['RATE_LIMITED', 'Burst', name], error.message);
          assert.match(error.message, /over its rate limits/);
        }
        const after = await Promise.all(
          Array.from({ length: 4 }, (_, i) => settle(gateway.request({ deviceName: 'Burst', topic: 'attributes', payload: { after: i } }))),
        );
        assert.deepEqual(after, ['ok', 'ok', 'ok', 'ok'], after.map((outcome) => outcome.message ?? outcome).join('\n'));
      } finally {
        await gateway.close();
        await limited.stop();
      }
    });
  }

  it('an ordinary device is not a gateway: NOT_GATEWAY with advice, for every message of it', async function () {
    const gateway = gatewayFor('plain-core', {}, { answerTimeoutMs: 500 });
    const errors = await Promise.all([
      gateway.request({ deviceName: 'Orphan 1', payload: { t: 1 } }).catch((error) => error),
      gateway.request({ deviceName: 'Orphan 2', topic: 'attributes/request', payload: { sharedKeys: 'a' } }).catch((error) => error),
    ]);
    assert.deepEqual(
      errors.map((error) => [error.code, error.details.deviceName, error.details.gatewayName]),
      [
        ['NOT_GATEWAY', 'Orphan 1', 'plain-core'],
        ['NOT_GATEWAY', 'Orphan 2', 'plain-core'],
      ],
    );
    assert.match(errors[0].message, /not a gateway.*Create as gateway/);
    const later = await gateway.request({ deviceName: 'Orphan 3', payload: { t: 1 } }).catch((error) => error);
    assert.equal(later.code, 'NOT_GATEWAY');
    assert.equal(record('Orphan 1'), undefined);
  });

  it('1,000 children over one session', async function () {
    this.timeout(30000);
    const gateway = gatewayFor('gw-core-5');
    const names = Array.from({ length: 1000 }, (_, i) => `Bulk ${i}`);
    for (let round = 0; round < 3; round++) {
      await Promise.all(names.map((name, i) => gateway.request({ deviceName: name, payload: { i, round } })));
    }
    assert.equal(sim.connectedChildren()['gw-core-5'].length, 1000);
    assert.deepEqual(
      sim.telemetry('Bulk 999').flatMap((r) => r.payload),
      [0, 1, 2].map((round) => ({ i: 999, round })),
    );
    assert.equal(sim.connectedDevices().filter((name) => name === 'gw-core-5').length, 1);
    assert.deepEqual(gateway.counts(), { connected: true, children: 1000, queued: 0 });
  });
});
