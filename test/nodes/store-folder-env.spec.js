'use strict';
// A Store folder written as ${VAR} with VAR not set for Node-RED: Node-RED keeps the text as written.
// Each node says which variable, fails the messages that need the folder with INVALID_INPUT naming it,
// and never makes a folder called "${VAR}".
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { simulatorForSuite } = require('../helpers/simulator');
const { helper, load, provisionFlow, expectCaught, waitUntil, TAB } = require('../helpers/node-red');

const UNSET = '${NR_TEST_UNSET_STORE_FOLDER}';
const SAID = /NR_TEST_UNSET_STORE_FOLDER, which is not set for the Node-RED process/;

describe('a Store folder from an environment variable that is not set', function () {
  this.timeout(30_000);
  const suite = simulatorForSuite();
  afterEach(function () {
    assert.equal(fs.existsSync(path.resolve(UNSET)), false, 'no folder named after the unset variable');
  });

  it('gridlinks-provision: an error at deploy, the status, and each message to Catch with INVALID_INPUT naming the variable', async function () {
    const { flow, credentials } = provisionFlow(suite.sim, { props: { storeDir: UNSET } });
    await load(flow, credentials);
    const prov = helper.getNode('prov');
    assert.match(String(prov.error.firstCall?.args[0]), SAID);
    const msg = await expectCaught({ payload: { deviceName: 'nr-unset-store' } });
    assert.equal(msg.error.code, 'INVALID_INPUT');
    assert.equal(msg.gridlinksError.details.field, 'storeDir');
    assert.match(msg.error.message, SAID);
    assert.equal(
      suite.sim.devices().some((device) => device.name === 'nr-unset-store'),
      false,
      'nothing provisioned',
    );
  });

  for (const type of ['gridlinks-device', 'gridlinks-gateway']) {
    it(`${type}: an error at deploy naming the variable, and a message that needs the folder reaches Catch with it`, async function () {
      const { flow, credentials } = provisionFlow(suite.sim, {});
      flow.push({ id: 'node', type, z: TAB, server: 'srv', storeDir: UNSET, gatewayName: 'gw', receive: false, wires: [[], []] });
      await load(flow, credentials);
      const node = helper.getNode('node');
      await waitUntil(() => node.error.callCount > 0);
      assert.match(String(node.error.firstCall.args[0]), SAID);
      const caught = new Promise((resolve) => helper.getNode('caught').once('input', resolve));
      node.receive({ deviceName: 'by-name', payload: { t: 1 } });
      const msg = await caught;
      assert.equal(msg.error.code ?? msg.gridlinksError?.code, 'INVALID_INPUT');
      assert.match(msg.error.message, SAID);
    });
  }
});
