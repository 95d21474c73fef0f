'use strict';
const assert = require('node:assert/strict');
const { JobQueue } = require('../../nodes/node-red/job-queue');

/** A job runner whose jobs finish only when the test says so. */
function controllableRunner() {
  const pending = [];
  const runner = (item, signal) =>
    new Promise((resolve) => {
      pending.push({ item, finish: resolve });
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  return { runner, pending };
}

describe('JobQueue', function () {
  it('runs at most maxParallel jobs, in arrival order, and drains 20,000 queued items', async function () {
    const { runner, pending } = controllableRunner();
    const queue = new JobQueue(2, runner);
    for (let i = 0; i < 20000; i += 1) queue.push(i);
    assert.deepEqual(queue.counts(), { running: 2, queued: 19998 });
    const order = [];
    while (pending.length > 0) {
      const job = pending.shift();
      order.push(job.item);
      job.finish();
      await new Promise(setImmediate);
      assert.ok(queue.counts().running <= 2);
    }
    assert.deepEqual(queue.counts(), { running: 0, queued: 0 });
    assert.deepEqual(
      order,
      Array.from({ length: 20000 }, (_, i) => i),
    );
  });

  it('a runner that throws or rejects does not stop the queue', async function () {
    const seen = [];
    const queue = new JobQueue(1, async (item) => {
      seen.push(item);
      if (item === 0) throw new Error('boom');
    });
    const sync = new JobQueue(1, (item) => {
      seen.push(`sync-${item}`);
      throw new Error('sync boom');
    });
    queue.push(0);
    queue.push(1);
    sync.push(0);
    sync.push(1);
    await new Promise(setImmediate);
    assert.deepEqual(seen.sort(), [0, 1, 'sync-0', 'sync-1'].sort());
  });

  it('close aborts running jobs, returns the queued items, resolves once running jobs settle, refuses new work', async function () {
    const { runner } = controllableRunner();
    const changes = [];
    const queue = new JobQueue(2, runner, (counts) => changes.push(counts));
    for (let i = 0; i < 5; i += 1) queue.push(i);
    const dropped = await queue.close();
    assert.deepEqual(dropped, [2, 3, 4]);
    assert.deepEqual(queue.counts(), { running: 0, queued: 0 });
    assert.equal(queue.push(9), false);
    assert.deepEqual(changes.at(-1), { running: 0, queued: 0 });
  });

  it('drain lets running jobs finish within the limit, returns the queued items, and refuses new work', async function () {
    const { runner, pending } = controllableRunner();
    const queue = new JobQueue(2, runner);
    for (let i = 0; i < 5; i += 1) queue.push(i);
    const draining = queue.drain(60_000, 60_000);
    assert.equal(queue.push(9), false);
    pending.forEach((job) => job.finish());
    const { dropped, stillRunning } = await draining;
    assert.deepEqual(dropped, [2, 3, 4]);
    assert.equal(stillRunning, 0);
    assert.deepEqual(
      pending.map((job) => job.item),
      [0, 1],
      'nothing queued was started',
    );
  });

  it('drain aborts the jobs still running at the limit, and stops waiting for those that ignore the abort after settleMs', async function () {
    const signals = [];
    let release;
    const stubborn = new Promise((resolve) => (release = resolve));
    const queue = new JobQueue(2, (item, signal) => {
      signals.push(signal);
      return item === 'stubborn' ? stubborn : new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    });
    queue.push('polite');
    queue.push('stubborn');
    const { stillRunning } = await queue.drain(20, 20);
    assert.deepEqual(
      signals.map((signal) => signal.aborted),
      [true, true],
    );
    assert.equal(stillRunning, 1);
    release();
  });

  it('rejects a limit below 1', function () {
    assert.throws(() => new JobQueue(0, async () => {}), RangeError);
  });
});
