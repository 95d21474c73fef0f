'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { X509Certificate, createPublicKey } = require('node:crypto');
const { provisionDevice, createKeyPool, useSharedKeyPool, sharedKeyPool, ProvisionError } = require('../../nodes/provisioning');
const { startSim, options, uniqueName, leakedSince, resourceBaseline, tempDir } = require('./support');

const KEY_POOL_MODULE = path.resolve(__dirname, '../../nodes/provisioning/keys/key-pool.js');
const { newKeyPair } = require('../../nodes/provisioning/keys/key-pair.js');
const { availableParallelism } = require('node:os');
const { keyThreadDiagnostics } = require('../../nodes/provisioning/keys/key-threads.js');

/** SPKI of a PEM key or certificate, to compare key pairs by their public half. */
function spki(pem) {
  const key = pem.includes('CERTIFICATE') ? new X509Certificate(pem).publicKey : createPublicKey(pem);
  return key.export({ type: 'spki', format: 'der' }).toString('base64');
}

function spkiOf(keyPair) {
  return keyPair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
}

describe('key pool (core)', function () {
  this.timeout(60_000);
  let sim;
  const pools = [];
  const made = (opts) => {
    const pool = createKeyPool(opts);
    pools.push(pool);
    return pool;
  };
  before(async () => {
    sim = await startSim();
  });
  after(() => sim.stop());
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.close()));
  });

  it('refuses a wrong algorithm or size with INVALID_INPUT', () => {
    for (const bad of [
      { algorithm: 'rsa1024', size: 2 },
      { algorithm: 'rsa2048', size: 0 },
      { algorithm: 'rsa2048', size: 1.5 },
      { algorithm: 'p256', size: 257 },
      undefined,
    ]) {
      assert.throws(
        () => createKeyPool(bad),
        (error) => error instanceof ProvisionError && error.code === 'INVALID_INPUT',
      );
    }
  });

  it('fills up to its size, hands each key out once, and refills', async () => {
    const pool = made({ algorithm: 'rsa2048', size: 3 });
    await pool.whenFull();
    assert.deepEqual(pool.state(), { algorithm: 'rsa2048', size: 3, ready: 3, refilling: false, closed: false });
    const taken = [pool.take(), pool.take(), pool.take()];
    assert.equal(pool.take(), undefined, 'a fourth take finds the pool empty');
    assert.equal(new Set(taken.map(spkiOf)).size, 3, 'three different key pairs');
    assert.equal(taken[0].privateKey.asymmetricKeyDetails.modulusLength, 2048);
    assert.equal(pool.state().refilling, true);
    await pool.whenFull();
    assert.equal(pool.state().ready, 3);
    const refilled = [pool.take(), pool.take(), pool.take()].map(spkiOf);
    for (const key of refilled) assert.ok(!taken.map(spkiOf).includes(key), 'a refilled key is new, never one handed out before');
  });

  it('provisionDevice takes a ready key; a device never gets a key another device got', async () => {
    const pool = made({ algorithm: 'rsa2048', size: 2 });
    await pool.whenFull();
    const readyCounts = [];
    const stop = pool.onChange((state) => readyCounts.push(state.ready));
    const results = [];
    for (let i = 0; i < 5; i += 1) results.push(await provisionDevice(options(sim, { deviceName: uniqueName('pool'), keyPool: pool })));
    stop();
    assert.equal(readyCounts[0], 1, 'the first device took one of the two ready keys');
    const keys = results.map((result) => spki(result.credentials.privateKey));
    assert.equal(new Set(keys).size, 5, 'five devices, five different keys');
    for (const result of results) assert.equal(spki(result.credentials.certificate), spki(result.credentials.privateKey));
    const stored = sim.devices().filter((device) => results.some((result) => result.deviceName === device.name));
    assert.equal(new Set(stored.map((device) => device.credentials.credentialsId)).size, 5);
  });

  it('an empty pool gives a fresh key, as without a pool', async () => {
    const pool = made({ algorithm: 'rsa2048', size: 1 });
    await pool.whenFull();
    const first = pool.take();
    const results = await Promise.all([1, 2, 3].map(() => provisionDevice(options(sim, { deviceName: uniqueName('empty'), keyPool: pool }))));
    const keys = results.map((result) => spki(result.credentials.privateKey));
    assert.equal(new Set([...keys, spkiOf(first)]).size, 4);
  });

  it('a device with another key algorithm does not touch the pool', async () => {
    const pool = made({ algorithm: 'rsa2048', size: 1 });
    await pool.whenFull();
    const result = await provisionDevice(options(sim, { deviceName: uniqueName('p256'), keyAlgorithm: 'p256', keyPool: pool }));
    assert.match(result.credentials.privateKey, /BEGIN PRIVATE KEY/);
    assert.equal(createPublicKey(result.credentials.privateKey).asymmetricKeyType, 'ec');
    assert.equal(pool.state().ready, 1);
  });

  it('a keyPool that is not a pool is INVALID_INPUT, nothing sent', async () => {
    await assert.rejects(
      provisionDevice(options(sim, { deviceName: uniqueName('bad'), keyPool: { take: () => undefined } })),
      (error) => error.code === 'INVALID_INPUT' && error.details.field === 'keyPool',
    );
  });

  it('close drops every key, stops refilling and leaves nothing running', async () => {
    const baseline = await resourceBaseline();
    const pool = createKeyPool({ algorithm: 'rsa2048', size: 2 });
    await pool.whenFull();
    pool.take();
    assert.equal(pool.state().refilling, true);
    await pool.close();
    assert.deepEqual(pool.state(), { algorithm: 'rsa2048', size: 2, ready: 0, refilling: false, closed: true });
    assert.equal(pool.take(), undefined);
    assert.equal(pool.state().refilling, false, 'no refill after close');
    await pool.whenFull();
    assert.deepEqual(await leakedSince(baseline), []);
  });

  it('refills wait while devices make keys, and a refill still waiting is cancelled by close (never started)', async () => {
    // As many device keys as CPUs: a pool's refill may not start until they are done.
    const devices = Array.from({ length: availableParallelism() }, () => newKeyPair('rsa2048', 'device'));
    const started = keyThreadDiagnostics().keysStarted;
    const pool = createKeyPool({ algorithm: 'rsa2048', size: 1 });
    assert.equal(pool.state().refilling, true, 'a refill is queued');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(keyThreadDiagnostics().keysStarted, started, 'the refill waits for the devices');
    await pool.close();
    await Promise.all(devices);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(keyThreadDiagnostics().keysStarted, started, 'the cancelled refill never started a key');
    assert.deepEqual(pool.state(), { algorithm: 'rsa2048', size: 1, ready: 0, refilling: false, closed: true });
  });

  it('shared pools: one per algorithm, as large as the largest user, closed by the last release', async () => {
    const a = useSharedKeyPool('rsa2048', 2);
    const b = useSharedKeyPool('rsa2048', 3);
    assert.equal(a.pool, b.pool);
    assert.equal(sharedKeyPool('rsa2048'), a.pool);
    assert.equal(a.pool.size, 3);
    await b.release();
    assert.equal(a.pool.size, 2);
    assert.equal(a.pool.state().closed, false);
    await a.release();
    assert.equal(a.pool.state().closed, true);
    assert.equal(sharedKeyPool('rsa2048'), undefined);
    const c = useSharedKeyPool('rsa2048', 1);
    assert.notEqual(c.pool, a.pool, 'a later user gets a new pool');
    await c.release();
  });

  it('keys live in memory only: filling, taking and closing a pool writes nothing anywhere', function () {
    // A separate process whose file-writing calls of node:fs are counted, with its own empty cwd, HOME and TMPDIR.
    const root = tempDir('gl-keypool-');
    try {
      const dirs = ['cwd', 'home', 'tmp'].map((name) => path.join(root, name));
      for (const dir of dirs) fs.mkdirSync(dir);
      const script = `
        const fs = require('node:fs');
        const writes = [];
        for (const api of [fs, fs.promises]) for (const name of ['open', 'openSync', 'writeFile', 'writeFileSync', 'appendFile', 'appendFileSync', 'mkdir', 'mkdirSync', 'mkdtemp', 'mkdtempSync', 'createWriteStream', 'copyFile', 'copyFileSync', 'rename', 'renameSync']) {
          const original = api[name];
          if (typeof original === 'function') api[name] = function (...args) { writes.push(name + ' ' + String(args[0])); return original.apply(this, args); };
        }
        const { createKeyPool } = require(${JSON.stringify(KEY_POOL_MODULE)});
        (async () => {
          const pool = createKeyPool({ algorithm: 'rsa2048', size: 3 });
          await pool.whenFull();
          const pairs = [pool.take(), pool.take()];
          await pool.whenFull();
          await pool.close();
          process.stdout.write(JSON.stringify({ writes, taken: pairs.filter(Boolean).length }));
        })();`;
      const run = spawnSync(process.execPath, ['-e', script], { cwd: dirs[0], env: { ...process.env, HOME: dirs[1], TMPDIR: dirs[2] }, encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const outcome = JSON.parse(run.stdout);
      assert.equal(outcome.taken, 2);
      assert.deepEqual(outcome.writes, []);
      for (const dir of dirs) assert.deepEqual(fs.readdirSync(dir), [], `${path.basename(dir)} stays empty`);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
