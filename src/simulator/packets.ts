import * as mqttPacket from 'mqtt-packet';

export type ProtocolVersion = 3 | 4 | 5;

/** MQTT 5 reason codes the simulator sends (protocol.md §1, §3, §5). */
export const REASON = {
  noSubscriptionExisted: 0x11,
  unspecifiedError: 0x80,
  malformedPacket: 0x81,
  implementationSpecificError: 0x83,
  clientIdentifierNotValid: 0x85,
  badUserNameOrPassword: 0x86,
  notAuthorized: 0x87,
  serverUnavailable: 0x88,
  sessionTakenOver: 0x8e,
  topicFilterInvalid: 0x8f,
  topicNameInvalid: 0x90,
  quotaExceeded: 0x97,
  administrativeAction: 0x98,
  payloadFormatInvalid: 0x99,
  connectionRateExceeded: 0x9f,
} as const;

/** A CONNACK refusal, as a 3.1.1 return code and an MQTT 5 reason code. */
export interface Refusal {
  v3: number;
  v5: number;
}

export const REFUSE_NOT_AUTHORIZED: Refusal = { v3: 5, v5: REASON.notAuthorized };
export const REFUSE_BAD_CREDENTIALS: Refusal = { v3: 5, v5: REASON.badUserNameOrPassword };
export const REFUSE_IDENTIFIER: Refusal = { v3: 2, v5: REASON.clientIdentifierNotValid };

const V3_TO_V5: Record<number, number> = { 1: 0x84, 2: 0x85, 3: 0x88, 4: 0x86, 5: 0x87 };
const V5_TO_V3: Record<number, number> = { 0x84: 1, 0x85: 2, 0x88: 3, 0x86: 4, 0x87: 5, 0x8c: 5, 0x9f: 3 };

/** A single CONNACK code (e.g. from --fault-refuse-connect) expressed for both protocol families. */
export function refusalFromCode(code: number): Refusal {
  if (code >= 0x80) return { v3: V5_TO_V3[code] ?? 5, v5: code };
  return { v3: code, v5: V3_TO_V5[code] ?? REASON.unspecifiedError };
}

export function protocolVersionOf(connect: mqttPacket.IConnectPacket): ProtocolVersion {
  if (connect.protocolVersion === 3 || connect.protocolVersion === 5) return connect.protocolVersion;
  return 4;
}

/** Writes one packet in the connection's protocol version; false when the socket is gone. */
export function writePacket(stream: NodeJS.WritableStream & { destroyed?: boolean }, packet: mqttPacket.Packet, version: ProtocolVersion): boolean {
  if (stream.destroyed) return false;
  mqttPacket.writeToStream(packet, stream, { protocolVersion: version });
  return true;
}

export function connackPacket(version: ProtocolVersion, refusal: Refusal | null, sessionPresent = false): mqttPacket.IConnackPacket {
  if (version === 5) return { cmd: 'connack', reasonCode: refusal ? refusal.v5 : 0, sessionPresent };
  return { cmd: 'connack', returnCode: refusal ? refusal.v3 : 0, sessionPresent };
}
