'use strict';
const assert = require('node:assert/strict');
const serverModule = require('../../nodes/gridlinks-server.js');
const { StatusReporter } = require('../../nodes/node-red/status.js');
const { startTestSimulator } = require('../helpers/simulator');
const { helper, provisionFlow, expectOutput, nextOutcome, waitUntil, translator, provisionWithTexts } = require('../helpers/node-red');

async function provisionAll(names) {
  const outcomes = [];
  const all = new Promise((resolve) => {
    const collect = () =>
      nextOutcome().then((outcome) => {
        outcomes.push(outcome);
        if (outcomes.length === names.length) resolve(outcomes);
        else collect();
      });
    collect();
  });
  for (const deviceName of names) helper.getNode('prov').receive({ payload: { deviceName } });
  return all;
}

describe('gridlinks-provision: status after a batch', function () {
  this.timeout(60_000);
  let sim;
  before(async function () {
    sim = await startTestSimulator({ mqttPort: null });
  });
  after(async function () {
    await sim.stop();
  });
  afterEach(async function () {
    await helper.unload();
  });

  it('says how the batch went: "4 ok, 1 failed: FAILURE", then "3 ok" for an all-good batch', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { credentialsType: 'ACCESS_TOKEN', maxParallel: 2 } });
    await helper.load([serverModule, provisionWithTexts], flow, credentials);
    const prov = helper.getNode('prov');
    await expectOutput({ payload: { deviceName: 'nr-batch-taken' } });
    await waitUntil(() => prov.status.lastCall && prov.status.lastCall.args[0].fill === 'green');
    assert.deepEqual(prov.status.lastCall.args[0], { fill: 'green', shape: 'dot', text: 'nr-batch-taken' }, 'one device: its name');

    const outcomes = await provisionAll(['nr-batch-1', 'nr-batch-2', 'nr-batch-taken', 'nr-batch-3', 'nr-batch-4']);
    assert.equal(outcomes.filter((outcome) => !outcome.ok).length, 1);
    await waitUntil(() => prov.status.lastCall.args[0].fill !== 'yellow');
    assert.deepEqual(prov.status.lastCall.args[0], { fill: 'red', shape: 'ring', text: '4 ok, 1 failed: FAILURE' });

    await provisionAll(['nr-batch-5', 'nr-batch-6', 'nr-batch-7']);
    await waitUntil(() => prov.status.lastCall.args[0].fill !== 'yellow');
    assert.deepEqual(prov.status.lastCall.args[0], { fill: 'green', shape: 'dot', text: '3 ok' });

    await provisionAll(['nr-batch-5', 'nr-batch-6']);
    await waitUntil(() => prov.status.lastCall.args[0].fill !== 'yellow');
    assert.deepEqual(prov.status.lastCall.args[0], { fill: 'red', shape: 'ring', text: '2 failed: FAILURE' });
  });

  describe('StatusReporter texts (both languages)', function () {
    function run(language, record) {
      const shown = [];
      const status = new StatusReporter((s) => shown.push(s), translator(language));
      status.update({ running: 1, queued: 0 });
      record(status);
      status.update({ running: 0, queued: 0 });
      status.cancel();
      return shown[shown.length - 1];
    }

    it('counts, codes most frequent first, at most three codes', function () {
      const mixed = (status) => {
        status.succeeded('a');
        status.failed('TIMEOUT');
        for (let i = 0; i < 3; i += 1) status.failed('FAILURE');
        status.failed('TLS');
        status.failed('STORE');
      };
      assert.deepEqual(run('en-US', mixed), { fill: 'red', shape: 'ring', text: '1 ok, 6 failed: FAILURE ×3, TIMEOUT, TLS, …' });
      assert.deepEqual(run('zh-CN', mixed), { fill: 'red', shape: 'ring', text: '成功 1，失败 6：FAILURE ×3, TIMEOUT, TLS, …' });
      assert.deepEqual(
        run('en-US', (status) => status.failed('NOT_FOUND')),
        { fill: 'red', shape: 'ring', text: 'NOT_FOUND' },
      );
      assert.deepEqual(
        run('en-US', (status) => status.succeeded(null)),
        { fill: 'green', shape: 'dot', text: 'provisioned' },
      );
    });

    it('the key pool fill shows before the first message only', function () {
      const shown = [];
      const status = new StatusReporter((s) => shown.push(s), translator('en-US'));
      status.poolChanged({ ready: 1, size: 4 });
      assert.deepEqual(shown.pop(), { fill: 'grey', shape: 'ring', text: 'keys 1/4' });
      status.poolChanged({ ready: 4, size: 4 });
      assert.deepEqual(shown.pop(), { fill: 'grey', shape: 'dot', text: 'keys 4/4' });
      status.update({ running: 1, queued: 0 });
      status.succeeded('dev-1');
      status.update({ running: 0, queued: 0 });
      status.cancel();
      const count = shown.length;
      status.poolChanged({ ready: 3, size: 4 });
      assert.equal(shown.length, count, 'after a message the outcome stays');
      assert.deepEqual(shown.pop(), { fill: 'green', shape: 'dot', text: 'dev-1' });
    });
  });
});
