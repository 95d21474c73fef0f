'use strict';
/** gridlinks-device on the oldest Node-RED the package admits (3.1): output, and Catch via msg.gridlinksError. */
const assert = require('node:assert/strict');
const { startTestSimulator, DEFAULT_PROFILE } = require('../helpers/simulator');
const { helper, load, serverNode, TAB } = require('../helpers/node-red');

describe('gridlinks-device on Node-RED 3.1', function () {
  let sim;
  before(async function () {
    helper.init(require.resolve('node-red-3-1'));
    sim = await startTestSimulator({
      mqttsPort: null,
      devices: [{ name: 'nr31-meter', profile: DEFAULT_PROFILE.name, credentialsType: 'ACCESS_TOKEN', credentialsValue: 'nr31-token' }],
    });
  });
  after(async function () {
    await sim.stop();
    helper.init(require.resolve('node-red'));
  });
  afterEach(async function () {
    await helper.unload();
  });

  it('publishes as the device; a refused device reaches Catch with msg.gridlinksError.code (3.x Catch does not copy err.code)', async function () {
    const srv = serverNode(sim, { port: sim.mqttPort, tls: false });
    const flow = [
      { id: TAB, type: 'tab', label: 'nr31' },
      srv.node,
      { id: 'dev', type: 'gridlinks-device', z: TAB, server: 'srv', receive: true, idleTimeout: 300, maxConnections: 10, queueSize: 10, wires: [['sent'], []] },
      { id: 'sent', type: 'helper', z: TAB },
      { id: 'catcher', type: 'catch', z: TAB, scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: TAB },
    ];
    await load(flow, { srv: srv.credentials });
    assert.match(helper._RED.version(), /^3\.1\./);
    const sent = new Promise((resolve) => helper.getNode('sent').once('input', resolve));
    helper
      .getNode('dev')
      .receive({ device: { deviceName: 'nr31-meter', credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: 'nr31-token' } }, payload: { t: 31 } });
    assert.equal((await sent).deviceName, 'nr31-meter');
    assert.deepEqual(sim.telemetry('nr31-meter')[0].payload, { t: 31 });
    const caught = new Promise((resolve) => helper.getNode('caught').once('input', resolve));
    helper
      .getNode('dev')
      .receive({ device: { deviceName: 'nr31-gone', credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: 'deleted' } }, payload: { t: 1 } });
    const msg = await caught;
    assert.equal(msg.gridlinksError.code, 'CONNECT_REFUSED');
    assert.equal(msg.gridlinksError.details.deviceName, 'nr31-gone');
    assert.match(msg.error.message, /nr31-gone/);
  });
});
