'use strict';
// gridlinks-gateway in a real Node-RED runtime against the simulator: a gateway provisioned by the
// provision node (payload.gateway) speaks for 1,000 children over one session, answers an RPC per child,
// reads a stored gateway, reports NOT_GATEWAY to Catch, shows its status and leaves nothing behind on redeploy.
const assert = require('node:assert/strict');
const { startTestSimulator, DEFAULT_PROFILE } = require('../helpers/simulator');
const { tempDir, settledSnapshot, expectNothingLeft } = require('../helpers/faults');
const { helper, load, serverNode, waitUntil, TAB, PROFILE } = require('../helpers/node-red');
const { countingProxy } = require('../helpers/session-counter');

/** Flow: provision `prov` → `provisioned`; gateway `gw` (outputs → `sent`, `received`); Catch → `caught`. */
function gatewayFlow(sim, gateway = {}) {
  const srv = serverNode(sim, { port: sim.mqttPort, tls: false, answerTimeout: 1 });
  const flow = [
    { id: TAB, type: 'tab', label: 'gateway tests' },
    srv.node,
    {
      id: 'prov',
      type: 'gridlinks-provision',
      z: TAB,
      server: 'srv',
      credentialsType: 'ACCESS_TOKEN',
      deviceName: 'payload.deviceName',
      deviceNameType: 'msg',
      provisionKeyType: 'cred',
      provisionSecretType: 'cred',
      storeDir: gateway.storeDir || '',
      includePrivateKey: true,
      maxParallel: 4,
      outputProperty: 'payload',
      wires: [['provisioned']],
    },
    { id: 'provisioned', type: 'helper', z: TAB },
    {
      id: 'gw',
      type: 'gridlinks-gateway',
      z: TAB,
      server: 'srv',
      storeDir: '',
      gatewayName: '',
      batchWindow: 5,
      maxPacketKiB: 64,
      childIdleTimeout: 3600,
      wires: [['sent'], ['received']],
      ...gateway,
    },
    { id: 'sent', type: 'helper', z: TAB },
    { id: 'received', type: 'helper', z: TAB },
    { id: 'catcher', type: 'catch', z: TAB, scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: TAB },
  ];
  return {
    flow,
    credentials: { srv: srv.credentials, prov: { provisionDeviceKey: PROFILE.provisionDeviceKey, provisionDeviceSecret: PROFILE.provisionDeviceSecret } },
  };
}

async function provisioned(payload) {
  const result = new Promise((resolve) => helper.getNode('provisioned').once('input', resolve));
  helper.getNode('prov').receive({ payload });
  return (await result).payload;
}

function collect(id) {
  const seen = [];
  helper.getNode(id).on('input', (msg) => seen.push(msg));
  return seen;
}

describe('gridlinks-gateway node (real runtime, simulator on 127.0.0.1)', function () {
  let sim;
  before(async function () {
    sim = await startTestSimulator({
      mqttsPort: null,
      devices: [{ name: 'plain-node-device', profile: DEFAULT_PROFILE.name, credentialsType: 'ACCESS_TOKEN', credentialsValue: 'plain-node-token' }],
    });
  });
  after(async function () {
    await sim.stop();
  });
  afterEach(async function () {
    await helper.unload();
  });

  it('a provisioned gateway sends telemetry for 1,000 children over one session and answers an RPC per child', async function () {
    this.timeout(60000);
    const { flow, credentials } = gatewayFlow(sim);
    await load(flow, credentials);
    const gatewayDevice = await provisioned({ deviceName: 'node-gw-1', gateway: true });
    assert.equal(gatewayDevice.gateway, true);
    const node = helper.getNode('gw');
    const statuses = [];
    const status = node.status.bind(node);
    node.status = (s) => {
      statuses.push(s);
      status(s);
    };
    const sent = collect('sent');
    const caught = collect('caught');
    for (let i = 0; i < 1000; i++) node.receive({ gateway: gatewayDevice, deviceName: `Node Meter ${i}`, deviceType: 'meter', payload: { kwh: i } });
    await waitUntil(() => sent.length + caught.length === 1000);
    assert.deepEqual(caught, []);
    assert.equal(sent[0].gateway, undefined, 'the gateway credentials are not sent on');
    assert.equal(sim.connectedChildren()['node-gw-1'].length, 1000);
    assert.deepEqual(sim.telemetry('Node Meter 999')[0].payload, [{ kwh: 999 }]);
    assert.equal(sim.devices().find((d) => d.name === 'Node Meter 7').type, 'meter');
    assert.equal(sim.connectedDevices().filter((name) => name === 'node-gw-1').length, 1);
    await waitUntil(() => statuses.at(-1)?.text === 'gateway connected, 1000 children, 0 queued');

    // An RPC per child: output 2 → a Function-like answer → back in by deviceName and requestId (no msg.gateway: the open session).
    helper.getNode('received').on('input', (msg) =>
      node.receive({
        gateway: gatewayDevice,
        deviceName: msg.deviceName,
        topic: 'rpc/response',
        requestId: msg.requestId,
        payload: { ok: msg.payload.params.n },
      }),
    );
    const answers = await Promise.all(Array.from({ length: 20 }, (_, n) => sim.sendChildRpc(`Node Meter ${n}`, { method: 'read', params: { n } })));
    assert.deepEqual(
      answers,
      Array.from({ length: 20 }, (_, n) => ({ ok: n })),
    );
  });

  it('a stored gateway (store folder + gateway name); attribute request answered on output 1', async function () {
    const storeDir = tempDir('gateway-store');
    const { flow, credentials } = gatewayFlow(sim, { storeDir, gatewayName: 'node-gw-stored' });
    await load(flow, credentials);
    const result = await provisioned({ deviceName: 'node-gw-stored', gateway: true });
    assert.ok(result.stored);
    const node = helper.getNode('gw');
    const sent = collect('sent');
    node.receive({ deviceName: 'Stored child', topic: 'attributes', payload: { fw: '3' } });
    await waitUntil(() => sent.length === 1);
    node.receive({ deviceName: 'Stored child', topic: 'attributes/request', payload: { clientKeys: ['fw'] } });
    await waitUntil(() => sent.length === 2);
    assert.deepEqual(sent[1].payload, { client: { fw: '3' } });
  });

  it('msg.gateway and the stored gateway named in the node, the same device: one session for both', async function () {
    const proxy = await countingProxy(sim.mqttPort);
    try {
      const storeDir = tempDir('gateway-shared');
      const { flow, credentials } = gatewayFlow({ ...sim, mqttPort: proxy.port }, { storeDir, gatewayName: 'node-gw-shared' });
      await load(flow, credentials);
      const result = await provisioned({ deviceName: 'node-gw-shared', gateway: true });
      const node = helper.getNode('gw');
      const sent = collect('sent');
      const before = proxy.connections();
      // msg.gateway first, then the stored one is read: it finds the session open under the same login.
      node.receive({ gateway: result, deviceName: 'Shared child', payload: { n: 1 } });
      await waitUntil(() => sent.length === 1);
      node.receive({ deviceName: 'Shared child', payload: { n: 2 } });
      await waitUntil(() => sent.length === 2);
      node.receive({ gateway: result, deviceName: 'Shared child', payload: { n: 3 } });
      await waitUntil(() => sent.length === 3);
      assert.equal(proxy.connections() - before, 1, 'one gateway session (two would take each other over)');
      assert.deepEqual(
        sim.telemetry('Shared child').flatMap((record) => [record.payload].flat().map((reading) => reading.n ?? reading.values?.n)),
        [1, 2, 3],
      );
    } finally {
      await helper.unload();
      await proxy.close();
    }
  });

  it('an ordinary device: NOT_GATEWAY reaches Catch naming the child and the gateway', async function () {
    const { flow, credentials } = gatewayFlow(sim);
    await load(flow, credentials);
    const caught = collect('caught');
    const plain = { deviceName: 'plain-node-device', credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: 'plain-node-token' } };
    helper.getNode('gw').receive({ gateway: plain, deviceName: 'Lost child', payload: { t: 1 } });
    await waitUntil(() => caught.length === 1);
    const error = caught[0].gridlinksError;
    assert.deepEqual([error.code, error.details.deviceName, error.details.gatewayName], ['NOT_GATEWAY', 'Lost child', 'plain-node-device']);
    assert.doesNotMatch(error.message, /plain-node-token/);
  });

  it('redeploy leaves no socket or timer behind (session up, a reconnect pending)', async function () {
    const { flow, credentials } = gatewayFlow(sim);
    await load(flow, credentials);
    const gatewayDevice = await provisioned({ deviceName: 'node-gw-redeploy', gateway: true });
    await helper.unload();
    const baseline = await settledSnapshot();
    await load(flow, credentials);
    const sent = collect('sent');
    for (let i = 0; i < 5; i++) helper.getNode('gw').receive({ gateway: gatewayDevice, deviceName: `Redeploy ${i}`, payload: { i } });
    await waitUntil(() => sent.length === 5);
    sim.disconnectDevice('node-gw-redeploy');
    helper.getNode('gw').receive({ gateway: gatewayDevice, deviceName: 'Redeploy 0', payload: { after: 'lost' } });
    await helper.unload();
    await expectNothingLeft(baseline);
    await waitUntil(() => !sim.connectedDevices().includes('node-gw-redeploy'));
  });
});
