'use strict';
// #21's "Done when" in the Node-RED runtime: gridlinks-device through a reconnect storm (a server that
// drops every session 50 ms after its SUBACK) keeps the connecting limit, throws nothing, and every
// device sends again once the storm is over.
const assert = require('node:assert/strict');
const { startHostileServer } = require('../helpers/hostile-server');
const { helper, load, serverNode, waitUntil, TAB } = require('../helpers/node-red');

const DEVICES = 60;

describe('hostile server: the gridlinks-device node through a reconnect storm', function () {
  this.timeout(60_000);
  let server;
  afterEach(async function () {
    await helper.unload();
    await server?.stop();
    server = undefined;
  });

  it('MQTT 5, every session dropped 50 ms after its SUBACK for 3 s: at most 32 connecting at once, no exception, and every device sends again after it', async function () {
    server = await startHostileServer('device-drops', { dropAfterSubackMs: 50, connackDelayMs: 10 });
    const srv = serverNode({ mqttsPort: server.port, caPem: undefined }, { tls: false, protocolVersion: 5, answerTimeout: 5 });
    const flow = [
      { id: TAB, type: 'tab', label: 'storm' },
      srv.node,
      { id: 'dev', type: 'gridlinks-device', z: TAB, server: 'srv', receive: false, wires: [['sent'], []] },
      { id: 'sent', type: 'helper', z: TAB },
      { id: 'catcher', type: 'catch', z: TAB, scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: TAB },
    ];
    await load(flow, { srv: {} });
    const results = { sent: [], caught: [] };
    helper.getNode('sent').on('input', (msg) => results.sent.push(msg));
    helper.getNode('caught').on('input', (msg) => results.caught.push(msg));
    const devices = Array.from({ length: DEVICES }, (_, i) => ({
      deviceName: `storm-${i}`,
      credentialsType: 'ACCESS_TOKEN',
      credentials: { accessToken: `storm-token-${i}` },
    }));
    const node = helper.getNode('dev');
    for (const device of devices) node.receive({ device, payload: { round: 1 } });
    await waitUntil(() => results.sent.length + results.caught.length === DEVICES);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    server.dropping = false;
    const before = { sent: results.sent.length, caught: results.caught.length };
    for (const device of devices) node.receive({ device, payload: { round: 2 } });
    await waitUntil(() => results.sent.length + results.caught.length === before.sent + before.caught + DEVICES);
    const caught = results.caught.slice(before.caught).map((msg) => `${msg.deviceName ?? ''} ${msg.error?.message}`);
    assert.deepEqual(caught, [], 'every device sends again once the storm is over');
    assert.ok(server.maxConnecting <= 32, `${server.maxConnecting} sessions connecting at once (limit 32)`);
    assert.ok(server.sessions.length > DEVICES * 2, `${server.sessions.length} connects: the devices did reconnect during the storm`);
  });
});
