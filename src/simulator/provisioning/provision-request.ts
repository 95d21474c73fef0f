import { parseLenientObject } from './lenient-json';
import { decodeProvisionRequest } from './provision-protobuf';
import type { ProvisionRequest, RequestCredentialsType } from './provision-message';

/** Reads a /provision/request payload the way ThingsBoard's JsonConverter + Gson do (protocol.md §2). */

export type ParsedRequest =
  | { kind: 'request'; request: ProvisionRequest; format: 'json' | 'protobuf' }
  /** Server-side exception (missing key field, null/object value, unknown credentialsType): no answer, close. */
  | { kind: 'structural'; reason: string }
  /** Not JSON (and not protobuf), or an array value of != 1 elements. */
  | { kind: 'malformed'; reason: string };

const CREDENTIALS_TYPES: readonly RequestCredentialsType[] = ['ACCESS_TOKEN', 'MQTT_BASIC', 'X509_CERTIFICATE', 'LWM2M_CREDENTIALS'];

class StructuralFault extends Error {}
class MalformedFault extends Error {}

/** Gson JsonElement.getAsString(): primitives coerced, one-element arrays unwrapped, null/object throw. */
function gsonString(value: unknown, key: string): string {
  if (value === null) throw new StructuralFault(`${key} is null`);
  if (Array.isArray(value)) {
    if (value.length !== 1) throw new MalformedFault(`${key} is an array of ${value.length} elements`);
    return gsonString(value[0], key);
  }
  if (typeof value === 'object') throw new StructuralFault(`${key} is an object`);
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? '';
}

function gsonBoolean(value: unknown, key: string): boolean {
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value) && value.length === 1) return gsonBoolean(value[0], key);
  return gsonString(value, key).toLowerCase() === 'true';
}

/** JSON first (strict, then as leniently as Gson reads it); only if that fails to parse, protobuf (an empty payload is an all-defaults protobuf message). */
export function parseProvisionRequest(payload: Buffer): ParsedRequest {
  const fromJson = payload.length === 0 ? null : parseJsonProvisionRequest(payload.toString('utf8'));
  if (fromJson) return fromJson;
  const decoded = decodeProvisionRequest(payload);
  if (decoded.kind === 'invalid') return { kind: 'malformed', reason: 'payload is neither JSON nor protobuf' };
  return decoded.kind === 'request' ? { ...decoded, format: 'protobuf' } : decoded;
}

/** A JSON request (HTTP's only format): null when the text is no JSON at all, even read leniently. */
export function parseJsonProvisionRequest(text: string): ParsedRequest | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    try {
      json = parseLenientObject(text);
    } catch {
      return null;
    }
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return { kind: 'malformed', reason: 'payload is not a JSON object' };
  }
  return readRequestFields(json as Record<string, unknown>);
}

/** JsonConverter's order: deviceName, credentialsType, the credential fields, then key and secret; the first bad one decides. */
function readRequestFields(fields: Record<string, unknown>): ParsedRequest {
  const has = (key: string): boolean => Object.prototype.hasOwnProperty.call(fields, key);
  const optional = (key: string): string => (has(key) ? gsonString(fields[key], key) : '');
  const required = (key: string): string => {
    if (!has(key)) throw new StructuralFault(`Failed to find the field ${key} in JSON body`);
    return gsonString(fields[key], key);
  };
  try {
    const deviceName = optional('deviceName');
    const typeName = has('credentialsType') ? gsonString(fields.credentialsType, 'credentialsType') : 'ACCESS_TOKEN';
    if (!(CREDENTIALS_TYPES as readonly string[]).includes(typeName)) {
      throw new StructuralFault('unknown credentialsType');
    }
    const token = optional('token');
    const clientId = optional('clientId');
    const username = optional('username');
    const password = optional('password');
    const hash = optional('hash');
    const request: ProvisionRequest = {
      provisionDeviceKey: required('provisionDeviceKey'),
      provisionDeviceSecret: required('provisionDeviceSecret'),
      deviceName,
      credentialsType: typeName as RequestCredentialsType,
      token,
      clientId,
      username,
      password,
      hash,
      gateway: has('gateway') ? gsonBoolean(fields.gateway, 'gateway') : false,
    };
    return { kind: 'request', request, format: 'json' };
  } catch (error) {
    if (error instanceof MalformedFault) return { kind: 'malformed', reason: error.message };
    if (error instanceof StructuralFault) return { kind: 'structural', reason: error.message };
    throw error;
  }
}
