import { RPC_RESPONSE_PREFIX, buildDeviceAction } from '../device';
import { ProvisionError } from '../provisioning/errors';
import { GATEWAY_TOPICS } from './gateway-topics';

/** What msg.topic may ask of a gateway for one child. */
export const GATEWAY_ACTIONS = ['telemetry', 'attributes', 'attributes/request', 'rpc/response', 'connect', 'disconnect', 'claim'] as const;
export type GatewayActionKind = (typeof GATEWAY_ACTIONS)[number];

/** A child's message as the flow (or a library user) gives it; the shapes are gridlinks-device's. */
export interface ChildInput {
  deviceName?: unknown;
  /** Used when the child is announced (`v1/gateway/connect`); default `default`. */
  deviceType?: unknown;
  /** One of GATEWAY_ACTIONS; empty = telemetry. */
  topic?: unknown;
  payload?: unknown;
  /** rpc/response: the id of the RPC answered. */
  requestId?: unknown;
}

export interface AttributeScope {
  client: boolean;
  keys: string[];
}

/** One child's message, checked and written: batched parts, a request per scope, or a publish of its own. */
export type ChildMessage =
  /** `part`: the telemetry entries without the array's brackets, or the attributes object. */
  | { kind: 'telemetry' | 'attributes'; child: string; type: string; part: string }
  | { kind: 'attributes/request'; child: string; type: string; scopes: AttributeScope[] }
  | { kind: 'rpc/response' | 'connect' | 'disconnect' | 'claim'; child: string; type: string; topic: string; body: string };

const MAX_NAME_LENGTH = 255;
export const DEFAULT_CHILD_TYPE = 'default';

function invalid(field: string, message: string, deviceName?: string): ProvisionError {
  return new ProvisionError('INVALID_INPUT', message, { field, ...(deviceName !== undefined ? { deviceName } : {}) });
}

function childName(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_NAME_LENGTH) {
    throw invalid(
      'deviceName',
      `msg.deviceName must name the child device (text of 1 to ${MAX_NAME_LENGTH} characters); GridLinks creates it the first time the gateway names it.`,
    );
  }
  return value;
}

function childType(value: unknown, child: string): string {
  if (value === undefined || value === null || value === '') return DEFAULT_CHILD_TYPE;
  if (typeof value !== 'string' || value.length > MAX_NAME_LENGTH) {
    throw invalid('deviceType', `msg.deviceType of child "${child}" must be a device type (text of at most ${MAX_NAME_LENGTH} characters).`, child);
  }
  return value;
}

function keysOf(list: unknown): string[] {
  return typeof list === 'string' && list !== '' ? list.split(',') : [];
}

/** {clientKeys, sharedKeys} as gridlinks-device takes them → one gateway request per scope (the gateway API asks one scope at a time). */
function attributeScopes(payload: unknown, child: string): AttributeScope[] {
  const asked = JSON.parse(buildDeviceAction('attributes/request', payload, undefined, child).body) as { clientKeys?: string; sharedKeys?: string };
  const scopes: AttributeScope[] = [];
  if (keysOf(asked.clientKeys).length > 0) scopes.push({ client: true, keys: keysOf(asked.clientKeys) });
  if (keysOf(asked.sharedKeys).length > 0) scopes.push({ client: false, keys: keysOf(asked.sharedKeys) });
  if (scopes.length === 0) {
    throw invalid('payload', `An attribute request for child "${child}" must name its keys: {"clientKeys": "a,b"} and/or {"sharedKeys": ["c"]}.`, child);
  }
  return scopes;
}

/** What a message's topic asks of the gateway: an empty topic (absent, null, '') is telemetry; anything else as given. */
export function childTopicKind(topic: unknown): unknown {
  return topic === undefined || topic === null || topic === '' ? 'telemetry' : topic;
}

/** Checks one child's message and writes its JSON. Throws INVALID_INPUT naming the child and the field. */
export function buildChildMessage(input: ChildInput): ChildMessage {
  const child = childName(input.deviceName);
  const type = childType(input.deviceType, child);
  const kind = childTopicKind(input.topic);
  switch (kind) {
    case 'telemetry': {
      const body = buildDeviceAction('telemetry', input.payload, undefined, child).body;
      return { kind, child, type, part: body.startsWith('[') ? body.slice(1, -1) : body };
    }
    case 'attributes':
      return { kind, child, type, part: buildDeviceAction('attributes', input.payload, undefined, child).body };
    case 'attributes/request':
      return { kind, child, type, scopes: attributeScopes(input.payload, child) };
    case 'rpc/response': {
      const action = buildDeviceAction('rpc/response', input.payload, input.requestId, child) as { topic: string; body: string };
      const id = action.topic.slice(RPC_RESPONSE_PREFIX.length);
      return { kind, child, type, topic: GATEWAY_TOPICS.rpc, body: `{"device":${JSON.stringify(child)},"id":${id},"data":${action.body}}` };
    }
    case 'connect':
      return { kind, child, type, topic: GATEWAY_TOPICS.connect, body: connectBody(child, type) };
    case 'disconnect':
      return { kind, child, type, topic: GATEWAY_TOPICS.disconnect, body: `{"device":${JSON.stringify(child)}}` };
    case 'claim': {
      const claim = input.payload ?? {};
      if (typeof claim !== 'object' || claim === null || Array.isArray(claim)) {
        throw invalid('payload', `A claim for child "${child}" must be an object ({"secretKey": "...", "durationMs": 60000}) or empty.`, child);
      }
      return { kind, child, type, topic: GATEWAY_TOPICS.claim, body: `{${JSON.stringify(child)}:${JSON.stringify(claim)}}` };
    }
    default:
      throw invalid(
        'topic',
        `msg.topic ${typeof kind === 'string' ? `"${kind.slice(0, 60)}"` : `(a ${typeof kind})`} is not something a gateway does for a child: use ${GATEWAY_ACTIONS.join(', ')} (empty = telemetry).`,
        child,
      );
  }
}

export function connectBody(child: string, type: string): string {
  return `{"device":${JSON.stringify(child)},"type":${JSON.stringify(type)}}`;
}

/** A gateway attribute request for one scope; the id is filled in when it is sent. */
export function attributeRequestBody(child: string, scope: AttributeScope, id: number): string {
  return JSON.stringify({ id, device: child, client: scope.client, keys: scope.keys });
}

/**
 * The answers of a child's requests (one per scope) in gridlinks-device's shape, `{client: {...}, shared: {...}}`:
 * GridLinks answers `value` when one key was asked and found, `values` when several were, neither when none.
 */
export function mergeAttributeAnswers(scopes: AttributeScope[], answers: unknown[]): Record<string, Record<string, unknown>> {
  const merged: Record<string, Record<string, unknown>> = {};
  scopes.forEach((scope, i) => {
    const answer = (answers[i] ?? {}) as { value?: unknown; values?: unknown };
    let found: Record<string, unknown> = {};
    if (typeof answer.values === 'object' && answer.values !== null) found = answer.values as Record<string, unknown>;
    else if ('value' in answer && scope.keys.length === 1) found = { [scope.keys[0]]: answer.value };
    if (Object.keys(found).length > 0) merged[scope.client ? 'client' : 'shared'] = found;
  });
  return merged;
}
