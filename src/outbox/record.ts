import { ProvisionError } from '../provisioning/errors';

/** What is kept: telemetry and client attributes (what a device publishes and a reading is worth later). */
export type RecordKind = 'telemetry' | 'attributes';

export interface OutboxRecord {
  kind: RecordKind;
  /** Telemetry: `{key: value}`, `{ts, values}` or an array of those; attributes: `{key: value}`. */
  payload: unknown;
  /** A gateway's child: the device type it is announced with when the record is sent again (after a restart too). */
  deviceType?: string;
}

/** A record waiting in the outbox, oldest first per device. */
export interface OutboxEntry {
  /** Unique in the folder and increasing in the order records were appended; what acknowledge() takes. */
  id: number;
  deviceKey: string;
  kind: RecordKind;
  /** The JSON to publish, `ts` included for telemetry. */
  body: string;
  /** When it was appended (ms since the epoch). */
  at: number;
  /** The record's device type, when it was given one. */
  deviceType?: string;
}

/** Stored value of a record: short names, the key holds device and id. */
export interface StoredRecord {
  k: RecordKind;
  b: string;
  a: number;
  t?: string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A reading keeps the `ts` it was given; one without gets the time it was appended (`{ts, values}`). */
function stampReading(reading: unknown, now: number): unknown {
  if (!isPlainObject(reading) || typeof reading.ts === 'number') return reading;
  return { ts: now, values: reading };
}

function invalid(message: string): ProvisionError {
  return new ProvisionError('INVALID_INPUT', message, { field: 'payload' });
}

/**
 * Telemetry with `now` as the `ts` of each reading that has none (the object itself when all have one):
 * what the outbox stores, and what a node sends live, so that a copy sent again after a lost session
 * carries the same `ts` and overwrites the first on GridLinks instead of adding a point.
 */
export function stampTelemetry(payload: unknown, now: number): unknown {
  if (Array.isArray(payload)) return payload.some((reading) => stampReading(reading, now) !== reading) ? payload.map((r) => stampReading(r, now)) : payload;
  return stampReading(payload, now);
}

/** The JSON body stored for a record appended at `now`. */
export function recordBody(record: OutboxRecord, deviceKey: string, now: number): string {
  if (record?.kind !== 'telemetry' && record?.kind !== 'attributes') {
    throw new ProvisionError('INVALID_INPUT', `The outbox keeps telemetry and attributes, not ${JSON.stringify(record?.kind)} (device "${deviceKey}").`, {
      field: 'kind',
    });
  }
  const payload = record.kind === 'telemetry' ? stampTelemetry(record.payload, now) : record.payload;
  let body: string | undefined;
  try {
    body = JSON.stringify(payload);
  } catch (error) {
    throw invalid(`The ${record.kind} for device "${deviceKey}" cannot be written as JSON (${(error as Error).message}).`);
  }
  if (body === undefined) throw invalid(`The ${record.kind} for device "${deviceKey}" has no JSON form.`);
  return body;
}
