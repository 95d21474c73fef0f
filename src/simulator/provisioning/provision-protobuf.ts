/**
 * The protobuf form of the provisioning messages (queue.proto), which GridLinks falls back to when a request
 * is not JSON: ProvisionDeviceRequestMsg in, ProvisionDeviceResponseMsg out. Proto3: absent = default value.
 */
import type { ProvisionRequest, RequestCredentialsType } from './provision-message';

const CREDENTIALS_TYPES: readonly RequestCredentialsType[] = ['ACCESS_TOKEN', 'X509_CERTIFICATE', 'MQTT_BASIC', 'LWM2M_CREDENTIALS'];
const RESPONSE_STATUS = { SUCCESS: 1, NOT_FOUND: 2, FAILURE: 3 } as const;

class Truncated extends Error {}

type Fields = Map<number, Array<number | Buffer>>;

function readVarint(bytes: Buffer, start: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (let offset = start; offset < bytes.length && shift < 64; offset++) {
    const byte = bytes[offset];
    if (shift < 53) value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return [value, offset + 1];
  }
  throw new Truncated('bad varint');
}

/** Decodes one message level; throws on anything protobuf-java would reject (groups, truncation). */
function readFields(bytes: Buffer): Fields {
  const fields: Fields = new Map();
  let offset = 0;
  while (offset < bytes.length) {
    const [tag, afterTag] = readVarint(bytes, offset);
    const fieldNumber = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (fieldNumber === 0) throw new Truncated('field number 0');
    let value: number | Buffer;
    if (wireType === 0) {
      [value, offset] = readVarint(bytes, afterTag);
    } else if (wireType === 2) {
      const [length, afterLength] = readVarint(bytes, afterTag);
      if (afterLength + length > bytes.length) throw new Truncated('length past the end');
      value = bytes.subarray(afterLength, afterLength + length);
      offset = afterLength + length;
    } else if (wireType === 1 || wireType === 5) {
      offset = afterTag + (wireType === 1 ? 8 : 4);
      if (offset > bytes.length) throw new Truncated('fixed field past the end');
      continue;
    } else {
      throw new Truncated(`wire type ${wireType}`);
    }
    fields.set(fieldNumber, [...(fields.get(fieldNumber) ?? []), value]);
  }
  return fields;
}

function last(fields: Fields, fieldNumber: number): number | Buffer | undefined {
  const values = fields.get(fieldNumber);
  return values ? values[values.length - 1] : undefined;
}

function stringField(fields: Fields, fieldNumber: number): string {
  const value = last(fields, fieldNumber);
  return Buffer.isBuffer(value) ? value.toString('utf8') : '';
}

function messageField(fields: Fields, fieldNumber: number): Fields {
  const value = last(fields, fieldNumber);
  return Buffer.isBuffer(value) ? readFields(value) : (new Map() as Fields);
}

export type ProtobufRequest = { kind: 'request'; request: ProvisionRequest } | { kind: 'structural'; reason: string } | { kind: 'invalid' };

export function decodeProvisionRequest(bytes: Buffer): ProtobufRequest {
  try {
    const message = readFields(bytes);
    const typeNumber = last(message, 2);
    const credentialsType = CREDENTIALS_TYPES[typeof typeNumber === 'number' ? typeNumber : 0];
    if (!credentialsType) return { kind: 'structural', reason: 'unknown credentialsType' };
    const keys = messageField(message, 3);
    const data = messageField(message, 4);
    const token = messageField(data, 1);
    const x509 = messageField(data, 2);
    const basic = messageField(data, 3);
    const gateway = last(message, 5);
    return {
      kind: 'request',
      request: {
        deviceName: stringField(message, 1),
        provisionDeviceKey: stringField(keys, 1),
        provisionDeviceSecret: stringField(keys, 2),
        credentialsType,
        token: stringField(token, 1),
        hash: stringField(x509, 1),
        clientId: stringField(basic, 1),
        username: stringField(basic, 2),
        password: stringField(basic, 3),
        gateway: typeof gateway === 'number' && gateway !== 0,
      },
    };
  } catch (error) {
    if (error instanceof Truncated) return { kind: 'invalid' };
    throw error;
  }
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** ProvisionDeviceResponseMsg{status=1, credentialsType=2, credentialsValue=3}; defaults are omitted. */
export function encodeProvisionResponse(status: keyof typeof RESPONSE_STATUS, credentialsType?: string, credentialsValue?: string): Buffer {
  const parts: Buffer[] = [Buffer.from([0x08]), varint(RESPONSE_STATUS[status])];
  const typeNumber = credentialsType ? CREDENTIALS_TYPES.indexOf(credentialsType as RequestCredentialsType) : 0;
  if (typeNumber > 0) parts.push(Buffer.from([0x10]), varint(typeNumber));
  if (credentialsValue) {
    const text = Buffer.from(credentialsValue, 'utf8');
    parts.push(Buffer.from([0x1a]), varint(text.length), text);
  }
  return Buffer.concat(parts);
}
