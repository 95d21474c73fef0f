import { REASON } from '../packets';

/**
 * Reading a gateway's publishes as GridLinks does (`AbstractGatewaySessionHandler`, `JsonConverter`): what
 * cannot be read closes the gateway session, with the reason an MQTT 5 PUBACK carries (0x99 for JSON that
 * does not parse, 0x83 for a missing or wrong field).
 */

export type Json = Record<string, unknown>;

export class GatewayMessageError extends Error {
  constructor(
    readonly reasonCode: number,
    message: string,
  ) {
    super(message);
  }
}

export function parseGatewayJson(payload: Buffer): Json {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8')) as unknown;
  } catch {
    throw new GatewayMessageError(REASON.payloadFormatInvalid, 'the payload is not JSON');
  }
  if (!isObject(value)) throw new GatewayMessageError(REASON.payloadFormatInvalid, 'the payload is not a JSON object');
  return value;
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `device` field: a non-empty string. */
export function childNameOf(message: Json): string {
  const name = message.device;
  if (typeof name !== 'string' || name === '') throw new GatewayMessageError(REASON.implementationSpecificError, 'no "device" field');
  return name;
}

/** The `id` field, read as Gson's getAsInt does: a number, or a string holding one. */
export function requestIdOf(message: Json): number {
  const id = message.id;
  const number = typeof id === 'number' ? id : typeof id === 'string' && /^\s*-?\d+\s*$/.test(id) ? Number(id) : NaN;
  if (!Number.isInteger(number)) throw new GatewayMessageError(REASON.implementationSpecificError, `"id" ${JSON.stringify(id)} is not a number`);
  return number;
}

/**
 * The children of a telemetry or attributes publish: `{"Child": part, ...}`; a child whose part is not of the
 * expected shape (an array for telemetry, an object for attributes) is skipped; no child at all is an error.
 */
export function childParts(message: Json, accept: (part: unknown) => boolean): Map<string, unknown> {
  const names = Object.keys(message);
  if (names.length === 0) throw new GatewayMessageError(REASON.implementationSpecificError, 'an empty object names no device');
  return new Map(names.filter((name) => accept(message[name])).map((name) => [name, message[name]]));
}

export interface AttributeRequest {
  id: number;
  device: string;
  client: boolean;
  keys: string[];
  /** `keys` with more than one name: the answer is always `values`. */
  several: boolean;
}

export function attributeRequestOf(message: Json): AttributeRequest {
  const id = requestIdOf(message);
  const device = childNameOf(message);
  const client = message.client === true;
  if (typeof message.key === 'string') return { id, device, client, keys: [message.key], several: false };
  if (Array.isArray(message.keys) && message.keys.every((key) => typeof key === 'string')) {
    const keys = message.keys;
    return { id, device, client, keys, several: keys.length > 1 };
  }
  throw new GatewayMessageError(REASON.implementationSpecificError, 'neither "key" nor "keys"');
}

/** `{"id","device","value"}` for one name asked for and found, `"values"` when several were asked for, neither when none found. */
export function attributeResponse(request: AttributeRequest, attributes: Json): Json {
  const found = request.keys.filter((key) => Object.hasOwn(attributes, key));
  const answer: Json = { id: request.id, device: request.device };
  if (found.length === 0) return answer;
  if (!request.several) return { ...answer, value: attributes[found[0]] };
  return { ...answer, values: Object.fromEntries(found.map((key) => [key, attributes[key]])) };
}
