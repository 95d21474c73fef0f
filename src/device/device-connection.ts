import type { MqttClient } from 'mqtt';
import { closeClient, openMqttClient } from '../provisioning/net';
import type { ProvisionError } from '../provisioning/errors';
import type { ResolvedServer } from '../provisioning/types';
import {
  DISCONNECT_REASON,
  attributesTimeout,
  closedWhileQueued,
  credentialsUpdated,
  deviceConnectError,
  deviceConnectTimeout,
  deviceConnectionClosed,
  publishUnacknowledged,
  queueBudgetFull,
  packetTooLarge,
  queueFull,
  rateLimited,
  sessionNotOpened,
  sessionTakenOver,
} from './device-errors';
import { sessionOptions, type DeviceIdentity } from './device-identity';
import type { DeviceAction } from './device-message';
import { InFlight, type Job, type Settled } from './in-flight';
import { DEFAULT_MAX_PACKET_BYTES, publishOverLimit } from './packet-size';
import { PublishPacer } from './publish-pacer';
import type { QueueBudget } from './queue-budget';
import {
  LIMITS_REQUEST_BODY,
  LIMITS_REQUEST_TOPIC,
  LIMITS_RESPONSE_SUBSCRIPTION,
  LIMITS_RESPONSE_TOPIC,
  readSessionLimits,
  type SessionLimits,
} from './session-limits';
import { ReconnectBackoff, type ReconnectSettings } from './reconnect-policy';
import { TakeoverWatch } from './takeover-watch';
import {
  ATTRIBUTES_REQUEST_PREFIX,
  ATTRIBUTES_RESPONSE_SUBSCRIPTION,
  RECEIVE_SUBSCRIPTIONS,
  decodePayload,
  parseIncoming,
  type IncomingMessage,
} from './topics';

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
}

let useSequence = 0;

/** Shared by every publish; mqtt.js only reads it. */
const PUBLISH_OPTIONS = { qos: 1 } as const;

/**
 * mqtt.js options that cut its work per publish: its debug logger is called a dozen times per message
 * and is a no-op unless DEBUG is set (then it is kept, so DEBUG=mqttjs* still works); with
 * reschedulePings off the keepalive timer is not re-armed on every packet (one PINGREQ a minute instead).
 */
export const PER_MESSAGE_SAVINGS = {
  reschedulePings: false,
  ...(process.env.DEBUG ? {} : { log: () => {} }),
};

/** On close, how long a message already sent may take to be acknowledged. */
const ACK_GRACE_MS = 1_000;

/** How long a session waits for the answer to getSessionLimits before it keeps to the defaults (at most the answer timeout). */
const LIMITS_WAIT_MS = 3_000;

/** After a close over a rate limit, the least wait before the next login: its getSessionLimits request is a publish the limit counts too (periods are whole seconds). */
const RATE_LIMIT_PAUSE_MS = 1_000;

/** Codes after which trying again with the same credentials cannot help. */
const FINAL_CODES = new Set(['CONNECT_REFUSED', 'TLS', 'INVALID_INPUT']);

/**
 * One device's MQTT session: opened when the pool says so, messages queued (bounded) until it is
 * ready, QoS 1 publishes settled by their PUBACK (or an attribute request by its answer), and after
 * a lost session reconnects (reconnect-policy.ts, a connect slot from the pool) until the pool closes it.
 */
export class DeviceConnection {
  state: ConnectionState = 'pending';
  lastUsed = Date.now();
  /** Increases with every use across all sessions: orders them for least-recently-used closing. */
  useOrder = ++useSequence;
  private readonly queue: Job[] = [];
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
  private readonly pacer = new PublishPacer();
  /** The limits were answered (or the wait for them ran out): a late answer is ignored. */
  private limitsKnown = false;
  /** Publishes of this session so far (the limits request included): charged to the buckets when the limits come. */
  private sentThisSession = 0;
  private limitsTimer: NodeJS.Timeout | undefined;
  private paceTimer: NodeJS.Timeout | undefined;
  /** The last session was closed over a rate limit: the next one sends nothing until the limits are answered (or the wait ran out). */
  private holdForLimits = false;
  /** The publishes of the session closed over a rate limit, and when: charged to the next session's buckets. */
  private closedOverLimits: { sent: number; at: number } | undefined;

  constructor(
    readonly key: string,
    readonly identity: DeviceIdentity,
    private readonly settings: ConnectionSettings,
    private readonly events: ConnectionEvents,
    /** Shared by every connection of the pool. */
    private readonly budget: QueueBudget,
  ) {
    const { server } = settings;
    this.backoff = new ReconnectBackoff(settings);
    // A 3.1.1 takeover is a close within a backoff step of the other client's: up to reconnectMaxMs.
    this.takeovers = new TakeoverWatch(server.protocolVersion, Math.max(settings.reconnectStableMs, settings.reconnectMaxMs));
    this.inFlight = new InFlight(
      server.answerTimeoutMs,
      (job) =>
        job.action.kind === 'attributes/request'
          ? attributesTimeout(server, this.deviceName)
          : publishUnacknowledged(server, this.deviceName, `no acknowledgement came within ${server.answerTimeoutMs} ms`, 'NO_ACK'),
      () => {
        this.drain();
        this.events.changed(this);
      },
    );
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
    if (this.state === 'connected' && this.queue.length === 0 && !this.holding && this.pacer.admit(action, this.inFlight.size, now) === 0) {
      this.send(job, now);
    } else if (this.state === 'closed') {
      settled(this.stoppedBy ?? closedWhileQueued(this.deviceName));
    } else if (this.queue.length >= this.settings.queueLimit) {
      settled(queueFull(this.deviceName, this.settings.queueLimit));
    } else {
      const bytes = Buffer.byteLength(action.body);
      if (!this.budget.take(bytes)) return settled(queueBudgetFull(this.deviceName, this.budget.limitBytes));
      job.queuedBytes = bytes;
      this.queue.push(job);
      if (this.state === 'connected' && this.queue.length === 1) this.drain();
      this.events.changed(this);
    }
  }

  /** The server's packet limit (Remaining Length) this session keeps to. */
  get packetLimit(): number {
    return Math.min(this.settings.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES, this.pacer.limits.maxPayloadSize);
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
    this.inFlight.failAll((job) =>
      job.action.kind === 'attributes/request'
        ? closedWhileQueued(this.deviceName)
        : publishUnacknowledged(this.settings.server, this.deviceName, 'the node closed the connection before the acknowledgement came', 'CLOSED'),
    );
    this.events.changed(this);
    return report;
  }

  private attempt(): void {
    this.state = 'connecting';
    this.events.changed(this);
    const { server } = this.settings;
    let client: MqttClient;
    try {
      client = openMqttClient({
        ...sessionOptions(server, this.identity),
        ...PER_MESSAGE_SAVINGS,
        reconnectPeriod: 0,
        clean: true,
        keepalive: 60,
        resubscribe: false,
        // Our own timer fires first and reports TIMEOUT; this is a backstop.
        connectTimeout: server.connectTimeoutMs + 5_000,
      });
    } catch (error) {
      // What credentialsProblem() did not foresee: the attempt ends here and gives its slot back.
      return this.attemptFailed(sessionNotOpened(this.deviceName, error));
    }
    this.client = client;
    let ready = false;
    let disconnectReason: number | undefined;
    const timer = setTimeout(() => failed(deviceConnectTimeout(server, this.deviceName)), server.connectTimeoutMs);
    this.connectTimer = timer;
    const failed = (error: ProvisionError): void => {
      if (ready || this.client !== client) return;
      clearTimeout(timer);
      this.client = undefined;
      void closeClient(client, false);
      this.attemptFailed(error);
    };
    client.on('error', (error) => failed(deviceConnectError(error, server, this.deviceName)));
    // MQTT 5: the server says why it ends the session (0x8E taken over, 0x98 credentials updated) before it closes.
    client.on('disconnect', (packet: { reasonCode?: number }) => {
      disconnectReason = packet.reasonCode;
    });
    client.on('close', () => {
      if (ready) this.lost(client, disconnectReason);
      else failed(deviceConnectionClosed(server, this.deviceName));
    });
    client.on('message', (topic, payload) => this.incoming(topic, payload));
    client.once('connect', () => {
      const topics = [
        ...(this.settings.subscriptions ??
          (this.settings.receive ? [...RECEIVE_SUBSCRIPTIONS, ATTRIBUTES_RESPONSE_SUBSCRIPTION] : [ATTRIBUTES_RESPONSE_SUBSCRIPTION])),
        // The answer to getSessionLimits.
        LIMITS_RESPONSE_SUBSCRIPTION,
      ];
      client.subscribe(topics, { qos: 1 }, (error) => {
        if (error) return failed(deviceConnectError(error, server, this.deviceName));
        if (this.client !== client) return;
        clearTimeout(timer);
        ready = true;
        this.wasUp = true;
        this.upAt = Date.now();
        this.backoff.up(this.upAt);
        this.state = 'connected';
        this.askLimits(client);
        this.drain();
        this.events.changed(this);
      });
    });
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
   * The session dropped after it was ready: a reconnect is planned (with backoff), or, taken over too
   * often or its credentials updated, the session stops for good; then what was in flight is reported.
   */
  private lost(client: MqttClient, reasonCode: number | undefined): void {
    if (this.client !== client) return;
    this.client = undefined;
    // Decided before the limits wait is stopped, and the messages settled before mqtt.js' end() fails their publishes as "connection closed".
    const overLimit = this.closedOverLimit(reasonCode);
    const limitsUnknown = this.limitsTimer !== undefined && !this.pacer.announced;
    this.holdForLimits = overLimit;
    // Sessions closed over the limits one after another, their answer never come: all their publishes are charged from the first close.
    if (overLimit) this.closedOverLimits = { sent: (this.closedOverLimits?.sent ?? 0) + this.sentThisSession, at: this.closedOverLimits?.at ?? Date.now() };
    this.inFlight.stop();
    this.stopPacing();
    const { server } = this.settings;
    // A close over a rate limit is not a takeover.
    const times = this.takeovers.sessionEnded(overLimit ? Infinity : Date.now() - this.upAt, reasonCode);
    if (reasonCode === DISCONNECT_REASON.administrativeAction) this.stop(credentialsUpdated(server, this.deviceName));
    else if (this.takeovers.shouldStop) this.stop(sessionTakenOver(server, this.deviceName, times, reasonCode));
    else this.retryLater(overLimit ? RATE_LIMIT_PAUSE_MS : 0);
    // Each of them was published: OUTCOME_UNKNOWN (RATE_LIMITED when the limits closed it), never "not sent".
    const error = overLimit ? this.overRateLimit(limitsUnknown) : this.lostBeforeAcknowledged();
    this.inFlight.failAll(() => error);
    void closeClient(client, false);
  }

  /**
   * The server closed the session over a rate limit: MQTT 5 says so (DISCONNECT 0x83, 0x97); 3.1.1 (or a
   * close without DISCONNECT) does not, so it is inferred: publishes in flight under announced rate limits,
   * or a burst in flight before the server answered getSessionLimits (it answers at once, so a close before it came followed the burst).
   */
  private closedOverLimit(reasonCode: number | undefined): boolean {
    if (reasonCode !== undefined) return reasonCode === DISCONNECT_REASON.implementationSpecific || reasonCode === DISCONNECT_REASON.quotaExceeded;
    if (this.inFlight.size === 0) return false;
    return this.pacer.announced || (this.limitsTimer !== undefined && this.inFlight.size > 1);
  }

  /** Connected, the last session closed over a rate limit, and this one's limits not answered yet: nothing is sent. */
  private get holding(): boolean {
    return this.holdForLimits && this.limitsTimer !== undefined;
  }

  /**
   * Asks the server for this session's limits. Publishes do not wait for the answer: until it comes (one
   * round trip; never, from a server that does not answer) they keep to the limits last answered, or the defaults.
   */
  private askLimits(client: MqttClient): void {
    this.sentThisSession = 1;
    client.publish(LIMITS_REQUEST_TOPIC, LIMITS_REQUEST_BODY, PUBLISH_OPTIONS, () => {});
    this.limitsTimer = setTimeout(
      () => {
        this.limitsTimer = undefined;
        this.limitsKnown = true;
        this.closedOverLimits = undefined;
        this.drain();
      },
      Math.min(LIMITS_WAIT_MS, this.settings.server.answerTimeoutMs),
    );
  }

  private limitsAnswered(payload: Buffer): void {
    if (this.limitsTimer === undefined && this.limitsKnown) return;
    clearTimeout(this.limitsTimer);
    this.limitsTimer = undefined;
    const limits = readSessionLimits(decodePayload(payload));
    this.pacer.use(limits, this.sentThisSession, Date.now(), this.closedOverLimits);
    this.closedOverLimits = undefined;
    this.limitsKnown = true;
    this.events.limits?.(this, limits);
    this.drain();
  }

  /** Publishes what waits while the limits allow: a timer for tokens, the next acknowledgement for a full window. */
  private drain(): void {
    if (this.state !== 'connected' || this.paceTimer || this.holding) return;
    const now = Date.now();
    let sent = false;
    while (this.queue.length > 0) {
      const job = this.queue[0];
      const tooLarge = this.oversized(job.action);
      const wait = tooLarge === undefined ? this.pacer.admit(job.action, this.inFlight.size, now) : 0;
      if (wait === Infinity) break;
      if (wait > 0) {
        this.paceTimer = setTimeout(() => {
          this.paceTimer = undefined;
          this.drain();
        }, wait);
        break;
      }
      this.queue.shift();
      this.budget.give(job.queuedBytes ?? 0);
      sent = true;
      // Limits answered after it was queued may make it too large.
      if (tooLarge !== undefined) job.settled(packetTooLarge(this.deviceName, tooLarge, this.packetLimit));
      else this.send(job, now);
    }
    if (sent) this.events.changed(this);
  }

  private stopPacing(): void {
    clearTimeout(this.limitsTimer);
    clearTimeout(this.paceTimer);
    this.limitsTimer = this.paceTimer = undefined;
  }

  /** `limitsUnknown`: closed before the server told its limits. */
  private overRateLimit(limitsUnknown = false): ProvisionError {
    return rateLimited(this.settings.server, this.deviceName, limitsUnknown ? undefined : this.pacer.describe());
  }

  /** No more reconnects: waiting messages, and every later one, fail with `error`. */
  private stop(error: ProvisionError): void {
    this.state = 'closed';
    this.stoppedBy = error;
    this.failQueue(error);
    this.events.changed(this);
    this.events.stopped?.(this, error);
  }

  /** Waits out the backoff, then asks the pool for a connect slot (the connecting limit holds for reconnects too). */
  private retryLater(atLeastMs = 0): void {
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
      Math.max(atLeastMs, this.backoff.nextDelay()),
    );
    this.events.changed(this);
  }

  private send(job: Job, now: number): void {
    const client = this.client as MqttClient;
    this.sentThisSession += 1;
    this.inFlight.add(job, now);
    const { action } = job;
    if (action.kind === 'attributes/request') {
      // Settled by its answer (or the expiry), not by the PUBACK. The id is in the topic, or (a gateway's request) in the body.
      const requestId = job.requestId as number;
      const topic = action.topic ?? `${ATTRIBUTES_REQUEST_PREFIX}${requestId}`;
      client.publish(topic, action.bodyFor ? action.bodyFor(requestId) : action.body, PUBLISH_OPTIONS, (error) => {
        if (error) this.inFlight.settle(job, this.lostBeforeAcknowledged());
      });
    } else {
      client.publish(action.topic, action.body, PUBLISH_OPTIONS, (error) => {
        // MQTT 5 PUBACK 0x97 (quota exceeded): a gateway publish over a rate limit, the close follows.
        const overLimit = (error as { code?: number } | undefined)?.code === DISCONNECT_REASON.quotaExceeded;
        this.inFlight.settle(job, error ? (overLimit ? this.overRateLimit() : this.lostBeforeAcknowledged()) : undefined);
      });
    }
  }

  private lostBeforeAcknowledged(): ProvisionError {
    return publishUnacknowledged(this.settings.server, this.deviceName, 'the connection was lost before the acknowledgement came', 'LOST');
  }

  private incoming(topic: string, payload: Buffer): void {
    if (topic === LIMITS_RESPONSE_TOPIC) return this.limitsAnswered(payload);
    const message = (this.settings.parse ?? parseIncoming)(topic, payload);
    if (!message) return;
    if (message.kind === 'attributes/response') {
      if (message.requestId !== undefined) this.inFlight.answer(message.requestId, message.payload);
      return;
    }
    this.lastUsed = Date.now();
    this.events.incoming(this, message);
  }

  /** Empties the queue, giving its bytes back to the budget. */
  private takeQueue(): Job[] {
    const jobs = this.queue.splice(0);
    for (const job of jobs) this.budget.give(job.queuedBytes ?? 0);
    return jobs;
  }

  private failQueue(error: ProvisionError): void {
    const jobs = this.takeQueue();
    for (const job of jobs) job.settled(error);
    if (jobs.length > 0) this.events.changed(this);
  }
}
