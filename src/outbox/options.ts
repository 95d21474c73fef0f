import * as path from 'node:path';
import { ProvisionError } from '../provisioning/errors';

export type FullPolicy = 'drop-oldest' | 'refuse-new';

/** Why records were dropped without being sent: the size bound (drop-oldest) or their age. */
export type DropReason = 'maxBytes' | 'maxAgeMs';

export interface DroppedRecords {
  deviceKey: string;
  count: number;
  reason: DropReason;
}

export interface OutboxOptions {
  /** The folder of the database (one database per folder; made 0700 when missing). */
  dir: string;
  /** Bytes on disk at most: each record counts its JSON plus 200 bytes of database overhead; default 100 MB. */
  maxBytes?: number;
  /** A record older than this is dropped unsent; default 7 days. */
  maxAgeMs?: number;
  /** When maxBytes is reached: drop the oldest records (default) or refuse the new one with QUEUE_FULL. */
  fullPolicy?: FullPolicy;
  /** Called after every commit that dropped records, once per device and reason. Never silent. */
  onDropped?: (dropped: DroppedRecords) => void;
}

export interface ResolvedOutboxOptions {
  dir: string;
  maxBytes: number;
  maxAgeMs: number;
  fullPolicy: FullPolicy;
  onDropped: (dropped: DroppedRecords) => void;
}

export const OUTBOX_DEFAULTS = { maxBytes: 100 * 1024 * 1024, maxAgeMs: 7 * 24 * 60 * 60 * 1000, fullPolicy: 'drop-oldest' } as const;

function invalid(field: string, message: string): ProvisionError {
  return new ProvisionError('INVALID_INPUT', message, { field });
}

function positive(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw invalid(field, `outbox ${field} must be a positive number (got ${JSON.stringify(value) ?? typeof value}).`);
  return value;
}

export function resolveOutboxOptions(options: OutboxOptions): ResolvedOutboxOptions {
  if (typeof options?.dir !== 'string' || options.dir === '') throw invalid('dir', 'The outbox needs a folder (dir) for its database.');
  const fullPolicy = options.fullPolicy ?? OUTBOX_DEFAULTS.fullPolicy;
  if (fullPolicy !== 'drop-oldest' && fullPolicy !== 'refuse-new') {
    throw invalid('fullPolicy', `outbox fullPolicy must be "drop-oldest" or "refuse-new" (got ${JSON.stringify(fullPolicy)}).`);
  }
  return {
    dir: path.resolve(options.dir),
    maxBytes: positive(options.maxBytes, 'maxBytes', OUTBOX_DEFAULTS.maxBytes),
    maxAgeMs: positive(options.maxAgeMs, 'maxAgeMs', OUTBOX_DEFAULTS.maxAgeMs),
    fullPolicy,
    onDropped: options.onDropped ?? (() => {}),
  };
}
