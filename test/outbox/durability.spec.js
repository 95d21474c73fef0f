'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');
const { OUTBOX, openOutbox, outboxDir, telemetry } = require('./support');

const CHILD = path.join(__dirname, 'append-child.js');

function startWriter(run) {
  return spawn(process.execPath, [CHILD], { env: { ...process.env, OUTBOX, APPEND: JSON.stringify(run) }, stdio: ['ignore', 'pipe', 'inherit'] });
}

/** What a writer reported durable: appended ids → seq, deleted ids, and ids it was about to delete. */
function parseReport(output) {
  const appended = new Map();
  const deleted = new Set();
  const deleting = new Set();
  for (const line of output.split('\n')) {
    const [kind, id, seq] = line.split(' ');
    if (kind === 'A') appended.set(Number(id), Number(seq));
    else if (kind === 'D') deleted.add(Number(id));
    else if (kind === 'P') deleting.add(Number(id));
  }
  return { appended, deleted, deleting };
}

/** Every stored record of a device parses and comes in increasing id and seq order. */
function storedInOrder(outbox, device) {
  const entries = [...outbox.pending(device)];
  const seqs = entries.map((entry) => JSON.parse(entry.body).values.seq);
  for (let i = 1; i < entries.length; i++) {
    assert.ok(entries[i].id > entries[i - 1].id && seqs[i] > seqs[i - 1], `order broken at ${i}: ids ${entries[i - 1].id}, ${entries[i].id}`);
  }
  return new Map(entries.map((entry, i) => [entry.id, seqs[i]]));
}

describe('outbox: durability and sharing a folder', function () {
  this.timeout(60_000);
  let dir;
  beforeEach(() => {
    dir = outboxDir('durable');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('survives SIGKILL at random points: every record reported durable is there, in order, none reported deleted, nothing corrupt', async function () {
    const ROUNDS = 6;
    const device = 'killed';
    const reported = { appended: new Map(), deleted: new Set(), deleting: new Set() };
    for (let round = 0; round < ROUNDS; round++) {
      const killAfterLines = 1 + Math.floor(Math.random() * 1500);
      const output = await new Promise((resolve, reject) => {
        const child = startWriter({ dir, device, count: 0, batch: 25 });
        let text = '';
        let lines = 0;
        child.stdout.on('data', (chunk) => {
          text += chunk;
          lines += chunk.toString().split('\n').length - 1;
          if (lines >= killAfterLines && !child.killed) setTimeout(() => child.kill('SIGKILL'), Math.random() * 20);
        });
        child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(text) : reject(new Error(`writer ended with ${code ?? signal}`))));
      });
      const { appended, deleted, deleting } = parseReport(output);
      for (const id of deleting) reported.deleting.add(id);
      // Ids of one round continue after the last round's: merge (a deleted id is never reused).
      for (const [id, seq] of appended) reported.appended.set(id, `${round}:${seq}`);
      for (const id of deleted) reported.deleted.add(id);
      const outbox = await openOutbox({ dir });
      try {
        const stored = [...outbox.pending(device)];
        for (const entry of stored) JSON.parse(entry.body);
        const storedIds = new Set(stored.map((entry) => entry.id));
        for (const id of reported.deleted) assert.ok(!storedIds.has(id), `record ${id} was reported deleted but is stored`);
        for (const id of reported.appended.keys()) {
          if (!reported.deleting.has(id)) assert.ok(storedIds.has(id), `record ${id} (${reported.appended.get(id)}) was reported durable but is gone`);
        }
        for (let i = 1; i < stored.length; i++) assert.ok(stored[i].id > stored[i - 1].id);
        const counts = outbox.counts();
        assert.equal(counts.waiting, stored.length, 'the totals agree with the records');
      } finally {
        await outbox.close();
      }
    }
    assert.ok(reported.appended.size > 0);
  });

  it('two outboxes of one process on one folder share it: ids unique, each sees and acknowledges the other’s records', async function () {
    const one = await openOutbox({ dir });
    const two = await openOutbox({ dir });
    try {
      const ids = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? one : two).append('shared', telemetry({ ts: i, values: { seq: i } }))));
      assert.equal(new Set(ids).size, 200);
      // Append order is commit order: each outbox's own records keep theirs.
      const stored = [...one.pending('shared')].map((entry) => JSON.parse(entry.body).values.seq);
      assert.equal(stored.length, 200);
      for (const parity of [0, 1]) {
        const own = stored.filter((seq) => seq % 2 === parity);
        assert.deepEqual(
          own,
          [...own].sort((x, y) => x - y),
        );
      }
      assert.equal(await two.acknowledge(one.peek('shared', 50).map((entry) => entry.id)), 50);
      assert.equal(one.counts().waiting, 150);
      await one.close();
      assert.ok((await two.append('shared', telemetry({ ts: 999, values: { seq: 999 } }))) > Math.max(...ids), 'the other still writes after one closed');
      assert.equal(two.counts().waiting, 151);
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('two processes on one folder: both write at once, every record kept once, in order per device', async function () {
    const child = startWriter({ dir, device: 'child', count: 600, batch: 20 });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const outbox = await openOutbox({ dir });
    try {
      const ids = [];
      for (let i = 0; i < 600; i += 20) {
        ids.push(...(await Promise.all(Array.from({ length: 20 }, (_, k) => outbox.append('parent', telemetry({ ts: i + k, values: { seq: i + k } }))))));
      }
      assert.equal(await exited, 0);
      const { appended, deleted } = parseReport(output);
      const childIds = [...appended.keys()];
      assert.equal(new Set([...ids, ...childIds]).size, 1200, 'no id given twice across the processes');
      assert.equal(storedInOrder(outbox, 'parent').size, 600);
      const child = storedInOrder(outbox, 'child');
      assert.equal(child.size, 600 - deleted.size);
      for (const id of childIds) assert.equal(child.has(id), !deleted.has(id));
      assert.equal(outbox.counts().waiting, 1200 - deleted.size, 'totals kept right by both writers');
    } finally {
      await outbox.close();
    }
  });

  describe('a full disk', function () {
    let mountPoint;
    before(function () {
      mountPoint = outboxDir('tmpfs');
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint], { stdio: 'pipe' });
      } catch (error) {
        fs.rmSync(mountPoint, { recursive: true, force: true });
        mountPoint = undefined;
        console.log(`      (skipped: a 2 MB tmpfs cannot be mounted here: ${String(error.stderr || error.message).trim()})`);
        this.skip();
      }
    });
    after(() => {
      if (!mountPoint) return;
      execFileSync('umount', [mountPoint]);
      fs.rmSync(mountPoint, { recursive: true, force: true });
    });

    it('refuses the commit with STORE (ENOSPC), keeps everything stored before intact, and works again once space is freed', async function () {
      const folder = path.join(mountPoint, 'outbox');
      // What the user frees once the disk is full (deleting in LMDB writes new pages too: copy on write).
      const ballast = path.join(mountPoint, 'ballast');
      fs.writeFileSync(ballast, Buffer.alloc(256 * 1024, 1));
      let outbox = await openOutbox({ dir: folder });
      const stored = [];
      let failure;
      const pad = 'x'.repeat(400);
      try {
        for (let seq = 0; seq < 20_000 && !failure; seq += 10) {
          const results = await Promise.allSettled(
            Array.from({ length: 10 }, (_, k) => outbox.append('full', telemetry({ ts: seq + k, values: { seq: seq + k, pad } }))),
          );
          for (const result of results) {
            if (result.status === 'fulfilled') stored.push(result.value);
            else failure = result.reason;
          }
        }
      } finally {
        await outbox.close();
      }
      assert.ok(failure, 'the disk filled up');
      assert.equal(failure.code, 'STORE');
      assert.match(failure.message, /disk is full/);
      outbox = await openOutbox({ dir: folder });
      try {
        assert.equal(failure.details.reason, 'ENOSPC');
        const kept = storedInOrder(outbox, 'full');
        for (const id of stored) assert.ok(kept.has(id), `record ${id} was stored before the disk filled, and is gone`);
        assert.ok(stored.length > 100);
        fs.rmSync(ballast);
        const freed = await outbox.acknowledge(stored.slice(0, Math.floor(stored.length / 2)));
        assert.ok(freed > 0);
        await outbox.append('full', telemetry({ ts: 1, values: { seq: 1e9 } }));
      } finally {
        await outbox.close();
      }
    });
  });
});
