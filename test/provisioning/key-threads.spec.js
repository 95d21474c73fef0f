'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { availableParallelism } = require('node:os');

const { newKeyPair } = require('../../nodes/provisioning/keys/key-pair.js');
const {
  keyThreadDiagnostics,
  endKeyThreads,
  setKeyThreadIdleMs,
  setStarvationCheckMs,
  rsaOnKeyThread,
  KEY_THREAD_IDLE_MS,
  STARVATION_CHECK_MS,
} = require('../../nodes/provisioning/keys/key-threads.js');

const KEY_THREADS_MODULE = path.resolve(__dirname, '../../nodes/provisioning/keys/key-threads.js');
const ON_LINUX = fs.existsSync('/proc/thread-self');

/** The nice value of one of this process's OS threads, as the kernel reports it (field 19 of stat). */
function niceOfThread(osThreadId) {
  const stat = fs.readFileSync(`/proc/self/task/${osThreadId}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/** The event loop thread's (the process's main thread) nice value before any key thread exists. */
const LOOP_NICE = ON_LINUX ? niceOfThread(process.pid) : undefined;
const threadAlive = (osThreadId) => fs.existsSync(`/proc/self/task/${osThreadId}`);
const turn = () => new Promise((resolve) => setTimeout(resolve, 10));

async function untilNoKeyThreads() {
  while (keyThreadDiagnostics().threads.length > 0) await turn();
}

/** Waits until the kernel no longer lists the OS thread (a thread ends a moment after its port closes). */
async function untilThreadGone(osThreadId) {
  if (osThreadId === undefined) return;
  while (threadAlive(osThreadId)) await turn();
}

describe('key threads: RSA keys made at the lowest CPU priority', function () {
  this.timeout(60_000);

  const endAll = async () => {
    endKeyThreads();
    await untilNoKeyThreads();
  };
  before(endAll);
  afterEach(async () => {
    setKeyThreadIdleMs(KEY_THREAD_IDLE_MS);
    setStarvationCheckMs(STARVATION_CHECK_MS);
    endKeyThreads();
    await untilNoKeyThreads();
  });

  it('a device key and a pool key come from key threads whose OS thread runs at nice 19', async function () {
    const before = keyThreadDiagnostics().keysStarted;
    const [deviceKey, poolKey] = await Promise.all([newKeyPair('rsa2048', 'device'), newKeyPair('rsa2048', 'pool')]);
    assert.equal(deviceKey.privateKey.asymmetricKeyDetails.modulusLength, 2048);
    assert.equal(poolKey.publicKey.asymmetricKeyType, 'rsa');
    const { threads, keysStarted } = keyThreadDiagnostics();
    assert.equal(keysStarted - before, 2, 'both keys went to key threads');
    assert.equal(
      threads.reduce((sum, thread) => sum + thread.keysMade, 0),
      2,
    );
    if (!ON_LINUX) this.skip();
    for (const thread of threads) {
      assert.ok(Number.isInteger(thread.osThreadId));
      assert.equal(thread.nice, 19, 'the thread lowered itself');
      assert.equal(niceOfThread(thread.osThreadId), 19, 'the kernel sees nice 19');
    }
    assert.equal(niceOfThread(process.pid), LOOP_NICE, 'the event loop thread keeps its priority');
  });

  it('idle threads end by themselves; endKeyThreads ends them at once, and a later key starts a new one', async () => {
    setKeyThreadIdleMs(20);
    await newKeyPair('rsa2048', 'device');
    const [first] = keyThreadDiagnostics().threads;
    assert.equal(first.busy, false);
    await untilNoKeyThreads();
    await untilThreadGone(first.osThreadId);

    setKeyThreadIdleMs(KEY_THREAD_IDLE_MS);
    await newKeyPair('rsa2048', 'device');
    const [second] = keyThreadDiagnostics().threads;
    assert.notEqual(second.osThreadId, first.osThreadId, 'a new thread');
    const { host } = keyThreadDiagnostics();
    endKeyThreads();
    await untilNoKeyThreads();
    await untilThreadGone(second.osThreadId);
    assert.equal(keyThreadDiagnostics().host, undefined, 'the host ends with its last key thread');
    await new Promise((resolve) => (host.threadId === -1 ? resolve() : host.once('exit', resolve)));
  });

  it('threads ended while making keys (their host thread ended) do not lose the requests: the keys are made on libuv instead', async () => {
    const keyPairs = [newKeyPair('rsa2048', 'device'), newKeyPair('rsa2048', 'device')];
    const { host, threads } = keyThreadDiagnostics();
    assert.equal(threads.length, 2);
    assert.ok(threads.every((thread) => thread.busy));
    await host.terminate();
    for (const { privateKey, publicKey } of await Promise.all(keyPairs)) {
      assert.equal(privateKey.asymmetricKeyDetails.modulusLength, 2048);
      assert.equal(publicKey.asymmetricKeyType, 'rsa');
    }
    await untilNoKeyThreads();
    const next = await newKeyPair('rsa2048', 'device');
    assert.equal(next.privateKey.asymmetricKeyDetails.modulusLength, 2048, 'later keys still work');
    assert.notEqual(keyThreadDiagnostics().host, host, 'on a new host');
    assert.equal(keyThreadDiagnostics().threads[0].keysMade, 1, 'made on a key thread');
  });

  it('a key thread that gets its CPU keeps its key; one starved by other processes busy on every CPU hands it to libuv (normal priority)', async function () {
    if (!ON_LINUX) this.skip();
    // Checked every second: only a thread kept from a CPU for that long is rescued.
    setStarvationCheckMs(1_000);
    const rescued = keyThreadDiagnostics().keysRescued;
    const alone = await rsaOnKeyThread(4096);
    assert.equal(alone.privateKey.asymmetricKeyDetails.modulusLength, 4096);
    assert.equal(keyThreadDiagnostics().keysRescued, rescued, 'no other load: made at nice 19');
    assert.equal(keyThreadDiagnostics().threads[0].keysMade, 1);

    // Busy loops at this process's priority on every CPU: a nice-19 thread gets about 1.5 % of one.
    setStarvationCheckMs(100);
    const hogs = Array.from({ length: availableParallelism() }, () => spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' }));
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const keyPair = await rsaOnKeyThread(4096);
      assert.equal(keyPair.privateKey.asymmetricKeyDetails.modulusLength, 4096);
      assert.equal(keyThreadDiagnostics().keysRescued - rescued, 1, 'made on libuv instead');
    } finally {
      for (const hog of hogs) hog.kill('SIGKILL');
    }
  });

  it('a key generation that fails on its thread rejects with the error (no hang), and the thread keeps serving', async () => {
    await assert.rejects(rsaOnKeyThread(100), /key size too small/);
    const [thread] = keyThreadDiagnostics().threads;
    assert.equal(thread.busy, false);
    const keyPair = await rsaOnKeyThread(2048);
    assert.equal(keyPair.privateKey.asymmetricKeyDetails.modulusLength, 2048);
    assert.equal(keyThreadDiagnostics().threads.length, 1, 'the same thread');
  });

  it('a pool key aborted while it waits for a CPU never reaches a key thread', async () => {
    const devices = Array.from({ length: availableParallelism() }, () => newKeyPair('rsa2048', 'device'));
    const started = keyThreadDiagnostics().keysStarted;
    const cancel = new AbortController();
    const poolKey = newKeyPair('rsa2048', 'pool', cancel.signal);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(keyThreadDiagnostics().keysStarted, started, 'the pool key waits for the devices');
    cancel.abort();
    await assert.rejects(poolKey, /key generation cancelled/);
    await Promise.all(devices);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(keyThreadDiagnostics().keysStarted, started, 'the cancelled key never started');
  });

  it('idle threads never keep a process alive, and a key being made does', () => {
    const script = `
      const { rsaOnKeyThread, setKeyThreadIdleMs } = require(${JSON.stringify(KEY_THREADS_MODULE)});
      setKeyThreadIdleMs(1e9);
      rsaOnKeyThread(2048).then((keyPair) => process.stdout.write(String(keyPair.privateKey.asymmetricKeyDetails.modulusLength)));`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 50_000 });
    assert.equal(run.signal, null, 'the process ended by itself');
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, '2048');
  });

  it("the process's preloads (--require) and flags are not run in key threads", () => {
    const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'gl-key-thread-preload-'));
    try {
      // Like Node-RED's watchdog in the demo: a preload that stops the process when its stdin ends. A worker's stdin is empty.
      const preload = path.join(dir, 'preload.js');
      fs.writeFileSync(preload, "if (!require('node:worker_threads').isMainThread) process.kill(process.pid, 'SIGTERM');");
      const script = `require(${JSON.stringify(KEY_THREADS_MODULE)}).rsaOnKeyThread(2048).then(() => process.stdout.write('made'));`;
      const run = spawnSync(process.execPath, ['--require', preload, '-e', script], { encoding: 'utf8', timeout: 50_000 });
      assert.equal(run.signal, null, 'the preload ran in a key thread and stopped the process');
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, 'made');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
