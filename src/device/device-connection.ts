import type { MqttClient } from 'mqtt';
import { closeClient } from '../provisioning/net';
import type { ProvisionError } from '../provisioning/errors';
import type { ResolvedServer } from '../provisioning/types';
import {
  DISCONNECT_REASON,
  closedWhileQueued,
  credentialsUpdated,
  packetTooLarge,
  publishUnacknowledged,
  rateLimited,
  sessionNotOpened,
  sessionTakenOver,
} from './device-errors';
import { sameLogin, type DeviceIdentity } from './device-identity';
import type { DeviceAction } from './device-message';
import { InFlight, type Job, type Settled } from './in-flight';
import { routeIncoming, sessionSubscriptions } from './incoming-routing';
import { LimitsKeeper } from './limits-keeper';
import { DEFAULT_MAX_PACKET_BYTES, publishOverLimit } from './packet-size';
import { closedError, expiredError, publishJob } from './publish-job';
import type { QueueBudget } from './queue-budget';
import { ReconnectBackoff, type ReconnectSettings } from './reconnect-policy';
import type { SessionLimits } from './session-limits';
import { openSession } from './session-open';
import { SessionQueue } from './session-queue';
import { TakeoverWatch } from './takeover-watch';
import { ATTRIBUTES_REQUEST_PREFIX, type IncomingMessage } from './topics';

export type ConnectionState = 'pending' | 'connecting' | 'connected' | 'waiting' | 'closed';

export interface ConnectionSettings extends ReconnectSettings {
  server: ResolvedServer;
  /** Subscribe to server RPCs and shared-attribute updates. */
  receive: boolean;
  /** Messages that may wait for the connection; one more is QUEUE_FULL. */
  queueLimit: number;
  /** What the session subscribes to, in place of the device topics `receive` picks (a gateway session's v1/gateway/*). */
  subscriptions?: string[];
  /** Reads the server's PUBLISHes, in place of the device API's parseIncoming (a gateway session's). */
  parse?: (topic: string, payload: Buffer) => IncomingMessage | null;
  /** The server's limit on a packet's Remaining Length; default GridLinks' 65,536. */
  maxPacketBytes?: number;
}

export interface ConnectionEvents {
  incoming(connection: DeviceConnection, message: IncomingMessage): void;
  /** State, queue or in-flight count changed. */
  changed(connection: DeviceConnection): void;
  /** A lost session's backoff is over: it asks for a connect slot (the pool calls start() when one is free). */
  reconnectDue(connection: DeviceConnection): void;
  /** The server answered getSessionLimits (a gateway paces its children under `childRateLimits`). */
  limits?(connection: DeviceConnection, limits: SessionLimits): void;
  /** The session stopped reconnecting for good (taken over again and again, credentials updated): `error` says why. */
  stopped?(connection: DeviceConnection, error: ProvisionError): void;
  /**
   * A device of a store folder: read again before every login (a renewal may have replaced its certificate).
   * Undefined: not now (the folder is mid-renewal), tried again shortly. Absent: the identity never changes.
   */
  reread?(connection: DeviceConnection): Promise<DeviceIdentity | undefined>;
}

let useSequence = 0;

/** On close, how long a message already sent may take to be acknowledged. */
const ACK_GRACE_MS = 1_000;

/** After a close over a rate limit, the least wait before the next login: its getSessionLimits request is a publish the limit counts too (periods are whole seconds). */
const RATE_LIMIT_PAUSE_MS = 1_000;

/** A stored device whose folder is mid-renewal is read again after this long. */
const REREAD_AGAIN_MS = 500;

/** Codes after which trying again with the same credentials cannot help. */
const FINAL_CODES = new Set(['CONNECT_REFUSED', 'TLS', 'INVALID_INPUT']);

/**
 * One device's MQTT session: opened when the pool says so (session-open.ts), messages queued (bounded,
 * session-queue.ts) until it is ready, published under the server's limits (limits-keeper.ts) and settled
 * by their PUBACK or an attribute request by its answer (publish-job.ts, in-flight.ts), the server's
 * messages routed (incoming-routing.ts), and after a lost session reconnects (reconnect-policy.ts, a
 * connect slot from the pool) until the pool closes it.
 */
export class DeviceConnection {
  state: ConnectionState = 'pending';
  lastUsed = Date.now();
  /** Increases with every use across all sessions: orders them for least-recently-used closing. */
  useOrder = ++useSequence;
  private readonly queue: SessionQueue;
  private readonly inFlight: InFlight;
  private client: MqttClient | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly backoff: ReconnectBackoff;
  /** Waiting, its backoff over: start() may attempt again. */
  private due = false;
  private wasUp = false;
  private connectTimer: NodeJS.Timeout | undefined;
  /** When the current session was up (Date.now()). */
  private upAt = 0;
  private readonly takeovers: TakeoverWatch;
  /** Why the session stopped for good (SESSION_TAKEN_OVER): every message then fails with it, and the pool keeps the connection to say so. */
  stoppedBy: ProvisionError | undefined;
  /** The server's session limits, kept to by every publish. */
  private readonly limits: LimitsKeeper;
  private paceTimer: NodeJS.Timeout | undefined;
  /** The identity GridLinks closed the session of with DISCONNECT 0x98 (credentials updated), until the store is read again. */
  private updatedFrom: DeviceIdentity | undefined;

  constructor(
    /** The pool's key of the identity the connection was opened with (a stored device's identity may change since). */
    readonly key: string,
    public identity: DeviceIdentity,
    private readonly settings: ConnectionSettings,
    private readonly events: ConnectionEvents,
    /** Shared by every connection of the pool. */
    budget: QueueBudget,
  ) {
    const { server } = settings;
    this.backoff = new ReconnectBackoff(settings);
    // A 3.1.1 takeover is a close within a backoff step of the other client's: up to reconnectMaxMs.
    this.takeovers = new TakeoverWatch(server.protocolVersion, Math.max(settings.reconnectStableMs, settings.reconnectMaxMs));
    this.queue = new SessionQueue(settings.queueLimit, budget);
    this.inFlight = new InFlight(
      server.answerTimeoutMs,
      (job) => expiredError(server, this.deviceName, job),
      () => {
        this.drain();
        this.events.changed(this);
      },
    );
    this.limits = new LimitsKeeper(server.answerTimeoutMs, (limits) => {
      if (limits) this.events.limits?.(this, limits);
      this.drain();
    });
  }

  get deviceName(): string {
    return this.identity.deviceName;
  }

  get queued(): number {
    return this.queue.length;
  }

  get unacknowledged(): number {
    return this.inFlight.size;
  }

  /** Holds a place among the open connections (a socket, or a reconnect on its way). */
  get isOpen(): boolean {
    return this.state === 'connecting' || this.state === 'connected' || this.state === 'waiting';
  }

  get isIdle(): boolean {
    return this.queue.length === 0 && this.inFlight.size === 0;
  }

  /** Calls `settled` once the server acknowledged the message (an attribute request: with its answer), or with the error. */
  submit(action: DeviceAction, settled: Settled): void {
    const now = Date.now();
    this.lastUsed = now;
    this.useOrder = ++useSequence;
    // Every field present from the start: one object shape for every job.
    const job: Job = { action, settled, deadline: 0, queuedBytes: 0, requestId: undefined, previous: undefined, next: undefined, waiting: false };
    const tooLarge = this.oversized(action);
    if (tooLarge !== undefined) return settled(packetTooLarge(this.deviceName, tooLarge, this.packetLimit));
    if (this.state === 'connected' && this.queue.length === 0 && this.limits.admit(action, this.inFlight.size, now) === 0) {
      this.send(job, now);
    } else if (this.state === 'closed') {
      settled(this.stoppedBy ?? closedWhileQueued(this.deviceName));
    } else {
      const refused = this.queue.push(job, this.deviceName);
      if (refused) return settled(refused);
      if (this.state === 'connected' && this.queue.length === 1) this.drain();
      this.events.changed(this);
    }
  }

  /** The server's packet limit (Remaining Length) this session keeps to. */
  get packetLimit(): number {
    return Math.min(this.settings.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES, this.limits.maxPayloadSize);
  }

  /** The Remaining Length of the action's PUBLISH when it is over the limit (an attribute request: its topic with the longest id). */
  private oversized(action: DeviceAction): number | undefined {
    const topic = action.topic ?? `${ATTRIBUTES_REQUEST_PREFIX}4294967295`;
    const body = action.kind === 'attributes/request' && action.bodyFor ? action.bodyFor(4294967295) : action.body;
    return publishOverLimit(topic, body, this.settings.server.protocolVersion, this.packetLimit);
  }

  /** Waiting for a connect slot: a new connection, or a lost one whose backoff is over. */
  get wantsSlot(): boolean {
    return this.state === 'pending' || (this.state === 'waiting' && this.due);
  }

  /** Opens the session (the pool gave a connect slot). */
  start(): void {
    if (!this.wantsSlot) return;
    this.due = false;
    this.attempt();
  }

  /**
   * Ends the session: waiting messages fail with ABORTED, in-flight ones get a short grace for their
   * acknowledgement. Resolves with what was still waiting and unacknowledged when it began.
   */
  async close(): Promise<{ queued: number; unacknowledged: number }> {
    const report = { queued: this.queue.length, unacknowledged: this.inFlight.size };
    if (this.state === 'closed') return report;
    const wasConnected = this.state === 'connected';
    this.state = 'closed';
    clearTimeout(this.retryTimer);
    clearTimeout(this.connectTimer);
    this.stopPacing();
    this.inFlight.stop();
    this.failQueue(closedWhileQueued(this.deviceName));
    const client = this.client;
    this.client = undefined;
    if (client) {
      await this.inFlight.settledOrAfter(ACK_GRACE_MS);
      await closeClient(client, wasConnected);
    }
    this.inFlight.failAll((job) => closedError(this.settings.server, this.deviceName, job));
    this.events.changed(this);
    return report;
  }

  /** Holds the connect slot from here: a stored device is read again first. */
  private attempt(): void {
    this.state = 'connecting';
    this.events.changed(this);
    if (!this.events.reread) return this.open();
    this.events.reread(this).then(
      (identity) => this.reread(identity),
      // The store cannot be read, or what it holds cannot log in: the identity the session had.
      () => this.reread(this.identity),
    );
  }

  /** The stored device as read again: logs in with it, waits for the folder (undefined), or stops when GridLinks replaced it (0x98). */
  private reread(identity: DeviceIdentity | undefined): void {
    if (this.state !== 'connecting') return;
    if (identity === undefined) return this.retryLater(0, REREAD_AGAIN_MS);
    const updatedFrom = this.updatedFrom;
    this.updatedFrom = undefined;
    if (updatedFrom !== undefined && sameLogin(identity, updatedFrom)) return this.stop(credentialsUpdated(this.settings.server, this.deviceName));
    this.identity = identity;
    this.open();
  }

  private open(): void {
    try {
      const opening = openSession(this.settings.server, this.identity, sessionSubscriptions(this.settings), {
        isCurrent: (client) => this.client === client,
        ready: (client) => this.ready(client),
        failed: (error) => {
          this.client = undefined;
          this.attemptFailed(error);
        },
        lost: (client, reasonCode) => this.lost(client, reasonCode),
        message: (topic, payload) =>
          routeIncoming(topic, payload, this.settings.parse, {
            limits: (answer) => this.limits.answered(answer),
            answer: (requestId, answer) => this.inFlight.answer(requestId, answer),
            message: (message) => {
              this.lastUsed = Date.now();
              this.events.incoming(this, message);
            },
          }),
      });
      this.client = opening.client;
      this.connectTimer = opening.connectTimer;
    } catch (error) {
      // What credentialsProblem() did not foresee: the attempt ends here and gives its slot back.
      this.attemptFailed(sessionNotOpened(this.deviceName, error));
    }
  }

  /** Logged in and subscribed: the limits are asked for, and what waited goes out. */
  private ready(client: MqttClient): void {
    this.wasUp = true;
    this.upAt = Date.now();
    this.backoff.up(this.upAt);
    this.state = 'connected';
    this.limits.ask(client);
    this.drain();
    this.events.changed(this);
  }

  /**
   * The state is settled before any message is: a message's callback (and the pool, told that this
   * session went idle) may close this connection, which must then stay closed.
   */
  private attemptFailed(error: ProvisionError): void {
    if (this.wasUp && !FINAL_CODES.has(error.code)) {
      this.retryLater();
    } else {
      this.state = 'closed';
      this.events.changed(this);
    }
    this.failQueue(error);
  }

  /**
   * The session dropped after it was ready: a reconnect is planned (with backoff; a pause after a close
   * over a rate limit), or, taken over too often or its credentials updated, the session stops for good;
   * then what was in flight is reported.
   */
  private lost(client: MqttClient, reasonCode: number | undefined): void {
    if (this.client !== client) return;
    this.client = undefined;
    const { overLimit, limitsUnknown } = this.limits.sessionLost(reasonCode, this.inFlight.size);
    this.inFlight.stop();
    this.stopPacing();
    const { server } = this.settings;
    // A close over a rate limit is not a takeover.
    const times = this.takeovers.sessionEnded(overLimit ? Infinity : Date.now() - this.upAt, reasonCode);
    // A stored device reads the store again before it reconnects (reread()): a renewal puts the new certificate there.
    if (reasonCode === DISCONNECT_REASON.administrativeAction && this.events.reread) {
      this.updatedFrom = this.identity;
      this.retryLater();
    } else if (reasonCode === DISCONNECT_REASON.administrativeAction) this.stop(credentialsUpdated(server, this.deviceName));
    else if (this.takeovers.shouldStop) this.stop(sessionTakenOver(server, this.deviceName, times, reasonCode));
    else this.retryLater(overLimit ? RATE_LIMIT_PAUSE_MS : 0);
    // Each of them was published: OUTCOME_UNKNOWN (RATE_LIMITED when the limits closed it), never "not sent".
    // Settled before mqtt.js' end() fails their publishes as "connection closed".
    const error = overLimit ? this.overRateLimit(limitsUnknown) : this.lostBeforeAcknowledged();
    this.inFlight.failAll(() => error);
    void closeClient(client, false);
  }

  /** Publishes what waits while the limits allow: a timer for tokens, the next acknowledgement (or the limits' answer) otherwise. */
  private drain(): void {
    if (this.state !== 'connected' || this.paceTimer) return;
    const now = Date.now();
    let sent = false;
    while (this.queue.length > 0) {
      const job = this.queue.first as Job;
      const tooLarge = this.oversized(job.action);
      const wait = tooLarge === undefined ? this.limits.admit(job.action, this.inFlight.size, now) : 0;
      if (wait === Infinity) break;
      if (wait > 0) {
        this.paceTimer = setTimeout(() => {
          this.paceTimer = undefined;
          this.drain();
        }, wait);
        break;
      }
      this.queue.shift();
      sent = true;
      // Limits answered after it was queued may make it too large.
      if (tooLarge !== undefined) job.settled(packetTooLarge(this.deviceName, tooLarge, this.packetLimit));
      else this.send(job, now);
    }
    if (sent) this.events.changed(this);
  }

  private stopPacing(): void {
    this.limits.stop();
    clearTimeout(this.paceTimer);
    this.paceTimer = undefined;
  }

  /** `limitsUnknown`: closed before the server told its limits (default: whether they are not known now). */
  private overRateLimit(limitsUnknown?: boolean): ProvisionError {
    return rateLimited(this.settings.server, this.deviceName, this.limits.describe(limitsUnknown));
  }

  /** No more reconnects: waiting messages, and every later one, fail with `error`. */
  private stop(error: ProvisionError): void {
    this.state = 'closed';
    this.stoppedBy = error;
    this.failQueue(error);
    this.events.changed(this);
    this.events.stopped?.(this, error);
  }

  /** Waits out the backoff (or `delayMs`), then asks the pool for a connect slot (the connecting limit holds for reconnects too). */
  private retryLater(atLeastMs = 0, delayMs?: number): void {
    if (this.state === 'closed') return;
    this.state = 'waiting';
    this.due = false;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        if (this.state !== 'waiting') return;
        this.due = true;
        this.events.reconnectDue(this);
      },
      delayMs ?? Math.max(atLeastMs, this.backoff.nextDelay()),
    );
    this.events.changed(this);
  }

  private send(job: Job, now: number): void {
    publishJob(this.client as MqttClient, this.inFlight, job, now, (overLimit) => {
      if (!overLimit) return this.lostBeforeAcknowledged();
      this.limits.refused();
      return this.overRateLimit();
    });
  }

  private lostBeforeAcknowledged(): ProvisionError {
    return publishUnacknowledged(this.settings.server, this.deviceName, 'the connection was lost before the acknowledgement came', 'LOST');
  }

  private failQueue(error: ProvisionError): void {
    const jobs = this.queue.takeAll();
    for (const job of jobs) job.settled(error);
    if (jobs.length > 0) this.events.changed(this);
  }
}
