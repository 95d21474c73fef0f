'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { createPublicKey } = require('node:crypto');
const { sharedKeyPool } = require('../../nodes/provisioning/index.js');
const { startTestSimulator } = require('../helpers/simulator');
const { settledSnapshot, expectNothingLeft, tempDir } = require('../helpers/faults');
const { helper, provisionFlow, load, expectOutput, nextOutcome, waitUntil } = require('../helpers/node-red');

function spki(pem) {
  return createPublicKey(pem).export({ type: 'spki', format: 'der' }).toString('base64');
}

/** Sends all messages at once; resolves with their outcomes in arrival order. */
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
  const prov = helper.getNode('prov');
  for (const deviceName of names) prov.receive({ payload: { deviceName } });
  return all;
}

describe('gridlinks-provision: key pool', function () {
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

  it('fills after deploy, serves each key to one device only, refills, and shows the fill before the first message', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { keyAlgorithm: 'rsa2048', keyPool: 3 } });
    await load(flow, credentials);
    const pool = sharedKeyPool('rsa2048');
    assert.ok(pool, 'the node holds the shared RSA-2048 pool');
    assert.equal(pool.size, 3);
    await pool.whenFull();
    const prov = helper.getNode('prov');
    await waitUntil(() => prov.status.lastCall && prov.status.lastCall.args[0].shape === 'dot');
    assert.deepEqual(prov.status.lastCall.args[0], { fill: 'grey', shape: 'dot', text: 'gridlinks-provision.status.pool' });

    const readyCounts = [];
    const stop = pool.onChange((state) => readyCounts.push(state.ready));
    const outcomes = await provisionAll(['nr-pool-1', 'nr-pool-2', 'nr-pool-3']);
    stop();
    assert.ok(outcomes.every((outcome) => outcome.ok));
    assert.deepEqual(readyCounts.slice(0, 3), [2, 1, 0], 'the three devices took the three ready keys');
    const keys = outcomes.map((outcome) => spki(outcome.msg.payload.credentials.privateKey));
    assert.equal(new Set(keys).size, 3, 'never the same key for two devices');

    await pool.whenFull();
    assert.equal(pool.state().ready, 3, 'refilled');
    const next = await expectOutput({ payload: { deviceName: 'nr-pool-4' } });
    assert.ok(!keys.includes(spki(next.payload.credentials.privateKey)));
  });

  it('an empty pool: every device still gets its own fresh key', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { keyAlgorithm: 'rsa2048', keyPool: 1, maxParallel: 4 } });
    await load(flow, credentials);
    const outcomes = await provisionAll(['nr-empty-1', 'nr-empty-2', 'nr-empty-3', 'nr-empty-4']);
    assert.ok(
      outcomes.every((outcome) => outcome.ok),
      'all provisioned',
    );
    assert.equal(new Set(outcomes.map((outcome) => spki(outcome.msg.payload.credentials.privateKey))).size, 4);
  });

  it('keyPool 0, an EC algorithm or another credentials type: no pool', async function () {
    for (const props of [
      { keyAlgorithm: 'rsa2048', keyPool: 0 },
      { keyAlgorithm: 'p256', keyPool: 4 },
      { credentialsType: 'ACCESS_TOKEN', keyAlgorithm: 'rsa2048', keyPool: 4 },
    ]) {
      const { flow, credentials } = provisionFlow(sim, { props });
      await load(flow, credentials);
      assert.equal(sharedKeyPool('rsa2048'), undefined, JSON.stringify(props));
      assert.equal(sharedKeyPool('p256'), undefined, JSON.stringify(props));
      await helper.unload();
    }
  });

  it('no keyPool property (a flow from before it existed): the default of 4', async function () {
    const { flow, credentials } = provisionFlow(sim, { props: { keyAlgorithm: 'rsa2048' } });
    delete flow.find((node) => node.id === 'prov').keyPool;
    await load(flow, credentials);
    assert.equal(sharedKeyPool('rsa2048').size, 4);
  });

  it('keys are never written before use: the store folder holds only the devices provisioned', async function () {
    const store = tempDir('gl-pool-store');
    try {
      const { flow, credentials } = provisionFlow(sim, { props: { keyAlgorithm: 'rsa2048', keyPool: 2, storeDir: store } });
      await load(flow, credentials);
      await sharedKeyPool('rsa2048').whenFull();
      // The deploy opens the store folder (its empty .pending/ appears); a full pool wrote nothing into it.
      const written = (dir) => fs.readdirSync(dir, { recursive: true }).filter((name) => fs.statSync(path.join(dir, name)).isFile());
      assert.deepEqual(written(store), [], 'a full pool wrote nothing into the store folder');
      await expectOutput({ payload: { deviceName: 'nr-store-1' } });
      await sharedKeyPool('rsa2048').whenFull();
      const entries = fs.readdirSync(store).filter((name) => !name.startsWith('.'));
      assert.deepEqual(entries, ['nr-store-1']);
      const hidden = fs.readdirSync(store).filter((name) => name.startsWith('.'));
      for (const dir of hidden) assert.deepEqual(fs.readdirSync(path.join(store, dir)), [], `${dir} holds no pending key`);
    } finally {
      await helper.unload();
      fs.rmSync(store, { recursive: true, force: true });
    }
  });

  it('redeploy and shutdown drop the pool and its keys, leaving no timer or handle', async function () {
    const baseline = await settledSnapshot();
    const { flow, credentials } = provisionFlow(sim, { props: { keyAlgorithm: 'rsa2048', keyPool: 2 } });
    await load(flow, credentials);
    const pool = sharedKeyPool('rsa2048');
    await pool.whenFull();
    pool.take();
    await helper.unload();
    assert.equal(sharedKeyPool('rsa2048'), undefined);
    assert.deepEqual(pool.state(), { algorithm: 'rsa2048', size: 2, ready: 0, refilling: false, closed: true });
    await expectNothingLeft(baseline);
  });
});
