'use strict';
/** The nodes on the oldest Node-RED the package admits (3.1, the node-red-3-1 devDependency alias). */
const assert = require('node:assert/strict');
const { startTestSimulator } = require('../helpers/simulator');
const { helper, provisionFlow, load, expectOutput, expectCaught } = require('../helpers/node-red');

describe('on Node-RED 3.1', function () {
  let sim;
  before(async function () {
    helper.init(require.resolve('node-red-3-1'));
    sim = await startTestSimulator({ mqttPort: null });
  });
  after(async function () {
    await sim.stop();
    helper.init(require.resolve('node-red'));
  });
  afterEach(async function () {
    await helper.unload();
  });

  it('provisions; a failure reaches Catch with msg.gridlinksError.code (3.x Catch does not copy err.code)', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { credentialsType: 'ACCESS_TOKEN' } });
    await load(flow, credentials);
    assert.match(helper._RED.version(), /^3\.1\./);
    const msg = await expectOutput({ payload: { deviceName: 'nr31-device' } });
    assert.equal(msg.payload.deviceName, 'nr31-device');
    assert.equal(msg.broker.username, msg.payload.credentials.accessToken);
    const caught = await expectCaught({ payload: { deviceName: 'nr31-device' } });
    assert.equal(caught.gridlinksError.code, 'FAILURE');
    assert.match(caught.error.message, /refused to provision/);
  });
});
