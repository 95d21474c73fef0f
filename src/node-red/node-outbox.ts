import * as path from 'node:path';
import {
  openOutbox,
  replayOutbox,
  replayPacer,
  OUTBOX_DEFAULTS,
  REPLAY_DEFAULTS,
  type FullPolicy,
  type Outbox,
  type OutboxCounts,
  type OutboxEntry,
  type OutboxRecord,
  type ReplayPacer,
} from '../outbox';
import { isProvisionError, ProvisionError, type ErrorCode } from '../provisioning/errors';
import { DrainClaims } from './drain-claims';

export interface NodeOutboxSettings {
  dir: string;
  maxBytes: number;
  maxAgeMs: number;
  fullPolicy: FullPolicy;
  /** Backlog messages per second, all keys together. */
  messagesPerSecond: number;
  /** How often, at first, a key with a backlog and no session tries again (doubling after each failed try, at most 60 s). */
  retryMs: number;
}

/**
 * What the outbox needs of a node's sessions. A key is what the database files records under: a
 * device's name (gridlinks-device), a gateway's child (gridlinks-gateway, `gatewayChildKey`); a
 * target is what sends for a key (a device's login, a gateway session and a child's name).
 */
export interface OutboxLink<Target> {
  /** The keys of the folder this node drains, counts and purges: other nodes may share the folder. */
  owns(key: string): boolean;
  /** The key's session is up (logged in) now. */
  isConnected(key: string): boolean;
  /** The key's session was lost and waits to reconnect: a message now would wait in memory. */
  isDown(key: string): boolean;
  /** The target of a key with a backlog that no message named yet (after a restart); undefined: none known yet. */
  targetByKey(key: string): Promise<Target | undefined>;
  /** Another node of the folder drains the key now (its drain here has stopped): e.g. close the key's idle session. */
  letGo?(key: string): Promise<void>;
  /** Publishes a key's records in order; resolves once each has its PUBACK, rejects with the first session error. */
  publish(target: Target, entries: readonly OutboxEntry[]): Promise<void>;
}

export interface NodeOutboxEvents {
  /** Records were dropped unsent (drop-oldest or age): said as a warning naming the key's device. */
  dropped(key: string, count: number, reason: string): void;
  /** The backlog changed (status). */
  changed(): void;
  /** A key's backlog failed for a reason other than the link (refused login, not a gateway...): said once per key and code until it is sent. */
  stuck(key: string, error: ProvisionError): void;
}

/** What became of a message given to the outbox: sent and acknowledged now, or kept on disk for later. */
export type Kept = (error: ProvisionError | undefined, queued: boolean) => void;
/** Sends a message live (not from the backlog); `settled` is called once, with its PUBACK or its error. */
export type SendLive = (settled: (error: ProvisionError | undefined) => void) => void;

/** The longest wait between two tries of a key with a backlog and no session. */
const MAX_RETRY_MS = 60_000;
const MB = 1024 * 1024;
const DAY = 24 * 60 * 60 * 1000;

/** Session failures after which a stored message stays stored (sent again later); anything else is the message's own fault. */
const LINK_FAILURES = new Set<ErrorCode>(['CONNECTION_CLOSED', 'TIMEOUT', 'UNREACHABLE', 'OUTCOME_UNKNOWN', 'RATE_LIMITED', 'QUEUE_FULL', 'ABORTED']);

export const NODE_OUTBOX_DEFAULTS = {
  maxBytes: OUTBOX_DEFAULTS.maxBytes,
  maxAgeMs: OUTBOX_DEFAULTS.maxAgeMs,
  fullPolicy: OUTBOX_DEFAULTS.fullPolicy,
  messagesPerSecond: REPLAY_DEFAULTS.messagesPerSecond,
  retryMs: 2_000,
} as const;

/** A gateway child's key starts with a control character no device name has: device and gateway nodes can share a folder. */
const GATEWAY_KEY_PREFIX = '\u001fgateway';

/** The key of a gateway's child: its records, per child in order, apart from a device of the same name. */
export function gatewayChildKey(gatewayName: string, child: string): string {
  return GATEWAY_KEY_PREFIX + JSON.stringify([gatewayName, child]);
}

/** The gateway and child of a gateway child's key; undefined for a device's key. */
export function parseGatewayChildKey(key: string): { gatewayName: string; child: string } | undefined {
  if (!key.startsWith(GATEWAY_KEY_PREFIX)) return undefined;
  try {
    const [gatewayName, child] = JSON.parse(key.slice(GATEWAY_KEY_PREFIX.length)) as [unknown, unknown];
    return typeof gatewayName === 'string' && typeof child === 'string' ? { gatewayName, child } : undefined;
  } catch {
    return undefined;
  }
}

/** `<storeDir>/.outbox` unless a folder of its own is given. */
export function outboxFolder(storeDir: string, own: string): string {
  return own !== '' ? path.resolve(own) : path.join(path.resolve(storeDir), '.outbox');
}

/**
 * A node's durable queue (gridlinks-device, gridlinks-gateway): a telemetry or attributes message is on disk before it is sent.
 * A key with no backlog and a session not known to be down sends it at once (deleted after its PUBACK); otherwise it
 * waits behind the key's backlog, which is drained in order (replayOutbox, paced) whenever the
 * key's session is up, and tried again after `retryMs` (doubling, at most a minute) while it is not.
 * Only the keys the link owns are drained, counted and purged: several nodes may share one folder.
 * Of those, a key is drained and counted only by the one outbox of the folder holding its claim
 * (drain-claims.ts): two device nodes on one store folder never both send a device's backlog.
 */
export class NodeOutbox<Target> {
  private outbox: Outbox | undefined;
  private readonly opening: Promise<Outbox>;
  /** Keys with records that are not being sent live: new messages wait behind them. */
  private readonly backlog = new Set<string>();
  private readonly draining = new Map<string, Promise<void>>();
  private readonly targets = new Map<string, Target>();
  /** Keys whose last drain failed: failed tries in a row and when the next one is due (a session coming up drains at once). */
  private readonly backoff = new Map<string, { failures: number; dueAt: number }>();
  /** The code each stuck key was last reported with (events.stuck), forgotten once its backlog goes out. */
  private readonly stuckWith = new Map<string, string>();
  private readonly retry: NodeJS.Timeout;
  /** One pace for every key's drain: the replay rate is for the node's backlog as a whole. */
  private readonly pacer: ReplayPacer;
  /** Which keys of the folder this outbox drains (one drainer per folder and key in the process). */
  private readonly claims: DrainClaims;
  /** Per key being drained: stops it at its next batch (close, or another outbox took the key). */
  private readonly drainStops = new Map<string, AbortController>();
  /** Keys taken from another outbox of the folder: their drain here waits for that one's to stop. */
  private readonly handovers = new Map<string, Promise<void>>();
  private closed = false;

  constructor(
    private readonly settings: NodeOutboxSettings,
    private readonly link: OutboxLink<Target>,
    private readonly events: NodeOutboxEvents,
  ) {
    this.pacer = replayPacer(settings.messagesPerSecond);
    this.claims = new DrainClaims(settings.dir, {
      owns: (key) => this.link.owns(key),
      adopt: () => this.adopt(),
      lost: (key) => this.lost(key),
    });
    this.opening = openOutbox({
      dir: settings.dir,
      maxBytes: settings.maxBytes,
      maxAgeMs: settings.maxAgeMs,
      fullPolicy: settings.fullPolicy,
      onDropped: ({ deviceKey, count, reason }) => this.events.dropped(deviceKey, count, reason),
    }).then((outbox) => {
      this.outbox = outbox;
      this.adopt();
      return outbox;
    });
    this.opening.catch(() => {});
    this.retry = setInterval(() => this.drainAll(), settings.retryMs).unref();
  }

  /** Resolves once the folder's database is open; rejects (STORE, INVALID_INPUT) when it cannot be. */
  ready(): Promise<Outbox> {
    return this.opening;
  }

  /** What waits for this node's keys (undefined before the database is open and after close). */
  counts(): OutboxCounts | undefined {
    if (this.closed || !this.outbox) return undefined;
    const devices = this.outbox.counts().devices.filter(({ deviceKey }) => this.link.owns(deviceKey) && this.claims.free(deviceKey));
    return {
      waiting: devices.reduce((sum, device) => sum + device.waiting, 0),
      bytes: devices.reduce((sum, device) => sum + device.bytes, 0),
      oldestAgeMs: devices.reduce((oldest, device) => Math.max(oldest, device.oldestAgeMs), 0),
      devices,
    };
  }

  /**
   * Takes on the folder's records of keys the link owns now and no other outbox of the folder drains (at open; a node
   * calls it again when it owns more, e.g. a gateway opened; the claims when another outbox let keys go) and drains them.
   */
  adopt(): void {
    if (this.closed || !this.outbox) return;
    const before = this.backlog.size;
    for (const key of this.outbox.devices()) if (this.link.owns(key) && this.claims.claim(key)) this.backlog.add(key);
    if (this.backlog.size > before) this.events.changed();
    this.drainAll();
  }

  /** Stores `record` for `key`, then sends it now (`live`) or leaves it behind the backlog. */
  keep(key: string, target: Target, record: OutboxRecord, live: SendLive, kept: Kept): void {
    this.targets.set(key, target);
    // The node the flow gives a key's messages drains that key: another outbox of the folder draining it stops
    // at its next batch, and this message waits behind what it left (sent from here once that drain stopped).
    const handover = this.closed ? undefined : this.claims.take(key);
    if (handover) {
      this.handovers.set(key, handover);
      this.backlog.add(key);
    }
    this.opening
      .then((outbox) => outbox.append(key, record))
      .then(
        (id) => {
          this.events.changed();
          if (this.closed) return kept(undefined, true);
          if (this.backlog.has(key) || this.link.isDown(key)) {
            this.backlog.add(key);
            kept(undefined, true);
            return void this.drain(key);
          }
          live((error) => {
            if (!error) {
              void this.outbox?.acknowledge([id]).then(
                () => this.events.changed(),
                () => {},
              );
              return kept(undefined, false);
            }
            if (LINK_FAILURES.has(error.code) || this.closed) {
              // Stored: it goes again with the backlog once the session is back (or after the next deploy).
              this.backlog.add(key);
              this.events.changed();
              return kept(undefined, true);
            }
            void this.outbox?.acknowledge([id]).catch(() => {});
            kept(error, false);
          });
        },
        (error: unknown) =>
          kept(isProvisionError(error) ? error : new ProvisionError('STORE', `The outbox could not keep a message of "${key}": ${String(error)}`, {}), false),
      );
  }

  /** Drains every key with a backlog now; resolves when each has been tried once, with what still waits. */
  async flush(): Promise<number> {
    await this.opening;
    await Promise.all([...this.backlog].map((key) => this.drain(key, true)));
    return this.counts()?.waiting ?? 0;
  }

  /** Drops the backlog of the keys `which` picks among this node's (all of them by default); resolves with how many records. */
  async purge(which: (key: string) => boolean = () => true): Promise<number> {
    const outbox = await this.opening;
    const keys = new Set([...outbox.devices(), ...this.backlog].filter((key) => this.link.owns(key) && which(key)));
    const counts = await Promise.all([...keys].map((key) => outbox.purge(key)));
    for (const key of keys) {
      this.backlog.delete(key);
      this.backoff.delete(key);
    }
    this.events.changed();
    return counts.reduce((sum, count) => sum + count, 0);
  }

  /**
   * Takes no new batch and no new message any more (what is not acknowledged stays stored). Call it
   * before closing the sessions, and close() after: a drain may be waiting for a session's answer.
   */
  stopSending(): void {
    this.closed = true;
    clearInterval(this.retry);
    for (const stop of this.drainStops.values()) stop.abort();
  }

  /** Waits for the drains (end them by closing the sessions first) and the writes asked for, then lets go of the database. */
  async close(): Promise<void> {
    this.stopSending();
    await Promise.allSettled([...this.draining.values()]);
    // Its keys go to the folder's other live outboxes (a drain of theirs may start now: this one's have ended).
    this.claims.leave();
    const outbox = await this.opening.catch(() => undefined);
    await outbox?.close();
  }

  /** A session came up (or went): drains the keys with a backlog whose session is up. */
  sessionsChanged(): void {
    if (this.closed || !this.outbox) return;
    for (const key of this.backlog) if (!this.draining.has(key) && this.link.isConnected(key)) void this.drain(key);
  }

  /** Another outbox of the folder took `key`: it is not this one's backlog any more; resolves once its drain here has stopped. */
  private lost(key: string): Promise<void> {
    this.backlog.delete(key);
    this.backoff.delete(key);
    this.handovers.delete(key);
    this.drainStops.get(key)?.abort();
    this.events.changed();
    return (this.draining.get(key) ?? Promise.resolve()).then(() => this.link.letGo?.(key)).catch(() => {});
  }

  private reportStuck(key: string, error: ProvisionError | Error): void {
    if (!isProvisionError(error) || LINK_FAILURES.has(error.code) || this.stuckWith.get(key) === error.code || this.closed) return;
    this.stuckWith.set(key, error.code);
    this.events.stuck(key, error);
  }

  private failedTry(key: string): void {
    const failures = (this.backoff.get(key)?.failures ?? 0) + 1;
    const delay = Math.min(MAX_RETRY_MS, this.settings.retryMs * 2 ** Math.min(failures - 1, 16));
    this.backoff.set(key, { failures, dueAt: Date.now() + delay });
  }

  private drainAll(): void {
    if (this.closed || !this.outbox) return;
    // The status's "oldest M min" moves on while a backlog waits.
    if (this.backlog.size > 0) this.events.changed();
    const now = Date.now();
    for (const key of this.backlog) if ((this.backoff.get(key)?.dueAt ?? 0) <= now) void this.drain(key);
  }

  /** One drain per key at a time, of a key this outbox holds; the backlog flag is lifted only when its records are all sent. */
  private drain(key: string, now = false): Promise<void> {
    const running = this.draining.get(key);
    if (running) return running;
    if (!this.claims.holds(key)) {
      // Another outbox of the folder drains it.
      this.backlog.delete(key);
      return Promise.resolve();
    }
    const outbox = this.outbox;
    // A session waiting to reconnect would hold the batch in memory (and send it after a purge): its reconnect drains it,
    // unless a flush asks for it now (the batch then waits for that reconnect).
    if (!outbox || this.closed || (!now && this.link.isDown(key))) return Promise.resolve();
    const stop = new AbortController();
    this.drainStops.set(key, stop);
    const run = (async () => {
      const handover = this.handovers.get(key);
      if (handover) {
        // The outbox this key was taken from sends its batch under way first: one session at a time, records in order.
        await handover;
        if (this.handovers.get(key) === handover) this.handovers.delete(key);
      }
      const target = this.targets.get(key) ?? (await this.link.targetByKey(key).catch(() => undefined));
      if (this.closed || stop.signal.aborted) return;
      if (target === undefined) {
        // Not a key this node can send (yet): another outbox of the folder may; else it is tried again with the next retry.
        if (this.claims.passOn(key)) this.backlog.delete(key);
        return;
      }
      this.targets.set(key, target);
      for (;;) {
        const report = await replayOutbox(outbox, {
          publish: (_key, entries) => this.link.publish(target, entries),
          pacer: this.pacer,
          devices: [key],
          signal: stop.signal,
        });
        this.events.changed();
        if (stop.signal.aborted && !this.closed) return;
        if (report.failures.length > 0) {
          this.reportStuck(key, report.failures[0].error);
          return this.failedTry(key);
        }
        this.backoff.delete(key);
        this.stuckWith.delete(key);
        if (report.stopped || this.closed) return;
        // Appends that came in during the drain are behind it: go on until none is left.
        if (outbox.peek(key, 1).length === 0) return void this.backlog.delete(key);
      }
    })()
      // Never rejects: an unexpected failure counts as a failed try (the records stay stored).
      .catch(() => this.failedTry(key))
      .finally(() => {
        this.draining.delete(key);
        if (this.drainStops.get(key) === stop) this.drainStops.delete(key);
      });
    this.draining.set(key, run);
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
export function outboxSettings(config: OutboxNodeProperties, storeDir: string): NodeOutboxSettings | undefined {
  const own = typeof config.outboxDir === 'string' ? config.outboxDir.trim() : '';
  if (config.outbox === false || config.outbox === 'false' || (storeDir === '' && own === '')) return undefined;
  return {
    dir: outboxFolder(storeDir, own),
    maxBytes: Math.round(positiveNumber(config.outboxSizeMB, 1_048_576, NODE_OUTBOX_DEFAULTS.maxBytes / MB) * MB),
    maxAgeMs: Math.round(positiveNumber(config.outboxAgeDays, 3650, NODE_OUTBOX_DEFAULTS.maxAgeMs / DAY) * DAY),
    fullPolicy: config.outboxFullPolicy === 'refuse-new' ? 'refuse-new' : 'drop-oldest',
    messagesPerSecond: positiveNumber(config.outboxRate, 100_000, NODE_OUTBOX_DEFAULTS.messagesPerSecond),
    retryMs: NODE_OUTBOX_DEFAULTS.retryMs,
  };
}
