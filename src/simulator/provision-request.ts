import { decodeProvisionRequest } from './provision-protobuf';

/** Reads a /provision/request payload the way ThingsBoard's JsonConverter + Gson do (protocol.md §2). */

export type RequestCredentialsType = 'ACCESS_TOKEN' | 'MQTT_BASIC' | 'X509_CERTIFICATE' | 'LWM2M_CREDENTIALS';

export interface ProvisionRequest {
  deviceName: string;
  provisionDeviceKey: string;
  provisionDeviceSecret: string;
  credentialsType: RequestCredentialsType;
  token: string;
  clientId: string;
  username: string;
  password: string;
  hash: string;
  gateway: boolean;
}

export type ParsedRequest =
  | { kind: 'request'; request: ProvisionRequest; format: 'json' | 'protobuf' }
  /** Server-side exception (missing key field, null/object value, unknown credentialsType): no answer, close. */
  | { kind: 'structural'; reason: string }
  /** Not JSON (and not protobuf), or an array value of != 1 elements. */
  | { kind: 'malformed'; reason: string }
  ;

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
  return String(value);
}

function gsonBoolean(value: unknown, key: string): boolean {
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value) && value.length === 1) return gsonBoolean(value[0], key);
  return gsonString(value, key).toLowerCase() === 'true';
}

/** JSON first; only if that fails to parse, protobuf (an empty payload is an all-defaults protobuf message). */
export function parseProvisionRequest(payload: Buffer): ParsedRequest {
  let json: unknown;
  try {
    if (payload.length === 0) throw new SyntaxError('empty');
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    const decoded = decodeProvisionRequest(payload);
    if (decoded.kind === 'invalid') return { kind: 'malformed', reason: 'payload is neither JSON nor protobuf' };
    return decoded.kind === 'request' ? { ...decoded, format: 'protobuf' } : decoded;
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return { kind: 'malformed', reason: 'payload is not a JSON object' };
  }
  const fields = json as Record<string, unknown>;
  const has = (key: string): boolean => Object.prototype.hasOwnProperty.call(fields, key);
  const optional = (key: string): string => (has(key) ? gsonString(fields[key], key) : '');
  try {
    for (const key of ['provisionDeviceKey', 'provisionDeviceSecret']) {
      if (!has(key)) throw new StructuralFault(`Failed to find the field ${key} in JSON body`);
    }
    const typeName = has('credentialsType') ? gsonString(fields.credentialsType, 'credentialsType') : 'ACCESS_TOKEN';
    if (!(CREDENTIALS_TYPES as readonly string[]).includes(typeName)) {
      throw new StructuralFault('unknown credentialsType');
    }
    const request: ProvisionRequest = {
      provisionDeviceKey: gsonString(fields.provisionDeviceKey, 'provisionDeviceKey'),
      provisionDeviceSecret: gsonString(fields.provisionDeviceSecret, 'provisionDeviceSecret'),
      deviceName: optional('deviceName'),
      credentialsType: typeName as RequestCredentialsType,
      token: optional('token'),
      clientId: optional('clientId'),
      username: optional('username'),
      password: optional('password'),
      hash: optional('hash'),
      gateway: has('gateway') ? gsonBoolean(fields.gateway, 'gateway') : false,
    };
    return { kind: 'request', request, format: 'json' };
  } catch (error) {
    if (error instanceof MalformedFault) return { kind: 'malformed', reason: error.message };
    if (error instanceof StructuralFault) return { kind: 'structural', reason: error.message };
    throw error;
  }
}
