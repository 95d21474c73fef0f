import type { DeviceRecord } from '../types';

/**
 * The server side of device sessions beyond telemetry: server RPCs (send, await the device's answer),
 * shared attributes (push updates, answer attribute requests with client + shared keys as GridLinks
 * does: `{"client":{...},"shared":{...}}`), the client attributes each device (or gateway child) reported,
 * and client-side RPCs the server itself answers (getSessionLimits).
 */

export const RPC_REQUEST_SUBSCRIPTION = 'v1/devices/me/rpc/request/+';
export const ATTRIBUTES_TOPIC = 'v1/devices/me/attributes';
const ATTRIBUTES_REQUEST_PREFIX = 'v1/devices/me/attributes/request/';
const ATTRIBUTES_RESPONSE_SUBSCRIPTION = 'v1/devices/me/attributes/response/+';
const RPC_RESPONSE_PREFIX = 'v1/devices/me/rpc/response/';
const CLIENT_RPC_REQUEST_PREFIX = 'v1/devices/me/rpc/request/';
const CLIENT_RPC_RESPONSE_SUBSCRIPTION = 'v1/devices/me/rpc/response/+';
const DEFAULT_RPC_TIMEOUT_MS = 10_000;

/** What the control needs of an aedes client: its subscriptions and a way to send it a PUBLISH. */
export interface DeviceSession {
  /** The connection aedes serves (the socket, or the MQTT 5 bridge). */
  conn: object;
  subscriptions: Record<string, { qos?: number } | undefined>;
  publish(packet: { cmd: 'publish'; topic: string; payload: Buffer; qos: 0 | 1; retain: false; dup: false }, done: (error?: Error) => void): void;
  close(): void;
}

export interface RpcRequest {
  method: string;
  params?: unknown;
}

interface PendingRpc {
  resolve(answer: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

type Attributes = Record<string, unknown>;

/** The server's answer to a client-side RPC method, or undefined when the server does not answer it itself. */
export type ClientRpcAnswer = (device: DeviceRecord, method: string) => unknown;

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function parse(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Attributes {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function keysOf(value: unknown): string[] | undefined {
  return typeof value === 'string' && value !== '' ? value.split(',').map((key) => key.trim()) : undefined;
}

function pick(from: Attributes, keys: string[] | undefined): Attributes {
  if (keys === undefined) return { ...from };
  return Object.fromEntries(keys.filter((key) => Object.hasOwn(from, key)).map((key) => [key, from[key]]));
}

export class DeviceControl {
  private readonly sessions = new Map<string, Set<DeviceSession>>();
  private readonly clientAttributes = new Map<string, Attributes>();
  private readonly sharedAttributes = new Map<string, Attributes>();
  private readonly pendingRpc = new Map<string, PendingRpc>();
  private nextRpcId = 1;

  constructor(private readonly clientRpcAnswer: ClientRpcAnswer = () => undefined) {}

  sessionOpened(deviceName: string, session: DeviceSession): void {
    let set = this.sessions.get(deviceName);
    if (!set) this.sessions.set(deviceName, (set = new Set()));
    set.add(session);
  }

  sessionClosed(deviceName: string, session: DeviceSession): void {
    const set = this.sessions.get(deviceName);
    set?.delete(session);
    if (set?.size === 0) this.sessions.delete(deviceName);
  }

  /** The device's open sessions, oldest first. */
  sessionsOf(deviceName: string): DeviceSession[] {
    return [...(this.sessions.get(deviceName) ?? [])];
  }

  /** Names of the devices with at least one open session. */
  connectedDevices(): string[] {
    return [...this.sessions.keys()];
  }

  /** Whether a session of the device subscribed to server RPCs (GridLinks only sends RPCs to such sessions). */
  isSubscribedToRpc(deviceName: string): boolean {
    return this.subscribed(deviceName, RPC_REQUEST_SUBSCRIPTION).length > 0;
  }

  /** A PUBLISH from a device session, after authorization (telemetry is recorded by the broker). */
  devicePublished(device: DeviceRecord, session: DeviceSession, topic: string, payload: Buffer): void {
    const deviceName = device.name;
    if (topic === ATTRIBUTES_TOPIC) {
      const values = parse(payload);
      if (isObject(values)) this.mergeClientAttributes(deviceName, values);
    } else if (topic.startsWith(CLIENT_RPC_REQUEST_PREFIX)) {
      const request = parse(payload);
      const answer = isObject(request) && typeof request.method === 'string' ? this.clientRpcAnswer(device, request.method) : undefined;
      if (answer === undefined) return;
      const qos = session.subscriptions[CLIENT_RPC_RESPONSE_SUBSCRIPTION]?.qos === 0 ? 0 : 1;
      const responseTopic = `${RPC_RESPONSE_PREFIX}${topic.slice(CLIENT_RPC_REQUEST_PREFIX.length)}`;
      session.publish({ cmd: 'publish', topic: responseTopic, payload: json(answer), qos, retain: false, dup: false }, () => {});
    } else if (topic.startsWith(ATTRIBUTES_REQUEST_PREFIX)) {
      const requestId = topic.slice(ATTRIBUTES_REQUEST_PREFIX.length);
      const request = parse(payload);
      const answer = this.attributesAnswer(deviceName, isObject(request) ? request : {});
      // At the QoS granted for the response subscription, QoS 1 without one (MqttTransportHandler).
      const qos = session.subscriptions[ATTRIBUTES_RESPONSE_SUBSCRIPTION]?.qos === 0 ? 0 : 1;
      session.publish(
        { cmd: 'publish', topic: `v1/devices/me/attributes/response/${requestId}`, payload: json(answer), qos, retain: false, dup: false },
        () => {},
      );
    } else if (topic.startsWith(RPC_RESPONSE_PREFIX)) {
      const key = `${deviceName}\0${topic.slice(RPC_RESPONSE_PREFIX.length)}`;
      const pending = this.pendingRpc.get(key);
      if (!pending) return;
      this.pendingRpc.delete(key);
      clearTimeout(pending.timer);
      pending.resolve(parse(payload) ?? payload.toString('utf8'));
    }
  }

  /**
   * Sends a two-way server RPC to the device and resolves with its answer; rejects when no session of
   * the device subscribed to RPCs, or no answer came within timeoutMs.
   */
  sendRpc(deviceName: string, request: RpcRequest, timeoutMs = DEFAULT_RPC_TIMEOUT_MS): Promise<unknown> {
    const [session] = this.subscribed(deviceName, RPC_REQUEST_SUBSCRIPTION);
    if (!session) return Promise.reject(new Error(`device ${deviceName} has no session subscribed to ${RPC_REQUEST_SUBSCRIPTION}`));
    const requestId = this.nextRpcId++;
    return new Promise((resolve, reject) => {
      const key = `${deviceName}\0${requestId}`;
      const timer = setTimeout(() => {
        this.pendingRpc.delete(key);
        reject(new Error(`device ${deviceName} did not answer RPC ${requestId} (${request.method}) within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pendingRpc.set(key, { resolve, reject, timer });
      const payload = json({ method: request.method, params: request.params ?? {} });
      session.publish({ cmd: 'publish', topic: `v1/devices/me/rpc/request/${requestId}`, payload, qos: 1, retain: false, dup: false }, () => {});
    });
  }

  /**
   * Stores shared attributes (the `deleted` keys removed) and pushes the update to every session subscribed to
   * attribute updates, with `"deleted": [...]` when keys were deleted (JsonConverter.toJson); returns how many.
   */
  setSharedAttributes(deviceName: string, values: Attributes, deleted: string[] = []): number {
    this.storeSharedAttributes(deviceName, values, deleted);
    const update = deleted.length > 0 ? { ...values, deleted } : values;
    const sessions = this.subscribed(deviceName, ATTRIBUTES_TOPIC);
    for (const session of sessions) {
      session.publish({ cmd: 'publish', topic: ATTRIBUTES_TOPIC, payload: json(update), qos: 1, retain: false, dup: false }, () => {});
    }
    return sessions.length;
  }

  /** Closes every session of the device from the server side (as a server restart would); returns how many. */
  disconnectDevice(deviceName: string): number {
    const sessions = [...(this.sessions.get(deviceName) ?? [])];
    for (const session of sessions) session.close();
    return sessions.length;
  }

  clientAttributesOf(deviceName: string): Attributes {
    return { ...this.clientAttributes.get(deviceName) };
  }

  sharedAttributesOf(deviceName: string): Attributes {
    return { ...this.sharedAttributes.get(deviceName) };
  }

  mergeClientAttributes(deviceName: string, values: Attributes): void {
    this.clientAttributes.set(deviceName, { ...this.clientAttributes.get(deviceName), ...values });
  }

  /** Merges shared attributes in, the `deleted` keys out. */
  storeSharedAttributes(deviceName: string, values: Attributes, deleted: string[] = []): void {
    const next: Attributes = { ...this.sharedAttributes.get(deviceName), ...values };
    for (const key of deleted) delete next[key];
    this.sharedAttributes.set(deviceName, next);
  }

  /** Rejects every RPC still waiting (simulator stopping). */
  close(): void {
    for (const pending of this.pendingRpc.values()) {
      clearTimeout(pending.timer);
      pending.reject(new Error('simulator stopped'));
    }
    this.pendingRpc.clear();
  }

  /**
   * As GridLinks (JsonConverter.toJson(GetAttributeResponseMsg)): the keys asked for, every attribute of
   * both scopes when the request names none, and a scope left out when it has no value to give.
   */
  private attributesAnswer(deviceName: string, request: Attributes): { client?: Attributes; shared?: Attributes } {
    const clientKeys = keysOf(request.clientKeys);
    const sharedKeys = keysOf(request.sharedKeys);
    const none = clientKeys === undefined && sharedKeys === undefined;
    const client = clientKeys || none ? pick(this.clientAttributes.get(deviceName) ?? {}, clientKeys) : {};
    const shared = sharedKeys || none ? pick(this.sharedAttributes.get(deviceName) ?? {}, sharedKeys) : {};
    return { ...(Object.keys(client).length > 0 ? { client } : {}), ...(Object.keys(shared).length > 0 ? { shared } : {}) };
  }

  private subscribed(deviceName: string, topic: string): DeviceSession[] {
    return [...(this.sessions.get(deviceName) ?? [])].filter((session) => session.subscriptions[topic] !== undefined);
  }
}
