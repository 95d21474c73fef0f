import {
  DeviceConnection,
  QueueBudget,
  RECONNECT_DEFAULTS,
  closedWhileQueued,
  credentialsProblem,
  identityKey,
  type ConnectionState,
  type DeviceAction,
  type DeviceIdentity,
  type IncomingMessage,
  type ReconnectSettings,
  type Settled,
} from '../device';
import type { ProvisionError } from '../provisioning/errors';
import type { ResolvedServer } from '../provisioning/types';
import type { Batch } from './batch';
import { Batcher } from './batcher';
import { ChildPacing, telemetryCost } from './child-pacing';
import { attributeRequestBody, buildChildMessage, connectBody, mergeAttributeAnswers, type ChildInput, type ChildMessage } from './child-message';
import { Children } from './children';
import { forChild, notGateway } from './gateway-errors';
import { GATEWAY_SUBSCRIPTIONS, GATEWAY_TOPICS, parseGatewayIncoming } from './gateway-topics';

export interface GatewaySettings extends ReconnectSettings {
  server: ResolvedServer;
  /** How long telemetry/attributes of many children are collected into one publish (ms). */
  batchWindowMs: number;
  /** The server's packet limit (Remaining Length: topic, packet id and properties count): no batch is larger. */
  maxPacketBytes: number;
  /** A child unused this long is announced gone (`v1/gateway/disconnect`) and forgotten; 0 = never. */
  childIdleTimeoutMs: number;
  /** Publishes that may wait for the session; one more is QUEUE_FULL. */
  queueLimit: number;
  /** Payload bytes that may wait for the session; beyond it QUEUE_FULL. */
  queueBudgetBytes: number;
}

export const GATEWAY_DEFAULTS = {
  batchWindowMs: 5,
  maxPacketBytes: 65_536,
  childIdleTimeoutMs: 3_600_000,
  queueLimit: 10_000,
  queueBudgetBytes: 64 * 1024 * 1024,
  ...RECONNECT_DEFAULTS,
};

/** What the server sends for a child: an RPC (answer it with topic rpc/response and its requestId) or a shared-attribute update. */
export interface ChildRequest {
  kind: 'rpc/request' | 'attributes';
  deviceName: string;
  /** rpc/request: the id to answer with. */
  requestId?: number;
  payload: unknown;
}

export interface GatewayEvents {
  request?(request: ChildRequest): void;
  /** Counts may have changed (called often: read counts() lazily). */
  changed?(): void;
  /** The session stopped reconnecting for good (SESSION_TAKEN_OVER): every message fails with `error` until close(). */
  stopped?(error: ProvisionError): void;
}

export interface GatewayCounts {
  connected: boolean;
  children: number;
  /** Messages taken and not yet acknowledged (batched, waiting for the session, or in flight). */
  queued: number;
}

/**
 * One gateway device's session (device/'s DeviceConnection with the v1/gateway/* topics: same login,
 * TLS, reconnect policy and in-flight tracking) speaking for any number of children: each announced
 * before its first message in every session, telemetry and attributes batched, every message settled
 * by the PUBACK of the publish that carried it (an attribute request by its answer).
 */
export class Gateway {
  private connection: DeviceConnection | undefined;
  private lastState: ConnectionState = 'pending';
  private readonly key: string;
  private readonly budget: QueueBudget;
  private readonly children = new Children();
  private readonly batcher: Batcher;
  /** Each child's messages under the child rate limits the server told. */
  private readonly pacing = new ChildPacing();
  private readonly idleSweep: NodeJS.Timeout | undefined;
  /** A v1/gateway/* publish was acknowledged: the device is a gateway. */
  private confirmed = false;
  /** NOT_GATEWAY, once detected: every message fails with it. */
  private refused: ProvisionError | undefined;
  private closed = false;
  private unsettled = 0;

  constructor(
    readonly identity: DeviceIdentity,
    private readonly settings: GatewaySettings,
    private readonly events: GatewayEvents = {},
  ) {
    const problem = credentialsProblem(identity);
    if (problem) throw problem;
    this.key = identityKey(identity);
    this.budget = new QueueBudget(settings.queueBudgetBytes);
    this.batcher = new Batcher(
      { batchWindowMs: settings.batchWindowMs, maxPacketBytes: settings.maxPacketBytes, protocolVersion: settings.server.protocolVersion },
      (batch) => this.publishBatch(batch),
    );
    if (settings.childIdleTimeoutMs > 0) {
      this.idleSweep = setInterval(() => this.forgetIdle(), Math.max(100, Math.min(settings.childIdleTimeoutMs / 4, 10_000)));
      this.idleSweep.unref();
    }
  }

  get gatewayName(): string {
    return this.identity.deviceName;
  }

  /** The session's state: 'pending' before the first message, 'waiting' while it waits to reconnect (the outbox keeps messages then). */
  get state(): ConnectionState {
    return this.connection?.state ?? 'pending';
  }

  counts(): GatewayCounts {
    return { connected: this.connection?.state === 'connected', children: this.children.size, queued: this.unsettled };
  }

  /** Sends one child's message; `settled` is called once: on its PUBACK (an attribute request: with the answer) or with the error. */
  send(input: ChildInput, settled: Settled): void {
    const child = typeof input.deviceName === 'string' ? input.deviceName : '';
    const stopped = this.stopped();
    if (stopped) return settled(forChild(stopped, child, this.gatewayName));
    let message: ChildMessage;
    try {
      message = buildChildMessage(input);
    } catch (error) {
      return settled(forChild(error as ProvisionError, child, this.gatewayName));
    }
    this.dispatch(message, settled);
  }

  /** send() for a message buildChildMessage made already (the outbox checks and stores it first). */
  sendBuilt(message: ChildMessage, settled: Settled): void {
    const stopped = this.stopped();
    if (stopped) return settled(forChild(stopped, message.child, this.gatewayName));
    this.dispatch(message, settled);
  }

  /** Why nothing more can be sent: closed, refused by GridLinks, or the session stopped for good. */
  private stopped(): ProvisionError | undefined {
    if (this.closed) return closedWhileQueued(this.gatewayName);
    return this.refused ?? this.connection?.stoppedBy;
  }

  private dispatch(message: ChildMessage, settled: Settled): void {
    this.unsettled += 1;
    const done: Settled = (error, answer) => {
      this.unsettled -= 1;
      settled(error ? forChild(error, message.child, this.gatewayName) : undefined, answer);
      this.events.changed?.();
    };
    this.route(message, done);
    this.events.changed?.();
  }

  /** send() as a promise: resolves with the answer of an attribute request, else undefined. */
  request(input: ChildInput): Promise<unknown> {
    return new Promise((resolve, reject) => this.send(input, (error, answer) => (error ? reject(error) : resolve(answer))));
  }

  /** Ends the session: batched and waiting messages fail with ABORTED, those in flight get a short grace. */
  async close(): Promise<{ queued: number; unacknowledged: number }> {
    if (this.closed) return { queued: 0, unacknowledged: 0 };
    this.closed = true;
    clearInterval(this.idleSweep);
    const batched = this.takeWaiting();
    for (const settled of batched) settled(closedWhileQueued(this.gatewayName));
    const report = (await this.connection?.close()) ?? { queued: 0, unacknowledged: 0 };
    return { queued: report.queued + batched.length, unacknowledged: report.unacknowledged };
  }

  private route(message: ChildMessage, done: Settled): void {
    const now = Date.now();
    if (message.kind === 'connect') this.children.announced(message.child, message.type, now);
    else if (message.kind === 'disconnect') this.children.forget(message.child);
    else if (this.children.use(message.child, message.type, now)) this.announce(message.child, message.type);
    switch (message.kind) {
      case 'telemetry':
      case 'attributes': {
        const { kind, child, part } = message;
        if (this.pacing.passes(child)) return this.batch(kind, child, part, done);
        // Telemetry of a child joining its entry in the open batch costs no message of its own (GridLinks counts a publish per child).
        const cost =
          kind === 'telemetry' ? telemetryCost(part, () => this.batcher.joins(kind, child, part)) : { kind, topic: GATEWAY_TOPICS.attributes, body: part };
        return this.pacing.run(child, cost, () => this.batch(kind, child, part, done), done);
      }
      case 'attributes/request':
        return this.requestAttributes(message, done);
      default:
        // Published on its own; the kind only picks DeviceConnection's error for a missing PUBACK.
        return this.submitFor(message.child, { kind: 'rpc/response', topic: message.topic, body: message.body }, done);
    }
  }

  private batch(kind: 'telemetry' | 'attributes', child: string, part: string, done: Settled): void {
    try {
      this.batcher.add(kind, child, part, done);
    } catch (error) {
      done(error as ProvisionError);
    }
  }

  /** A publish for one child, once the child's rate limits allow it. */
  private submitFor(child: string, action: DeviceAction, settled: Settled): void {
    this.pacing.run(child, action, () => this.submit(action, settled), settled);
  }

  /** The messages not yet handed to the session (waiting for a child's tokens, or batched), taken for the caller to fail. */
  private takeWaiting(): Settled[] {
    return [...this.pacing.takeAll(), ...this.batcher.takeAll()];
  }

  private requestAttributes(message: Extract<ChildMessage, { kind: 'attributes/request' }>, done: Settled): void {
    const answers: unknown[] = [];
    let left = message.scopes.length;
    let failed = false;
    message.scopes.forEach((scope, i) => {
      const action: DeviceAction = {
        kind: 'attributes/request',
        topic: GATEWAY_TOPICS.attributesRequest,
        body: '',
        bodyFor: (id) => attributeRequestBody(message.child, scope, id),
      };
      this.submitFor(message.child, action, (error, answer) => {
        if (failed) return;
        if (error) {
          failed = true;
          return done(error);
        }
        answers[i] = answer;
        if (--left === 0) done(undefined, mergeAttributeAnswers(message.scopes, answers));
      });
    });
  }

  private announce(child: string, type: string): void {
    this.submitFor(child, { kind: 'rpc/response', topic: GATEWAY_TOPICS.connect, body: connectBody(child, type) }, () => {});
  }

  private publishBatch(batch: Batch): void {
    const { members } = batch;
    this.submit({ kind: batch.kind, topic: GATEWAY_TOPICS[batch.kind], body: batch.body() }, (error) => {
      for (const settled of members) settled(error);
    });
  }

  /** Every publish goes through here: an acknowledgement proves a gateway; none on a fresh gateway is NOT_GATEWAY. */
  private submit(action: DeviceAction, settled: Settled): void {
    if (this.closed) return settled(closedWhileQueued(this.gatewayName));
    if (this.refused) return settled(this.refused);
    if (this.connection?.stoppedBy) return settled(this.connection.stoppedBy);
    this.session().submit(action, (error, answer) => {
      if (!error) {
        this.confirmed = true;
        return settled(undefined, answer);
      }
      if (!this.confirmed && !this.refused && error.code === 'OUTCOME_UNKNOWN' && error.details.reason === 'NO_ACK') this.notAGateway();
      settled(this.refused && !this.confirmed ? this.refused : error);
    });
  }

  private notAGateway(): void {
    this.refused = notGateway(this.settings.server, this.gatewayName);
    for (const settled of this.takeWaiting()) settled(this.refused);
    void this.connection?.close();
  }

  /** The session, a new one when there is none or the last could not be opened. */
  private session(): DeviceConnection {
    if (!this.connection || this.connection.state === 'closed') {
      const { server, queueLimit } = this.settings;
      this.lastState = 'pending';
      this.connection = new DeviceConnection(
        this.key,
        this.identity,
        { ...this.settings, server, receive: true, queueLimit, subscriptions: GATEWAY_SUBSCRIPTIONS, parse: parseGatewayIncoming },
        {
          incoming: (_connection, message) => this.incoming(message),
          changed: (connection) => this.stateChanged(connection),
          reconnectDue: (connection) => connection.start(),
          limits: (_connection, limits) => this.pacing.use(limits.childRateLimits),
          stopped: (_connection, error) => {
            for (const settled of this.takeWaiting()) settled(error);
            this.events.stopped?.(error);
          },
        },
        this.budget,
      );
      this.connection.start();
    }
    return this.connection;
  }

  private stateChanged(connection: DeviceConnection): void {
    if (connection !== this.connection) return;
    const { state } = connection;
    if (state !== this.lastState) {
      const wasUp = this.lastState === 'connected';
      this.lastState = state;
      if (state === 'waiting' || state === 'closed') this.children.sessionEnded();
      else if (state === 'connected' && !wasUp && !this.closed) {
        for (const [child, type] of this.children.toAnnounce()) this.announce(child, type);
      }
    }
    this.events.changed?.();
  }

  private incoming(message: IncomingMessage): void {
    const deviceName = message.deviceName as string;
    if (message.kind === 'disconnect') {
      // The server dropped the child (deleted, say): announced again on its next message.
      this.children.forget(deviceName);
      this.pacing.forget(deviceName);
      this.events.changed?.();
      return;
    }
    if (message.kind !== 'rpc/request' && message.kind !== 'attributes') return;
    this.events.request?.({
      kind: message.kind,
      deviceName,
      ...(message.requestId !== undefined ? { requestId: message.requestId } : {}),
      payload: message.payload,
    });
  }

  private forgetIdle(): void {
    if (this.closed || this.refused) return;
    const idle = this.children.idleSince(Date.now() - this.settings.childIdleTimeoutMs);
    // Without a session the server has them offline already: forgetting them is enough.
    if (this.connection?.state !== 'connected') return;
    for (const child of idle) {
      this.pacing.forget(child);
      this.submit({ kind: 'rpc/response', topic: GATEWAY_TOPICS.disconnect, body: `{"device":${JSON.stringify(child)}}` }, () => {});
    }
    if (idle.length > 0) this.events.changed?.();
  }
}
