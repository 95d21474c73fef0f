/** GridLinks' (ThingsBoard's) MQTT device API topics, as a device session sees them. */
export const TELEMETRY_TOPIC = 'v1/devices/me/telemetry';
export const ATTRIBUTES_TOPIC = 'v1/devices/me/attributes';
export const ATTRIBUTES_REQUEST_PREFIX = 'v1/devices/me/attributes/request/';
export const ATTRIBUTES_RESPONSE_PREFIX = 'v1/devices/me/attributes/response/';
export const RPC_REQUEST_PREFIX = 'v1/devices/me/rpc/request/';
export const RPC_RESPONSE_PREFIX = 'v1/devices/me/rpc/response/';

/** Subscriptions of a session that receives server RPCs and shared-attribute updates. */
export const RECEIVE_SUBSCRIPTIONS = [`${RPC_REQUEST_PREFIX}+`, ATTRIBUTES_TOPIC];
/** Always subscribed: answers to this session's attribute requests. */
export const ATTRIBUTES_RESPONSE_SUBSCRIPTION = `${ATTRIBUTES_RESPONSE_PREFIX}+`;

export type IncomingKind = 'rpc/request' | 'attributes' | 'attributes/response' | 'disconnect';

export interface IncomingMessage {
  kind: IncomingKind;
  /** The id at the end of the topic (rpc/request, attributes/response); a gateway's: in the payload. */
  requestId?: number;
  /** A gateway session: the child device it is for. */
  deviceName?: string;
  payload: unknown;
}

/** JSON when it parses, else the text. */
export function decodePayload(payload: Buffer): unknown {
  const text = payload.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function idAfter(prefix: string, topic: string): number | undefined {
  const rest = topic.slice(prefix.length);
  return /^\d{1,15}$/.test(rest) ? Number(rest) : undefined;
}

/** What a PUBLISH from the server to a device session means; null for a topic the device API does not use. */
export function parseIncoming(topic: string, payload: Buffer): IncomingMessage | null {
  if (topic === ATTRIBUTES_TOPIC) return { kind: 'attributes', payload: decodePayload(payload) };
  if (topic.startsWith(RPC_REQUEST_PREFIX)) {
    const requestId = idAfter(RPC_REQUEST_PREFIX, topic);
    return requestId === undefined ? null : { kind: 'rpc/request', requestId, payload: decodePayload(payload) };
  }
  if (topic.startsWith(ATTRIBUTES_RESPONSE_PREFIX)) {
    const requestId = idAfter(ATTRIBUTES_RESPONSE_PREFIX, topic);
    return requestId === undefined ? null : { kind: 'attributes/response', requestId, payload: decodePayload(payload) };
  }
  return null;
}
