import type { ProvisionedServer } from '../types';

/**
 * What `.pending/<entry>.json` holds: everything, except the private key (in `<entry>.key.pem`), that
 * a later resume needs to finish the job, written before the request is sent. The credentials type is
 * a plain string so that other credential kinds (e.g. a certificate chain) use the same record: a
 * record with a certificate is resumed by a TLS login with the pending key, one with `credentials` by a
 * login with those, and one marked `serverGenerated` cannot be resumed (only the answer held them).
 */
export interface PendingRecord {
  version: 1;
  deviceName: string | null;
  credentialsType: string;
  /** The server the request was sent to. */
  server: ProvisionedServer;
  /** PEM certificate that was sent; its key is in `<entry>.key.pem`. */
  certificate?: string;
  /** X.509 chain provisioning: the CA certificates sent after it (kept with the device when a resume commits it). */
  chain?: string;
  /** True when a private key file belongs to this record (it is written after the record). */
  privateKeyFile?: boolean;
  /** Credentials the client chose (ACCESS_TOKEN: accessToken; MQTT_BASIC: clientId/userName/password). */
  credentials?: { accessToken?: string; clientId?: string; userName?: string; password?: string };
  /** The server was asked to generate the credentials: nothing here can prove the device exists. */
  serverGenerated?: boolean;
  /** The request asked for a gateway (a resume commits the device as one). */
  gateway?: true;
  createdAt: string;
  /** Process that sent the request, and the time by which that run has settled (connect + answer timeouts). */
  pid: number;
  settledBy: string;
}

export function serverOf(server: { host: string; port: number; tls: boolean; servername?: string }): ProvisionedServer {
  return {
    host: server.host,
    port: server.port,
    tls: server.tls,
    ...(server.servername !== undefined ? { servername: server.servername } : {}),
  };
}

/**
 * The longest any run may take to settle a request: the largest connect and answer timeouts the options
 * allow (600 s each) and a margin. A record's `settledBy` beyond its `createdAt` plus this was not
 * written by a run of this package.
 */
export const MAX_SETTLE_MS = 600_000 + 600_000 + 30_000;

/** The time by which the run that wrote the record has settled, bounded by MAX_SETTLE_MS from its creation; NaN when unreadable. */
export function settleDeadline(record: Pick<PendingRecord, 'createdAt' | 'settledBy'>): number {
  return Math.min(Date.parse(record.settledBy), Date.parse(record.createdAt) + MAX_SETTLE_MS);
}

/** Clocks of two processes on one host agree; a record written further ahead than this was edited or copied. */
const CLOCK_SLACK_MS = 60_000;

/** A record "written" in the future was not written by a run that is still going (a tampered or copied file): never wait for it. */
export function writtenInTheFuture(createdAt: string): boolean {
  return !(Date.parse(createdAt) <= Date.now() + CLOCK_SLACK_MS);
}

/** A record for a request about to be sent; `settleWithinMs` bounds how long the sending run may take. */
export function newPendingRecord(fields: Omit<PendingRecord, 'version' | 'createdAt' | 'pid' | 'settledBy'>, settleWithinMs: number): PendingRecord {
  const now = Date.now();
  return { version: 1, ...fields, createdAt: new Date(now).toISOString(), pid: process.pid, settledBy: new Date(now + settleWithinMs).toISOString() };
}

/** Parses a record file's text; undefined when it is not a complete record. */
export function parsePendingRecord(text: string): PendingRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Partial<PendingRecord>;
  if (record.version !== 1 || typeof record.credentialsType !== 'string' || typeof record.server?.host !== 'string') return undefined;
  return record as PendingRecord;
}
