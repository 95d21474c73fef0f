import type { OutboxDatabase } from './database';
import { NEXT_ID_KEY, orderRange, TOTAL_KEY, deviceRange, orderKey, recordKey, totalsKey, type DeviceTotals, type OrderValue } from './keys';
import type { DropReason, ResolvedOutboxOptions } from './options';
import { outboxFull } from './outbox-errors';
import type { RecordKind, StoredRecord } from './record';
import type { ProvisionError } from '../provisioning/errors';

/** One change asked of the database; a commit applies every operation queued since the last one, in order. */
export type Operation =
  | { kind: 'append'; deviceKey: string; recordKind: RecordKind; body: string; bytes: number; at: number; deviceType?: string }
  | { kind: 'acknowledge'; ids: readonly number[] }
  | { kind: 'purge'; deviceKey: string | undefined }
  | { kind: 'expire' };

/** Per operation: an append's id (or its QUEUE_FULL), how many records an acknowledge/purge/expire removed. */
export type Outcome = number | ProvisionError;

export interface CommitResult {
  outcomes: Outcome[];
  /** Records dropped unsent by this commit, per device and reason. */
  dropped: Map<string, { deviceKey: string; reason: DropReason; count: number }>;
}

const CHUNK = 256;

/**
 * Applies a batch inside one lmdb write transaction (synchronous: the callback of db.transaction, run
 * while this process holds the folder's write lock, so ids and totals stay right with other processes
 * writing too). Nothing here throws for a refused record: that is an outcome.
 */
export function applyBatch(db: OutboxDatabase, options: ResolvedOutboxOptions, operations: readonly Operation[], now: number): CommitResult {
  const totals = new Map<string, DeviceTotals>();
  const total = (db.get(TOTAL_KEY) as DeviceTotals | undefined) ?? { count: 0, bytes: 0 };
  const dropped: CommitResult['dropped'] = new Map();
  let nextId = (db.get(NEXT_ID_KEY) as number | undefined) ?? 1;

  const totalsOf = (deviceKey: string): DeviceTotals => {
    let found = totals.get(deviceKey);
    if (!found) {
      found = { ...((db.get(totalsKey(deviceKey)) as DeviceTotals | undefined) ?? { count: 0, bytes: 0 }) };
      totals.set(deviceKey, found);
    }
    return found;
  };
  const remove = (id: number, [deviceKey, bytes]: OrderValue): void => {
    db.removeSync(recordKey(deviceKey, id));
    db.removeSync(orderKey(id));
    const device = totalsOf(deviceKey);
    device.count--;
    device.bytes -= bytes;
    total.count--;
    total.bytes -= bytes;
  };
  const drop = (id: number, value: OrderValue, reason: DropReason): void => {
    remove(id, value);
    const key = `${reason}\u0000${value[0]}`;
    const entry = dropped.get(key) ?? { deviceKey: value[0], reason, count: 0 };
    entry.count++;
    dropped.set(key, entry);
  };
  /** Drops records from the oldest on, while `wanted(value)` holds. */
  const dropOldest = (reason: DropReason, wanted: (value: OrderValue) => boolean): void => {
    // Usually none or a few are due: look at one first, then read in chunks.
    for (let limit = 1; ; limit = CHUNK) {
      const oldest = [...db.getRange(orderRange(limit))];
      if (oldest.length === 0) return;
      for (const { key, value } of oldest) {
        if (!wanted(value as OrderValue)) return;
        drop(key[1] as number, value as OrderValue, reason);
      }
    }
  };
  const removeIds = (ids: Iterable<number>): number => {
    let removed = 0;
    for (const id of ids) {
      const value = db.get(orderKey(id)) as OrderValue | undefined;
      if (value) {
        remove(id, value);
        removed++;
      }
    }
    return removed;
  };

  // Every commit first drops what outlived maxAgeMs (one read when nothing has).
  dropOldest('maxAgeMs', ([, , at]) => at < now - options.maxAgeMs);
  const outcomes = operations.map((operation): Outcome => {
    switch (operation.kind) {
      case 'expire': // done above, for every commit
        return [...dropped.values()].reduce((sum, report) => sum + (report.reason === 'maxAgeMs' ? report.count : 0), 0);
      case 'acknowledge':
        return removeIds(operation.ids);
      case 'purge': {
        const range = operation.deviceKey === undefined ? orderRange() : deviceRange(operation.deviceKey);
        const ids = [...db.getKeys(range)].map((key) => key[key.length - 1] as number);
        return removeIds(ids);
      }
      case 'append': {
        const { deviceKey, bytes } = operation;
        if (bytes > options.maxBytes) return outboxFull(options.dir, deviceKey, options.maxBytes, bytes, true);
        if (total.bytes + bytes > options.maxBytes) {
          if (options.fullPolicy === 'refuse-new') return outboxFull(options.dir, deviceKey, options.maxBytes, bytes, false);
          dropOldest('maxBytes', () => total.bytes + bytes > options.maxBytes);
        }
        const id = nextId++;
        const record: StoredRecord = { k: operation.recordKind, b: operation.body, a: operation.at };
        if (operation.deviceType !== undefined) record.t = operation.deviceType;
        db.putSync(recordKey(deviceKey, id), record);
        db.putSync(orderKey(id), [deviceKey, bytes, operation.at] satisfies OrderValue);
        const device = totalsOf(deviceKey);
        device.count++;
        device.bytes += bytes;
        total.count++;
        total.bytes += bytes;
        return id;
      }
    }
  });

  if (totals.size === 0) return { outcomes, dropped }; // nothing changed: no write, the commit is empty
  db.putSync(NEXT_ID_KEY, nextId);
  db.putSync(TOTAL_KEY, total);
  for (const [deviceKey, device] of totals) {
    if (device.count > 0) db.putSync(totalsKey(deviceKey), device);
    else db.removeSync(totalsKey(deviceKey));
  }
  return { outcomes, dropped };
}
