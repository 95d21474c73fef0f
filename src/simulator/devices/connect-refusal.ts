import type * as mqttPacket from 'mqtt-packet';
import { REFUSE_BAD_CREDENTIALS, REFUSE_NOT_AUTHORIZED, protocolVersionOf, type Refusal } from '../packets';

/**
 * Refusals GridLinks decides from the CONNECT fields alone, before looking for a device (protocol-more.md §3),
 * for sessions without a client certificate: MQTT 5 password without user name → 0x86; no user name, no
 * password and an empty client id → 0x87 (3.1.1: 5). Null when the CONNECT goes on to authentication.
 */
export function refusalByConnectFields(connect: mqttPacket.IConnectPacket): { refusal: Refusal; reason: string } | null {
  const hasUsername = connect.username !== undefined && connect.username !== '';
  const hasPassword = connect.password !== undefined;
  if (!hasUsername && hasPassword && protocolVersionOf(connect) === 5) {
    return { refusal: REFUSE_BAD_CREDENTIALS, reason: 'password without a user name' };
  }
  if (!hasUsername && !hasPassword && !connect.clientId) {
    return { refusal: REFUSE_NOT_AUTHORIZED, reason: 'no user name, no password and an empty client id' };
  }
  return null;
}
