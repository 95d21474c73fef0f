import * as path from 'node:path';
import type { ConnectionPool } from '../device/connection-pool';
import type { DeviceIdentity } from '../device/device-identity';
import type { DeviceAction } from '../device/device-message';
import { outboxPublisher } from '../device/outbox-publisher';
import { openOutbox, replayOutbox, OUTBOX_DEFAULTS, REPLAY_DEFAULTS, type FullPolicy, type Outbox, type OutboxCounts } from '../outbox';
import { isProvisionError, ProvisionError, type ErrorCode } from '../provisioning/errors';

export interface DeviceOutboxSettings {
  dir: string;
  maxBytes: number;
  maxAgeMs: number;
  fullPolicy: FullPolicy;
  /** Backlog messages per second, all devices together. */
  messagesPerSecond: number;
  /** How often, at first, a device with a backlog and no session tries again (doubling after each failed try, at most 60 s). */
  retryMs: number;
}

export interface DeviceOutboxEvents {
  /** Records were dropped unsent (drop-oldest or age): said as a warning naming the device. */
  dropped(deviceName: string, count: number, reason: string): void;
  /** The backlog changed (status). */
  changed(): void;
  /** A stored device's login for a device with a backlog after a restart (undefined: none known yet). */
  identityByName(deviceName: string): Promise<DeviceIdentity | undefined>;
}

/** What became of a message given to the outbox: sent and acknowledged now, or kept on disk for later. */
export type Kept = (error: ProvisionError | undefined, queued: boolean) => void;

/** The longest wait between two tries of a device with a backlog and no session. */
const MAX_RETRY_MS = 60_000;
const MB = 1024 * 1024;
const DAY = 24 * 60 * 60 * 1000;

/** Session failures after which a stored message stays stored (sent again later); anything else is the message's own fault. */
const LINK_FAILURES = new Set<ErrorCode>(['CONNECTION_CLOSED', 'TIMEOUT', 'UNREACHABLE', 'OUTCOME_UNKNOWN', 'RATE_LIMITED', 'QUEUE_FULL', 'ABORTED']);

export const DEVICE_OUTBOX_DEFAULTS = {
  maxBytes: OUTBOX_DEFAULTS.maxBytes,
  maxAgeMs: OUTBOX_DEFAULTS.maxAgeMs,
  fullPolicy: OUTBOX_DEFAULTS.fullPolicy,
  messagesPerSecond: REPLAY_DEFAULTS.messagesPerSecond,
  retryMs: 2_000,
} as const;

/** `<storeDir>/.outbox` unless a folder of its own is given. */
export function outboxFolder(storeDir: string, own: string): string {
  return own !== '' ? path.resolve(own) : path.join(path.resolve(storeDir), '.outbox');
}

/**
 * gridlinks-device's durable queue: a telemetry or attributes message is on disk before it is sent.
 * A device with no backlog and a session not known to be down sends it at once (deleted after its PUBACK); otherwise it
 * waits behind the device's backlog, which is drained in order (replayOutbox, paced) whenever the
 * device's session is up, and tried again after `retryMs` (doubling, at most a minute) while it is not.
 */
export class DeviceOutbox {
  private outbox: Outbox | undefined;
  private readonly opening: Promise<Outbox>;
  /** Devices with records that are not being sent live: new messages wait behind them. */
  private readonly backlog = new Set<string>();
  private readonly draining = new Map<string, Promise<void>>();
  private readonly identities = new Map<string, DeviceIdentity>();
  /** Devices whose last drain failed: failed tries in a row and when the next one is due (a session coming up drains at once). */
  private readonly backoff = new Map<string, { failures: number; dueAt: number }>();
  private readonly retry: NodeJS.Timeout;
  private readonly stop = new AbortController();
  private closed = false;

  constructor(
    private readonly settings: DeviceOutboxSettings,
    private readonly pool: ConnectionPool,
    private readonly events: DeviceOutboxEvents,
  ) {
    this.opening = openOutbox({
      dir: settings.dir,
      maxBytes: settings.maxBytes,
      maxAgeMs: settings.maxAgeMs,
      fullPolicy: settings.fullPolicy,
      onDropped: ({ deviceKey, count, reason }) => this.events.dropped(deviceKey, count, reason),
    }).then((outbox) => {
      this.outbox = outbox;
      for (const deviceName of outbox.devices()) this.backlog.add(deviceName);
      if (this.backlog.size > 0) this.events.changed();
      this.drainAll();
      return outbox;
    });
    this.opening.catch(() => {});
    this.retry = setInterval(() => this.drainAll(), settings.retryMs).unref();
  }

  /** Resolves once the folder's database is open; rejects (STORE, INVALID_INPUT) when it cannot be. */
  ready(): Promise<Outbox> {
    return this.opening;
  }

  counts(): OutboxCounts | undefined {
    return this.closed ? undefined : this.outbox?.counts();
  }

  /** Stores `action` (telemetry or attributes) for `identity`, then sends it now or leaves it behind the backlog. */
  keep(identity: DeviceIdentity, action: DeviceAction, payload: unknown, kept: Kept): void {
    const { deviceName } = identity;
    const kind = action.kind === 'attributes' ? 'attributes' : 'telemetry';
    this.identities.set(deviceName, identity);
    this.opening
      .then((outbox) => outbox.append(deviceName, { kind, payload }))
      .then(
        (id) => {
          this.events.changed();
          if (this.closed) return kept(undefined, true);
          if (this.backlog.has(deviceName) || this.pool.isDown(deviceName)) {
            this.backlog.add(deviceName);
            kept(undefined, true);
            return void this.drain(deviceName);
          }
          this.pool.submit(identity, action, (error) => {
            if (!error) {
              void this.outbox?.acknowledge([id]).then(
                () => this.events.changed(),
                () => {},
              );
              return kept(undefined, false);
            }
            if (LINK_FAILURES.has(error.code) || this.closed) {
              // Stored: it goes again with the backlog once the session is back (or after the next deploy).
              this.backlog.add(deviceName);
              this.events.changed();
              return kept(undefined, true);
            }
            void this.outbox?.acknowledge([id]).catch(() => {});
            kept(error, false);
          });
        },
        (error: unknown) =>
          kept(
            isProvisionError(error)
              ? error
              : new ProvisionError('STORE', `The outbox could not keep a message of device "${deviceName}": ${String(error)}`, { deviceName }),
            false,
          ),
      );
  }

  /** Drains every device with a backlog now; resolves when each has been tried once. */
  async flush(): Promise<number> {
    await this.opening;
    await Promise.all([...this.backlog].map((deviceName) => this.drain(deviceName, true)));
    return this.outbox?.counts().waiting ?? 0;
  }

  /** Drops the backlog of one device, or of all; resolves with how many records. */
  async purge(deviceName?: string): Promise<number> {
    const outbox = await this.opening;
    const count = await outbox.purge(deviceName);
    if (deviceName === undefined) {
      this.backlog.clear();
      this.backoff.clear();
    } else {
      this.backlog.delete(deviceName);
      this.backoff.delete(deviceName);
    }
    this.events.changed();
    return count;
  }

  /**
   * Takes no new batch and no new message any more (what is not acknowledged stays stored). Call it
   * before closing the pool, and close() after: a drain may be waiting for a session's answer.
   */
  stopSending(): void {
    this.closed = true;
    clearInterval(this.retry);
    this.stop.abort();
  }

  /** Waits for the drains (end them by closing the pool first) and the writes asked for, then lets go of the database. */
  async close(): Promise<void> {
    this.stopSending();
    await Promise.allSettled([...this.draining.values()]);
    const outbox = await this.opening.catch(() => undefined);
    await outbox?.close();
  }

  /** A session came up (or went): drains the devices with a backlog whose session is up. */
  sessionsChanged(): void {
    if (this.closed || !this.outbox) return;
    for (const deviceName of this.backlog) if (!this.draining.has(deviceName) && this.pool.isConnected(deviceName)) void this.drain(deviceName);
  }

  private failedTry(deviceName: string): void {
    const failures = (this.backoff.get(deviceName)?.failures ?? 0) + 1;
    const delay = Math.min(MAX_RETRY_MS, this.settings.retryMs * 2 ** Math.min(failures - 1, 16));
    this.backoff.set(deviceName, { failures, dueAt: Date.now() + delay });
  }

  private drainAll(): void {
    if (this.closed || !this.outbox) return;
    // The status's "oldest M min" moves on while a backlog waits.
    if (this.backlog.size > 0) this.events.changed();
    const now = Date.now();
    for (const deviceName of this.backlog) if ((this.backoff.get(deviceName)?.dueAt ?? 0) <= now) void this.drain(deviceName);
  }

  /** One drain per device at a time; the backlog flag is lifted only when its records are all sent. */
  private drain(deviceName: string, now = false): Promise<void> {
    const running = this.draining.get(deviceName);
    if (running) return running;
    const outbox = this.outbox;
    // A session waiting to reconnect would hold the batch in memory (and send it after a purge): its reconnect drains it,
    // unless a flush asks for it now (the batch then waits for that reconnect).
    if (!outbox || this.closed || (!now && this.pool.isDown(deviceName))) return Promise.resolve();
    const run = (async () => {
      const identity = this.identities.get(deviceName) ?? (await this.events.identityByName(deviceName).catch(() => undefined));
      if (!identity || this.closed) return;
      this.identities.set(deviceName, identity);
      const publish = outboxPublisher(this.pool, (key) => this.identities.get(key));
      for (;;) {
        const report = await replayOutbox(outbox, {
          publish,
          messagesPerSecond: this.settings.messagesPerSecond,
          devices: [deviceName],
          signal: this.stop.signal,
        });
        this.events.changed();
        if (report.failures.length > 0) return this.failedTry(deviceName);
        this.backoff.delete(deviceName);
        if (report.stopped || this.closed) return;
        // Appends that came in during the drain are behind it: go on until none is left.
        if (outbox.peek(deviceName, 1).length === 0) return void this.backlog.delete(deviceName);
      }
    })()
      // Never rejects: an unexpected failure counts as a failed try (the records stay stored).
      .catch(() => this.failedTry(deviceName))
      .finally(() => this.draining.delete(deviceName));
    this.draining.set(deviceName, run);
    return run;
  }
}

export interface OutboxNodeProperties {
  /** Keep messages while offline; default on when there is a folder for it. */
  outbox?: unknown;
  outboxDir?: unknown;
  outboxSizeMB?: unknown;
  outboxAgeDays?: unknown;
  outboxFullPolicy?: unknown;
  /** Backlog messages per second. */
  outboxRate?: unknown;
}

function positiveNumber(value: unknown, max: number, fallback: number): number {
  const number = Number(value === '' || value === undefined || value === null ? fallback : value);
  return Number.isFinite(number) && number > 0 && number <= max ? number : fallback;
}

/** The node's outbox settings, or undefined when it is off (switched off, or no folder for it). */
export function outboxSettings(config: OutboxNodeProperties, storeDir: string): DeviceOutboxSettings | undefined {
  const own = typeof config.outboxDir === 'string' ? config.outboxDir.trim() : '';
  if (config.outbox === false || config.outbox === 'false' || (storeDir === '' && own === '')) return undefined;
  return {
    dir: outboxFolder(storeDir, own),
    maxBytes: Math.round(positiveNumber(config.outboxSizeMB, 1_048_576, DEVICE_OUTBOX_DEFAULTS.maxBytes / MB) * MB),
    maxAgeMs: Math.round(positiveNumber(config.outboxAgeDays, 3650, DEVICE_OUTBOX_DEFAULTS.maxAgeMs / DAY) * DAY),
    fullPolicy: config.outboxFullPolicy === 'refuse-new' ? 'refuse-new' : 'drop-oldest',
    messagesPerSecond: positiveNumber(config.outboxRate, 100_000, DEVICE_OUTBOX_DEFAULTS.messagesPerSecond),
    retryMs: DEVICE_OUTBOX_DEFAULTS.retryMs,
  };
}
