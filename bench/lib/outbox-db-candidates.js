'use strict';
/**
 * The candidates of table 10 (bench/tables/outbox-db.js), each behind the same small interface:
 * append(items) and remove(items) as one durable commit, readDevice(device, limit) in key order,
 * close(). Also where a candidate is installed and how many bytes it takes there.
 */
const fs = require('node:fs');
const path = require('node:path');

const MB = 1024 * 1024;

function resolveModule(name) {
  const paths = [path.join(__dirname, '..', '..'), process.env.OUTBOX_BENCH_MODULES].filter(Boolean);
  try {
    return require.resolve(name, { paths });
  } catch {
    return undefined;
  }
}

/** The package.json of an installed package (its `exports` may hide the file from require.resolve). */
function packageJsonOf(name, paths) {
  let main;
  try {
    main = require.resolve(name, paths ? { paths } : undefined) ?? '';
  } catch {
    return undefined;
  }
  for (let dir = path.dirname(main); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate) && JSON.parse(fs.readFileSync(candidate, 'utf8')).name === name) return candidate;
  }
  return undefined;
}

/** Bytes on disk of a package and everything it depends on (optional platform packages included when present). */
function installedBytes(name) {
  const main = resolveModule(name);
  const entry = main && packageJsonOf(name, [path.dirname(main)]);
  if (!entry) return NaN;
  const seen = new Set();
  const folderBytes = (dir) => {
    let total = 0;
    for (const item of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, item.name);
      if (item.isDirectory()) total += item.name === 'node_modules' ? 0 : folderBytes(full);
      else if (item.isFile()) total += fs.statSync(full).size;
    }
    return total;
  };
  const visit = (packageJson) => {
    const dir = path.dirname(packageJson);
    if (seen.has(dir)) return 0;
    seen.add(dir);
    const manifest = JSON.parse(fs.readFileSync(packageJson, 'utf8'));
    let total = folderBytes(dir);
    for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
      const depJson = packageJsonOf(dep, [dir]) ?? findInstalled(dep, dir);
      if (depJson) total += visit(depJson); // else an optional package for another platform
    }
    return total;
  };
  /** A package without a main file (a platform binary): its folder in the nearest node_modules above `from`. */
  const findInstalled = (dep, from) => {
    for (let dir = from; dir !== path.dirname(dir); dir = path.dirname(dir)) {
      const candidate = path.join(dir, 'node_modules', dep, 'package.json');
      if (fs.existsSync(candidate)) return candidate;
    }
    return undefined;
  };
  return visit(entry);
}

async function lmdbAdapter(dir, overlappingSync) {
  const { open } = require(resolveModule('lmdb'));
  const db = open({ path: dir, overlappingSync, encoding: 'msgpack' });
  const durable = async (writes) => {
    await Promise.all(writes);
    if (overlappingSync) await db.flushed;
  };
  return {
    append: (items) => durable(items.map(([device, seq, value]) => db.put([device, seq], value))),
    readDevice(device, limit = Infinity) {
      const found = [];
      for (const { key, value } of db.getRange({ start: [device], end: [device, Infinity], limit })) if (value.length > 0) found.push(key[1]);
      return found;
    },
    remove: (items) => durable(items.map(([device, seq]) => db.remove([device, seq]))),
    close: () => db.close(),
  };
}

/** This package's outbox (src/outbox, on lmdb): what gridlinks-device will pay, order index and totals included. */
const outboxIds = new Map();
async function outboxAdapter(dir) {
  const { openOutbox } = require(path.join(__dirname, '..', '..', 'nodes', 'outbox'));
  const outbox = await openOutbox({ dir, maxBytes: 1024 * MB });
  const ids = outboxIds; // (device, seq) → id, across the reopen
  const keyOf = (device, seq) => `${device}\u0000${seq}`;
  return {
    append: (items) =>
      Promise.all(
        items.map(([device, seq, value]) =>
          outbox.append(device, { kind: 'telemetry', payload: JSON.parse(value) }).then((id) => ids.set(keyOf(device, seq), id)),
        ),
      ),
    readDevice(device, limit = Infinity) {
      const found = [];
      for (const entry of limit === Infinity ? outbox.pending(device, 1000) : outbox.peek(device, limit)) {
        if (entry.body.length > 0) found.push(JSON.parse(entry.body).values.seq);
      }
      return found;
    },
    remove: (items) => outbox.acknowledge(items.map(([device, seq]) => ids.get(keyOf(device, seq)))),
    close: () => outbox.close(),
    /** Node-RED's pattern: one message per turn, each append on its own; commits gather what arrives meanwhile. */
    async appendOnePerTurn(list) {
      const waiting = [];
      for (const [device, seq, value] of list) {
        waiting.push(outbox.append(device, { kind: 'telemetry', payload: JSON.parse(value) }).then((id) => ids.set(keyOf(device, seq), id)));
        if (waiting.length >= 1000) await Promise.all(waiting.splice(0));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(waiting);
    },
  };
}

const adapters = {
  outbox: outboxAdapter,
  lmdb: (dir) => lmdbAdapter(dir, false),
  /** lmdb's default on Linux: the commit resolves before its fsync; durable once `db.flushed` resolves. */
  'lmdb-overlapping': (dir) => lmdbAdapter(dir, true),
  async 'classic-level'(dir) {
    const { ClassicLevel } = require(resolveModule('classic-level'));
    const db = new ClassicLevel(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.open();
    const key = (device, seq) => `${device}\u0000${String(seq).padStart(12, '0')}`;
    return {
      append: (items) =>
        db.batch(
          items.map(([device, seq, value]) => ({ type: 'put', key: key(device, seq), value })),
          { sync: true },
        ),
      async readDevice(device, limit = Infinity) {
        const found = [];
        const iterator = db.iterator({ gte: `${device}\u0000`, lt: `${device}\u0001`, limit: limit === Infinity ? -1 : limit });
        for (let entries = await iterator.nextv(1000); entries.length > 0; entries = await iterator.nextv(1000)) {
          for (const [key, value] of entries) if (value.length > 0) found.push(Number(key.slice(key.indexOf('\u0000') + 1)));
        }
        await iterator.close();
        return found;
      },
      remove: (items) =>
        db.batch(
          items.map(([device, seq]) => ({ type: 'del', key: key(device, seq) })),
          { sync: true },
        ),
      close: () => db.close(),
    };
  },
  /** The floor: one append-only log, one write + fdatasync per batch; an acknowledgement is an appended line too. */
  async file(dir) {
    fs.mkdirSync(dir, { recursive: true });
    const logPath = path.join(dir, 'log');
    const handle = await fs.promises.open(logPath, 'a');
    const write = async (text) => {
      await handle.write(text);
      await handle.datasync();
    };
    return {
      append: (items) => write(items.map(([device, seq, value]) => `${device}\t${seq}\t${value}\n`).join('')),
      /** Replays the whole log (records minus acknowledgements): what a restart of a log-based outbox does. */
      async readDevice(device, limit = Infinity) {
        const text = await fs.promises.readFile(logPath, 'utf8');
        const pending = new Map();
        for (const line of text.split('\n')) {
          const parts = line.split('\t');
          if (parts[0] === 'ack') {
            if (parts[1] === device) pending.delete(Number(parts[2]));
          } else if (parts[0] === device && JSON.parse(parts[2]).values) pending.set(Number(parts[1]), true);
        }
        return [...pending.keys()].slice(0, limit);
      },
      remove: (items) => write(items.map(([device, seq]) => `ack\t${device}\t${seq}\n`).join('')),
      close: () => handle.close(),
    };
  },
};

module.exports = { adapters, resolveModule, packageJsonOf, installedBytes };
