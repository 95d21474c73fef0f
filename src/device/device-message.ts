import { ProvisionError } from '../provisioning/errors';
import { ATTRIBUTES_TOPIC, RPC_RESPONSE_PREFIX, TELEMETRY_TOPIC } from './topics';

export const ACTIONS = ['telemetry', 'attributes', 'attributes/request', 'rpc/response'] as const;
export type ActionKind = (typeof ACTIONS)[number];

/** One thing to do as a device: a PUBLISH (QoS 1), and for an attribute request, an answer to wait for. */
export type DeviceAction =
  | { kind: 'telemetry' | 'attributes' | 'rpc/response'; topic: string; body: string }
  /** `topic` and `bodyFor` (given the request id) replace the device API's topic with the id in it (a gateway's request carries it in the body). */
  | { kind: 'attributes/request'; body: string; topic?: string; bodyFor?: (requestId: number) => string };

/** Anything above this is refused before it is queued (GridLinks' default max payload is 64 KB). */
const MAX_BODY_BYTES = 64 * 1024;

function invalid(field: string, message: string, deviceName: string): ProvisionError {
  return new ProvisionError('INVALID_INPUT', message, { field, deviceName });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

function serialize(value: unknown, deviceName: string): string {
  let body: string | undefined;
  try {
    body = JSON.stringify(value);
  } catch (error) {
    throw invalid('payload', `The payload for device "${deviceName}" cannot be written as JSON (${(error as Error).message}).`, deviceName);
  }
  if (body === undefined) throw invalid('payload', `The payload for device "${deviceName}" has no JSON form.`, deviceName);
  // A UTF-16 unit is at most 3 bytes of UTF-8: most bodies need no count.
  if (body.length * 3 > MAX_BODY_BYTES && Buffer.byteLength(body) > MAX_BODY_BYTES) {
    throw invalid('payload', `The payload for device "${deviceName}" is larger than 64 KB as JSON: split it into several messages.`, deviceName);
  }
  return body;
}

/** Telemetry: `{key: value}`, `{ts, values}`, or an array of either. */
function telemetryBody(payload: unknown, deviceName: string): string {
  const valid = Array.isArray(payload) ? payload.length > 0 && payload.every(isPlainObject) : isPlainObject(payload);
  if (!valid) {
    throw invalid(
      'payload',
      `Telemetry for device "${deviceName}" must be an object ({"temperature": 21.5}), {"ts": <ms>, "values": {...}}, or an array of those.`,
      deviceName,
    );
  }
  return serialize(payload, deviceName);
}

/** `"a,b"` or `["a","b"]` → `"a,b"`; absent → undefined. */
function keyList(value: unknown, field: string, deviceName: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const keys = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : null;
  if (!keys || !keys.every((key) => typeof key === 'string' && key.trim() !== '' && !key.includes(','))) {
    throw invalid(field, `payload.${field} for device "${deviceName}" must be a list of attribute names: ["a","b"] or "a,b".`, deviceName);
  }
  return keys.map((key: string) => key.trim()).join(',');
}

function attributesRequestBody(payload: unknown, deviceName: string): string {
  const request = isPlainObject(payload) ? payload : {};
  const clientKeys = keyList(request.clientKeys, 'clientKeys', deviceName);
  const sharedKeys = keyList(request.sharedKeys, 'sharedKeys', deviceName);
  return JSON.stringify({ ...(clientKeys ? { clientKeys } : {}), ...(sharedKeys ? { sharedKeys } : {}) });
}

function requestIdOf(value: unknown, deviceName: string): number {
  const id = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
    throw invalid('requestId', `msg.requestId must be the id of the RPC request being answered (a whole number) for device "${deviceName}".`, deviceName);
  }
  return id;
}

/** msg.topic (default telemetry) and msg.payload → what to publish. Throws INVALID_INPUT naming the device. */
export function buildDeviceAction(topic: unknown, payload: unknown, requestId: unknown, deviceName: string): DeviceAction {
  const kind = topic === undefined || topic === null || topic === '' ? 'telemetry' : topic;
  switch (kind) {
    case 'telemetry':
      return { kind: 'telemetry', topic: TELEMETRY_TOPIC, body: telemetryBody(payload, deviceName) };
    case 'attributes':
      if (!isPlainObject(payload))
        throw invalid('payload', `Client attributes for device "${deviceName}" must be an object ({"firmware": "1.2"}).`, deviceName);
      return { kind: 'attributes', topic: ATTRIBUTES_TOPIC, body: serialize(payload, deviceName) };
    case 'attributes/request':
      return { kind: 'attributes/request', body: attributesRequestBody(payload, deviceName) };
    case 'rpc/response':
      return { kind: 'rpc/response', topic: `${RPC_RESPONSE_PREFIX}${requestIdOf(requestId, deviceName)}`, body: serialize(payload ?? null, deviceName) };
    default:
      throw invalid(
        'topic',
        `msg.topic ${typeof kind === 'string' ? `"${kind.slice(0, 60)}"` : `(a ${typeof kind})`} is not something a device does: use telemetry (or leave it empty), attributes, attributes/request or rpc/response.`,
        deviceName,
      );
  }
}
