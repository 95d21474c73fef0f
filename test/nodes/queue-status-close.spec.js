'use strict';
const assert = require('node:assert/strict');
const core = require('../../nodes/provisioning/index.js');
const { startTestSimulator } = require('../helpers/simulator');
const { snapshot, expectNothingLeft } = require('../helpers/faults');
const { helper, provisionFlow, load, expectCaught, expectOutput, waitUntil } = require('../helpers/node-red');

/** Wraps the core's provisionDevice (the node looks it up per call) to count concurrent exchanges. */
function countConcurrency() {
  const original = core.provisionDevice;
  const stats = { calls: 0, running: 0, maxRunning: 0 };
  core.provisionDevice = async (...args) => {
    stats.calls += 1;
    stats.running += 1;
    stats.maxRunning = Math.max(stats.maxRunning, stats.running);
    try {
      return await original(...args);
    } finally {
      stats.running -= 1;
    }
  };
  stats.restore = () => {
    core.provisionDevice = original;
  };
  return stats;
}

describe('gridlinks-provision: queue, status and close', function () {
  let sim;
  before(async function () {
    sim = await startTestSimulator({ mqttPort: null, sessionCloseAfterAnswerMs: 1000 });
  });
  after(async function () {
    await sim.stop();
  });
  afterEach(async function () {
    sim.setFaults({});
    await helper.unload();
  });

  it('a burst of 1,000 messages queues, honours max parallel 3 and completes', async function () {
    this.timeout(120000);
    const BURST = 1000;
    const { flow, credentials } = provisionFlow(sim, { props: { credentialsType: 'ACCESS_TOKEN', maxParallel: 3 } });
    await load(flow, credentials);
    const stats = countConcurrency();
    try {
      const names = new Set();
      const caught = [];
      const all = new Promise((resolve) => {
        helper.getNode('out').on('input', (msg) => {
          names.add(msg.payload.deviceName);
          if (names.size + caught.length === BURST) resolve();
        });
        helper.getNode('caught').on('input', (msg) => {
          caught.push(msg.error.code);
          if (names.size + caught.length === BURST) resolve();
        });
      });
      const prov = helper.getNode('prov');
      for (let i = 0; i < BURST; i += 1) prov.receive({ payload: { deviceName: `nr-burst-${i}` } });
      await all;
      assert.deepEqual(caught, []);
      assert.equal(names.size, BURST);
      assert.equal(stats.calls, BURST);
      assert.equal(stats.maxRunning, 3);
      const statuses = prov.status.getCalls().map((call) => call.args[0]);
      assert.deepEqual(statuses[0], { fill: 'yellow', shape: 'dot', text: 'gridlinks-provision.status.busy' });
      assert.ok(statuses.length < BURST / 2, `status is throttled during a burst (${statuses.length} updates)`);
      await waitUntil(() => prov.status.lastCall.args[0].fill !== 'yellow');
      assert.equal(prov.status.lastCall.args[0].fill, 'green');
      assert.equal(prov.status.lastCall.args[0].text, 'gridlinks-provision.status.batch-ok', 'a batch: counts, not the last device');
    } finally {
      stats.restore();
    }
  });

  it('status: green dot with the device name, red ring with the code, back to green', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { credentialsType: 'ACCESS_TOKEN' } });
    await load(flow, credentials);
    const prov = helper.getNode('prov');
    await expectOutput({ payload: { deviceName: 'nr-status-1' } });
    await waitUntil(() => prov.status.lastCall && prov.status.lastCall.args[0].fill === 'green');
    assert.deepEqual(prov.status.lastCall.args[0], { fill: 'green', shape: 'dot', text: 'nr-status-1' });
    await expectCaught({ payload: { deviceName: 'nr-status-1' } });
    await waitUntil(() => prov.status.lastCall.args[0].fill === 'red');
    assert.deepEqual(prov.status.lastCall.args[0], { fill: 'red', shape: 'ring', text: 'FAILURE' });
    await expectOutput({ payload: { deviceName: 'nr-status-2' } });
    await waitUntil(() => prov.status.lastCall.args[0].fill === 'green');
    assert.deepEqual(prov.status.lastCall.args[0], { fill: 'green', shape: 'dot', text: 'nr-status-2' });
    const texts = prov.status
      .getCalls()
      .map((call) => String(call.args[0].text))
      .join(' ');
    assert.doesNotMatch(texts, /secret/i);
  });

  it('close during an exchange drains it (bounded by the answer timeout), drops the queue, sends nothing and leaves no handle open', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { credentialsType: 'ACCESS_TOKEN', maxParallel: 1 }, server: { answerTimeout: 2 } });
    await load(flow, credentials);
    const baseline = await snapshot();
    sim.setFaults({ noAnswer: true });
    const outputs = [];
    helper.getNode('out').on('input', (msg) => outputs.push(msg));
    helper.getNode('caught').on('input', (msg) => outputs.push(msg));
    const prov = helper.getNode('prov');
    const linesBefore = sim.logLines.length;
    for (let i = 0; i < 5; i += 1) prov.receive({ payload: { deviceName: `nr-close-${i}` } });
    await waitUntil(() => sim.logLines.slice(linesBefore).some((line) => /not answering/.test(line)));
    await helper.unload();
    assert.deepEqual(outputs, []);
    await expectNothingLeft(baseline);
  });
});
