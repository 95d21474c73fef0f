'use strict';
/**
 * Table 10: embedded databases for the durable outbox (issue 23 item 2), measured as the outbox uses
 * them: durable appends in batches (each batch one fsync'd commit), the backlog read in order per
 * device, deletes after acknowledgement (each batch one fsync'd commit), the reopen of a filled
 * database, RSS and the installed size. Each candidate runs in a fresh child process per round, the
 * rounds interleave the candidates in a new order each time; medians with min–max over the rounds.
 *
 * Candidates: `lmdb` (the project's dependency), `classic-level` (LevelDB) when installed, and an
 * append-only file with fdatasync per batch: the floor, what durable appends of these bytes cost
 * without any database. A candidate not installed in the project is looked up in
 * OUTBOX_BENCH_MODULES (a node_modules folder), e.g. after
 * `cd /tmp/dbbench && npm init -y && npm install lmdb classic-level`.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { tableMain } = require('../lib/table-main');
const { count } = require('../lib/args');
const { table, fmt } = require('../lib/markdown');
const { median } = require('../lib/stats');
const { adapters, resolveModule, packageJsonOf, installedBytes } = require('../lib/outbox-db-candidates');

const DEVICES = 4;
const BATCH = 100;
const CANDIDATES = ['outbox', 'lmdb', 'lmdb-overlapping', 'classic-level', 'file'];
const MB = 1024 * 1024;

// ---------------------------------------------------------------- child: one candidate, one round

function body(device, seq) {
  return JSON.stringify({ ts: 1_760_000_000_000 + seq, values: { temperature: 20 + (seq % 10) / 10, humidity: 40 + (seq % 7), device, seq } });
}

async function child(name, records) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `outbox-db-${name}-`));
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  const devices = Array.from({ length: DEVICES }, (_, i) => `device-${i}`);
  const items = Array.from({ length: records }, (_, i) => [devices[i % DEVICES], i, body(devices[i % DEVICES], i)]);
  const result = { name };
  try {
    let db = await adapters[name](dir);
    let start = process.hrtime.bigint();
    for (let i = 0; i < records; i += BATCH) await db.append(items.slice(i, i + BATCH));
    result.appendPerSec = records / (Number(process.hrtime.bigint() - start) / 1e9);
    await db.close();

    start = process.hrtime.bigint();
    db = await adapters[name](dir);
    result.openMs = Number(process.hrtime.bigint() - start) / 1e6;

    start = process.hrtime.bigint();
    let read = 0;
    for (const device of devices) read += (await db.readDevice(device)).length;
    result.readPerSec = read / (Number(process.hrtime.bigint() - start) / 1e9);
    if (read !== records) throw new Error(`${name}: read ${read} of ${records}`);

    // The replay: per device, peek the oldest BATCH, delete them in one durable commit, again.
    start = process.hrtime.bigint();
    let drained = 0;
    for (const device of devices) {
      for (let oldest = await db.readDevice(device, BATCH); oldest.length > 0; oldest = await db.readDevice(device, BATCH)) {
        await db.remove(oldest.map((seq) => [device, seq]));
        drained += oldest.length;
      }
    }
    result.removePerSec = drained / (Number(process.hrtime.bigint() - start) / 1e9);
    if (drained !== records) throw new Error(`${name}: drained ${drained} of ${records}`);
    result.peakRssMb = peakRss / MB;
    if (db.appendOnePerTurn) {
      // After the RSS reading: this phase keeps up to 1,000 appends and their promises waiting.
      start = process.hrtime.bigint();
      await db.appendOnePerTurn(items);
      result.onePerTurnPerSec = records / (Number(process.hrtime.bigint() - start) / 1e9);
    }
    await db.close();
  } finally {
    clearInterval(sampler);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

// ---------------------------------------------------------------- parent: rounds, interleaved

function runChild(name, records) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [__filename], {
      env: { ...process.env, OUTBOX_DB_CHILD: JSON.stringify({ name, records }) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk) => (out += chunk));
    proc.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${name} round failed (exit ${code})`))));
  });
}

function spread(values, digits) {
  return `${fmt(median(values), digits)} (${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)})`;
}

async function parent(args, log) {
  const records = count(args, 20_000, 2_000);
  const rounds = count(args, 5, 1);
  const moduleOf = (name) => (name === 'lmdb-overlapping' || name === 'outbox' ? 'lmdb' : name);
  const names = CANDIDATES.filter((name) => name === 'file' || resolveModule(moduleOf(name)));
  const missing = CANDIDATES.filter((name) => !names.includes(name));
  const results = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = [...names].sort(() => Math.random() - 0.5);
    for (const name of order) {
      const result = await runChild(name, records);
      results[name].push(result);
      log(
        `round ${round + 1}/${rounds} ${name}: ${fmt(result.appendPerSec)} appends/s, ${fmt(result.readPerSec)} reads/s, ${fmt(result.removePerSec)} deletes/s`,
      );
    }
  }
  const baseline = await runChildBaseline();
  const rows = names.map((name) => {
    const runs = results[name];
    const pick = (field) => runs.map((run) => run[field]);
    const module = moduleOf(name);
    const version =
      name === 'outbox'
        ? `this package's outbox (on lmdb)`
        : name === 'file'
          ? 'append-only file (floor)'
          : `${module} ${require(packageJsonOf(module, [path.dirname(resolveModule(module))])).version}${module === name ? '' : ', overlappingSync + await flushed'}`;
    return [
      version,
      name === 'outbox' ? `${spread(pick('appendPerSec'))}; one per turn: ${spread(pick('onePerTurnPerSec'))}` : spread(pick('appendPerSec')),
      spread(pick('readPerSec')),
      spread(pick('removePerSec')),
      spread(pick('openMs'), 1),
      spread(
        pick('peakRssMb').map((mb) => mb - baseline),
        1,
      ),
      name === 'file' ? 0 : fmt(installedBytes(moduleOf(name)) / MB, 1),
    ];
  });
  return [
    `${records.toLocaleString('en-US')} telemetry records (${Buffer.byteLength(body('device-0', 1))} bytes of JSON each) for ${DEVICES} devices; ` +
      `appends in batches of ${BATCH}, each batch one durable (fsync'd) commit; reads: the whole backlog in key order, device by device; ` +
      `drain: per device, read the oldest ${BATCH} and delete them in one durable commit, until empty (the replay's pattern); ` +
      `open = reopening the filled database; RSS = peak of the process minus an empty Node process's (${fmt(baseline, 1)} MiB). ` +
      `Each candidate in a fresh process per round, ${rounds} round(s) in a new random order each: median (min–max). ` +
      `The outbox row adds its order index and totals to every commit; "one per turn" (measured last, outside the RSS figure) appends one record per event-loop turn, ` +
      `Node-RED's pattern, at most 1,000 waiting: its commits gather what arrives meanwhile. ` +
      `lmdb with \`overlappingSync: false\` (a commit resolves once it is on disk), classic-level with \`sync: true\`; "file" is an append-only log with one fdatasync per batch: the floor.`,
    missing.length ? `\nNot installed, not measured: ${missing.join(', ')} (set OUTBOX_BENCH_MODULES to a node_modules folder that has them).` : '',
    '',
    table(['candidate', 'appends/s', 'reads/s in order', 'drain: peek + delete/s', 'open ms', 'RSS MiB', 'installed MiB'], rows),
  ].join('\n');
}

function runChildBaseline() {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['-e', 'setTimeout(() => console.log(process.memoryUsage().rss), 50)'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (chunk) => (out += chunk));
    proc.on('close', () => resolve(Number(out) / MB));
  });
}

if (process.env.OUTBOX_DB_CHILD) {
  const { name, records } = JSON.parse(process.env.OUTBOX_DB_CHILD);
  child(name, records).then(
    (result) => process.stdout.write(JSON.stringify(result)),
    (error) => {
      process.stderr.write(`${error.stack}\n`);
      process.exit(1);
    },
  );
} else {
  tableMain(parent);
}
