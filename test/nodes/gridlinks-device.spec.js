'use strict';
// gridlinks-device in a real Node-RED runtime against the simulator: devices from msg.device, from the
// store and by the name of an open session; telemetry, attributes, attribute requests, RPC round trip;
// every error to Catch with its code while other devices keep working; status; close report; 500 devices.
const assert = require('node:assert/strict');
const net = require('node:net');
const crypto = require('node:crypto');
const { startTestSimulator, DEFAULT_PROFILE } = require('../helpers/simulator');
const { tempDir, unusedPort, settledSnapshot, expectNothingLeft } = require('../helpers/faults');
const { helper, load, serverNode, waitUntil, TAB, PROFILE } = require('../helpers/node-red');

const TOKEN_DEVICES = Array.from({ length: 500 }, (_, i) => ({ name: `bulk-${i}`, token: `bulk-token-${i}` }));

function tokenDevice(i) {
  return { deviceName: TOKEN_DEVICES[i].name, credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: TOKEN_DEVICES[i].token } };
}

/** Flow: [provision `prov` →] device node `dev` (outputs → `sent`, `received`), Catch → `caught`. */
function deviceFlow(sim, { device = {}, server = {}, serverCreds } = {}) {
  const srv = serverNode(sim, server);
  const flow = [
    { id: TAB, type: 'tab', label: 'device tests' },
    srv.node,
    {
      id: 'prov',
      type: 'gridlinks-provision',
      z: TAB,
      server: 'srv',
      credentialsType: 'X509_CERTIFICATE',
      keyAlgorithm: 'p256',
      deviceName: 'payload.deviceName',
      deviceNameType: 'msg',
      provisionKeyType: 'cred',
      provisionSecretType: 'cred',
      storeDir: device.storeDir || '',
      includePrivateKey: true,
      maxParallel: 4,
      outputProperty: 'payload',
      wires: [['provisioned']],
    },
    { id: 'provisioned', type: 'helper', z: TAB },
    {
      id: 'dev',
      type: 'gridlinks-device',
      z: TAB,
      name: '',
      server: 'srv',
      storeDir: '',
      receive: true,
      idleTimeout: 300,
      maxConnections: 1000,
      queueSize: 100,
      wires: [['sent'], ['received']],
      ...device,
    },
    { id: 'sent', type: 'helper', z: TAB },
    { id: 'received', type: 'helper', z: TAB },
    { id: 'catcher', type: 'catch', z: TAB, scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: TAB },
  ];
  const credentials = {
    srv: serverCreds === undefined ? srv.credentials : serverCreds,
    prov: { provisionDeviceKey: PROFILE.provisionDeviceKey, provisionDeviceSecret: PROFILE.provisionDeviceSecret },
  };
  return { flow, credentials };
}

/** Sends `msg` into `id` and resolves with what comes out of `sent` or `caught` first. */
function outcomeOf(id, msg) {
  return new Promise((resolve) => {
    const sent = helper.getNode('sent');
    const caught = helper.getNode('caught');
    const onSent = (out) => finish({ ok: true, msg: out });
    const onCaught = (out) => finish({ ok: false, msg: out });
    function finish(outcome) {
      sent.removeListener('input', onSent);
      caught.removeListener('input', onCaught);
      resolve(outcome);
    }
    sent.on('input', onSent);
    caught.on('input', onCaught);
    helper.getNode(id).receive(msg);
  });
}

async function expectSent(msg) {
  const outcome = await outcomeOf('dev', msg);
  if (!outcome.ok) throw new Error(`expected output 1, got ${outcome.msg.gridlinksError.code}: ${outcome.msg.gridlinksError.message}`);
  return outcome.msg;
}

async function expectCaught(msg) {
  const outcome = await outcomeOf('dev', msg);
  if (outcome.ok) throw new Error(`expected Catch, got output 1 for ${outcome.msg.deviceName}`);
  return outcome.msg;
}

async function provisioned(deviceName) {
  const result = new Promise((resolve) => helper.getNode('provisioned').once('input', resolve));
  helper.getNode('prov').receive({ payload: { deviceName } });
  return (await result).payload;
}

/** A listener that accepts and never answers: a session to it stays "connecting". */
async function silentListener() {
  const sockets = new Set();
  // Reads and drops what arrives, so a socket the client closes closes here too.
  const server = net.createServer((socket) => sockets.add(socket.resume()));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Runs `fn(node, caught)` with node `dev` aimed at a silent listener (connect timeout 1 s); `caught` collects what reaches Catch. */
async function withSilentServer(sim, device, fn) {
  const silent = await silentListener();
  try {
    const { flow, credentials } = deviceFlow(sim, { server: { port: silent.port, tls: false, connectTimeout: 1 }, device });
    await load(flow, credentials);
    const caught = [];
    helper.getNode('caught').on('input', (msg) => caught.push(msg.gridlinksError));
    await fn(helper.getNode('dev'), caught);
  } finally {
    await silent.close();
  }
}

describe('gridlinks-device node (real runtime, simulator on 127.0.0.1)', function () {
  let sim;
  before(async function () {
    sim = await startTestSimulator({
      devices: TOKEN_DEVICES.map((t) => ({ name: t.name, profile: DEFAULT_PROFILE.name, credentialsType: 'ACCESS_TOKEN', credentialsValue: t.token })),
    });
  });
  after(async function () {
    await sim.stop();
  });
  afterEach(async function () {
    await helper.unload();
  });

  it('acts as an X.509 device from msg.device: telemetry, client attributes, an attribute request, an RPC round trip', async function () {
    const { flow, credentials } = deviceFlow(sim);
    await load(flow, credentials);
    const device = await provisioned(`node-x509-${Date.now()}`);
    const sent = await expectSent({
      device,
      payload: [
        { ts: 1700000000000, values: { t: 1 } },
        { ts: 1700000001000, values: { t: 2 } },
      ],
    });
    assert.equal(sent.deviceName, device.deviceName);
    assert.deepEqual(sim.telemetry(device.deviceName)[0].payload, [
      { ts: 1700000000000, values: { t: 1 } },
      { ts: 1700000001000, values: { t: 2 } },
    ]);
    await expectSent({ device, topic: 'attributes', payload: { firmware: '2.0' } });
    assert.deepEqual(sim.clientAttributes(device.deviceName), { firmware: '2.0' });
    sim.setSharedAttributes(device.deviceName, { setpoint: 22 });
    const answer = await expectSent({ device, topic: 'attributes/request', payload: { clientKeys: 'firmware', sharedKeys: ['setpoint'] } });
    assert.deepEqual(answer.payload, { client: { firmware: '2.0' }, shared: { setpoint: 22 } });

    const rpcIn = new Promise((resolve) => helper.getNode('received').once('input', resolve));
    const rpcAnswer = sim.sendRpc(device.deviceName, { method: 'getState', params: {} });
    const request = await rpcIn;
    assert.deepEqual([request.deviceName, request.topic, request.payload.method], [device.deviceName, 'rpc/request', 'getState']);
    assert.equal(typeof request.requestId, 'number');
    // The message from output 2 goes back by its deviceName alone (this node has the session).
    const back = await expectSent({ deviceName: request.deviceName, requestId: request.requestId, topic: 'rpc/response', payload: { state: 'on' } });
    assert.equal(back.topic, 'rpc/response');
    assert.deepEqual(await rpcAnswer, { state: 'on' });

    const update = new Promise((resolve) => helper.getNode('received').once('input', resolve));
    sim.setSharedAttributes(device.deviceName, { setpoint: 23 });
    assert.deepEqual((await update).payload, { setpoint: 23 });
    assert.equal((await update).topic, 'attributes');
  });

  it('reads devices from the store folder by msg.deviceName (X.509 key and certificate files, tokens)', async function () {
    const storeDir = tempDir('device-store');
    const { flow, credentials } = deviceFlow(sim, { device: { storeDir } });
    await load(flow, credentials);
    const x509Name = `stored-x509-${Date.now()}`;
    const result = await provisioned(x509Name);
    assert.ok(result.stored);
    await expectSent({ deviceName: x509Name, payload: { stored: 1 } });
    // With a store folder the outbox is on: a reading without ts goes out with the time it was kept.
    const { ts, values } = sim.telemetry(x509Name)[0].payload;
    assert.deepEqual(values, { stored: 1 });
    assert.ok(Math.abs(Date.now() - ts) < 60_000, `ts ${ts}`);
    const unknown = await expectCaught({ deviceName: 'never-provisioned', payload: { x: 1 } });
    assert.equal(unknown.gridlinksError.code, 'STORE');
    assert.equal(unknown.error.code, 'STORE');
    assert.match(unknown.gridlinksError.message, /never-provisioned/);
  });

  it('a burst for a stored device sent before its entry is read reaches the server in order (one read per device)', async function () {
    const storeDir = tempDir('device-store-order');
    const { flow, credentials } = deviceFlow(sim, { device: { storeDir } });
    await load(flow, credentials);
    const deviceName = `stored-order-${Date.now()}`;
    await provisioned(deviceName);
    const sent = [];
    helper.getNode('sent').on('input', (msg) => sent.push(msg.payload.n));
    const node = helper.getNode('dev');
    for (let n = 0; n < 90; n++) node.receive({ deviceName, payload: { n } });
    await waitUntil(() => sent.length === 90);
    assert.deepEqual(
      sim.telemetry(deviceName).map((record) => record.payload.values.n),
      Array.from({ length: 90 }, (_, n) => n),
    );
  });

  it('every error reaches Catch with its code and the device named; the node keeps serving other devices', async function () {
    const { flow, credentials } = deviceFlow(sim);
    await load(flow, credentials);
    const good = tokenDevice(0);

    const none = await expectCaught({ payload: { t: 1 } });
    assert.equal(none.gridlinksError.code, 'INVALID_INPUT');
    const noStore = await expectCaught({ deviceName: 'by-name', payload: { t: 1 } });
    assert.equal(noStore.gridlinksError.code, 'INVALID_INPUT');
    assert.equal(noStore.gridlinksError.details.field, 'storeDir');
    const badTopic = await expectCaught({ device: good, topic: 'v2/t', payload: { t: 1 } });
    assert.deepEqual([badTopic.gridlinksError.code, badTopic.gridlinksError.details.field], ['INVALID_INPUT', 'topic']);
    const badPayload = await expectCaught({ device: good, payload: 'hot' });
    assert.deepEqual([badPayload.gridlinksError.code, badPayload.gridlinksError.details.deviceName], ['INVALID_INPUT', good.deviceName]);

    const revoked = { deviceName: 'revoked-meter', credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: 'revoked-token' } };
    const refused = await expectCaught({ device: revoked, payload: { t: 1 } });
    assert.equal(refused.gridlinksError.code, 'CONNECT_REFUSED');
    assert.equal(refused.gridlinksError.details.deviceName, 'revoked-meter');
    assert.match(refused.error.message, /revoked-meter/);

    const sent = await expectSent({ device: good, payload: { still: 'working' } });
    assert.equal(sent.deviceName, good.deviceName);
    assert.deepEqual(sim.telemetry(good.deviceName).at(-1).payload, { still: 'working' });
  });

  it('TLS and UNREACHABLE from the server side reach Catch naming the device', async function () {
    const { flow, credentials } = deviceFlow(sim, { serverCreds: { ca: '' } });
    await load(flow, credentials);
    const tlsFailure = await expectCaught({ device: tokenDevice(2), payload: { t: 1 } });
    assert.equal(tlsFailure.gridlinksError.code, 'TLS');
    assert.equal(tlsFailure.gridlinksError.details.deviceName, tokenDevice(2).deviceName);
    await helper.unload();

    const port = await unusedPort();
    const unreachable = deviceFlow(sim, { server: { port } });
    await load(unreachable.flow, unreachable.credentials);
    const failure = await expectCaught({ device: tokenDevice(2), payload: { t: 1 } });
    assert.equal(failure.gridlinksError.code, 'UNREACHABLE');
  });

  it('40 devices with unusable credentials each fail INVALID_INPUT naming the problem and hold no connect slot: the next device publishes', async function () {
    const { flow, credentials } = deviceFlow(sim);
    await load(flow, credentials);
    const valid = await provisioned(`node-valid-${Date.now()}`);
    const otherKey = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const { certificate, privateKey } = valid.credentials;
    const badCredentials = {
      'key-mismatch': { certificate, privateKey: otherKey.export({ type: 'pkcs8', format: 'pem' }) },
      key: { certificate, privateKey: '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n' },
      'key-encrypted': { certificate, privateKey: otherKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }) },
      certificate: { certificate: '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n', privateKey },
      chain: { certificate, privateKey, chain: 'not a PEM chain' },
    };
    const kinds = [...Object.keys(badCredentials), 'accessToken-too-long'];
    const node = helper.getNode('dev');
    const caught = [];
    helper.getNode('caught').on('input', (msg) => caught.push(msg.gridlinksError));
    for (let i = 0; i < 40; i++) {
      const kind = kinds[i % kinds.length];
      const device =
        kind === 'accessToken-too-long'
          ? { deviceName: `bad-${i}`, credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: 't'.repeat(65_536) } }
          : { deviceName: `bad-${i}`, credentialsType: 'X509_CERTIFICATE', credentials: badCredentials[kind] };
      node.receive({ device, payload: { i } });
    }
    const sent = [];
    helper.getNode('sent').on('input', (msg) => sent.push(msg.deviceName));
    node.receive({ device: tokenDevice(20), payload: { after: 'bad devices' } });
    await waitUntil(() => caught.length === 40 && sent.length === 1);
    assert.deepEqual(sent, [tokenDevice(20).deviceName]);
    for (const [i, error] of caught.entries()) {
      assert.deepEqual([error.code, error.details.deviceName, error.details.reason], ['INVALID_INPUT', `bad-${i}`, kinds[i % kinds.length]], error.message);
      assert.match(error.message, new RegExp(`"bad-${i}"`));
      assert.doesNotMatch(error.message, /secret|t{100}/);
    }
    await expectSent({ device: { ...valid, credentials: { ...valid.credentials, chain: undefined } }, payload: { valid: true } });
  });

  it('a session that does not open: the message over the queue size is QUEUE_FULL, the queued one TIMEOUT', async function () {
    await withSilentServer(sim, { queueSize: 1 }, async (node, caught) => {
      node.receive({ device: tokenDevice(1), payload: { n: 1 } });
      node.receive({ device: tokenDevice(1), payload: { n: 2 } });
      await waitUntil(() => caught.length === 2);
      assert.deepEqual(
        caught.map((error) => [error.code, error.details.deviceName]),
        [
          ['QUEUE_FULL', 'bulk-1'],
          ['TIMEOUT', 'bulk-1'],
        ],
      );
    });
  });

  it('queued payloads of all devices share the node budget (queueBudgetMB): beyond it QUEUE_FULL naming the budget; a failed session gives its bytes back', async function () {
    await withSilentServer(sim, { queueBudgetMB: 1 }, async (node, caught) => {
      // About 60 KB of JSON each: 17 fit in 1 MB, 5 devices × 5 messages stay under the queue per device.
      const burst = (round) => {
        for (let i = 0; i < 25; i++) node.receive({ device: tokenDevice(30 + (i % 5)), payload: { round, i, v: 'x'.repeat(60_000) } });
      };
      burst(1);
      await waitUntil(() => caught.length === 25);
      const full = caught.filter((error) => error.code === 'QUEUE_FULL');
      assert.equal(full.length, 8);
      assert.match(full[0].message, /queue budget of 1 MB/);
      assert.match(full[0].message, /"bulk-3\d"/);
      assert.deepEqual(
        caught.filter((error) => error.code !== 'QUEUE_FULL').map((error) => error.code),
        Array(17).fill('TIMEOUT'),
      );
      // The timed-out sessions gave their bytes back: the same burst is refused no more and no less.
      burst(2);
      await waitUntil(() => caught.length === 50);
      assert.equal(caught.slice(25).filter((error) => error.code === 'QUEUE_FULL').length, 8);
    });
  });

  it('status "N connected, M queued"; close reports the messages still waiting, naming the device', async function () {
    const silent = await silentListener();
    try {
      const { flow, credentials } = deviceFlow(sim, { server: { port: silent.port, tls: false, connectTimeout: 30 } });
      await load(flow, credentials);
      await helper.unload();
      const baseline = await settledSnapshot();
      await load(flow, credentials);
      const node = helper.getNode('dev');
      const statuses = [];
      const warnings = [];
      const status = node.status.bind(node);
      node.status = (s) => {
        statuses.push(s);
        status(s);
      };
      const warn = node.warn.bind(node);
      node.warn = (text) => {
        warnings.push(text);
        warn(text);
      };
      node.receive({ device: tokenDevice(3), payload: { n: 1 } });
      node.receive({ device: tokenDevice(3), payload: { n: 2 } });
      await waitUntil(() => statuses.some((s) => s.text === '0 connected, 2 queued'));
      assert.equal(statuses.at(-1).fill, 'yellow');
      await helper.unload();
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /bulk-3 \(2 queued, 0 unacknowledged\)/);
      // The session that was still connecting leaves no socket or connect timer behind.
      await expectNothingLeft(baseline);
    } finally {
      await silent.close();
    }
  });

  it('redeploy leaves no socket or timer behind: sessions up, a reconnect pending', async function () {
    const { flow, credentials } = deviceFlow(sim, { server: { port: sim.mqttPort, tls: false } });
    const warmup = deviceFlow(sim, { server: { port: sim.mqttPort, tls: false } });
    // Node-RED's own first-load timers and handles are part of the baseline.
    await load(warmup.flow, warmup.credentials);
    await helper.unload();
    const baseline = await settledSnapshot();
    await load(flow, credentials);
    for (let i = 10; i < 13; i++) await expectSent({ device: tokenDevice(i), payload: { i } });
    const logins = () => sim.logLines.filter((line) => line.startsWith(`device ${tokenDevice(11).deviceName} connected`)).length;
    const loginsBefore = logins();
    sim.disconnectDevice(tokenDevice(11).deviceName);
    // The loss is seen as two sessions left or, when the reconnect (full jitter, from 0 ms) came between two polls, as a new login.
    await waitUntil(() => sim.connectedDevices().filter((name) => /^bulk-1[0-2]$/.test(name)).length === 2 || logins() > loginsBefore);
    await helper.unload();
    await expectNothingLeft(baseline);
    await waitUntil(() => sim.connectedDevices().filter((name) => /^bulk-1[0-2]$/.test(name)).length === 0);
  });

  it('500 devices stay connected through one node (access tokens, plain MQTT)', async function () {
    this.timeout(120000);
    const { flow, credentials } = deviceFlow(sim, { server: { port: sim.mqttPort, tls: false } });
    await load(flow, credentials);
    const node = helper.getNode('dev');
    const statuses = [];
    const status = node.status.bind(node);
    node.status = (s) => {
      statuses.push(s);
      status(s);
    };
    let acknowledged = 0;
    const failures = [];
    helper.getNode('sent').on('input', () => (acknowledged += 1));
    helper.getNode('caught').on('input', (msg) => failures.push(msg.gridlinksError));
    TOKEN_DEVICES.forEach((_, i) => node.receive({ device: tokenDevice(i), payload: { i } }));
    await waitUntil(() => acknowledged + failures.length === TOKEN_DEVICES.length);
    assert.deepEqual(failures, []);
    const connected = new Set(sim.connectedDevices());
    assert.equal(TOKEN_DEVICES.filter((d) => connected.has(d.name)).length, 500);
    await waitUntil(() => statuses.at(-1)?.text === '500 connected, 0 queued');
    // A second round goes over the same 500 sessions.
    TOKEN_DEVICES.forEach((_, i) => node.receive({ device: tokenDevice(i), payload: { i, round: 2 } }));
    await waitUntil(() => acknowledged + failures.length === 2 * TOKEN_DEVICES.length);
    assert.deepEqual(failures, []);
    assert.equal(sim.connectedDevices().filter((name) => name.startsWith('bulk-')).length, 500);
    assert.deepEqual(
      sim.telemetry('bulk-499').map((r) => r.payload),
      [{ i: 499 }, { i: 499, round: 2 }],
    );
  });
});
