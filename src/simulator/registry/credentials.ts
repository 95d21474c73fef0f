import { randomInt } from 'node:crypto';
// GridLinks' credential-id rules, shared with the client core: one implementation serves both sides.
import { sha3Hex, trimCertificate as certTrimNewLines } from '../../provisioning/x509';
import type { DeviceCredentialsRecord } from '../types';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** StringUtils.randomAlphanumeric: [A-Za-z0-9], used for generated device names and tokens. */
export function randomAlphanumeric(length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return text;
}

export interface BasicCredentials {
  clientId: string;
  userName: string;
  password: string;
}

/** credentialsId of MQTT_BASIC credentials: userName | sha3(clientId) | sha3(clientId|userName). */
export function basicCredentialsId(clientId: string, userName: string): string {
  if (!clientId) return userName;
  if (!userName) return sha3Hex(clientId);
  return sha3Hex(`${clientId}|${userName}`);
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

export function hasControlCharacters(text: string): boolean {
  return CONTROL_CHARS.test(text);
}

/** DeviceCredentialsDataValidator rules for MQTT_BASIC; returns the (log-only) reason or null when valid. */
export function basicCredentialsProblem(basic: BasicCredentials): string | null {
  if (!basic.clientId && !basic.userName) return 'Both mqtt client id and user name are empty!';
  if (basic.clientId && !basic.userName && basic.password) return 'Password cannot be specified along with client id';
  if ([basic.clientId, basic.userName, basic.password].some((field) => CONTROL_CHARS.test(field))) {
    return 'MQTT credentials contain control characters';
  }
  return null;
}

export function accessTokenCredentials(token: string): DeviceCredentialsRecord {
  return { credentialsType: 'ACCESS_TOKEN', credentialsValue: token, credentialsId: token };
}

export function basicCredentials(basic: BasicCredentials): DeviceCredentialsRecord {
  const value = JSON.stringify({ clientId: basic.clientId, userName: basic.userName, password: basic.password });
  return { credentialsType: 'MQTT_BASIC', credentialsValue: value, credentialsId: basicCredentialsId(basic.clientId, basic.userName) };
}

export function x509Credentials(certificate: string): DeviceCredentialsRecord {
  const trimmed = certTrimNewLines(certificate);
  return { credentialsType: 'X509_CERTIFICATE', credentialsValue: trimmed, credentialsId: sha3Hex(trimmed) };
}

/** The stored MQTT_BASIC JSON as the answer's credentialsValue: fields stored as null stay null (pre-provisioned devices). */
export function basicAnswerValue(credentialsValue: string): Record<string, string | null> {
  const parsed = JSON.parse(credentialsValue) as Record<string, string | null | undefined>;
  return { clientId: parsed.clientId ?? null, userName: parsed.userName ?? null, password: parsed.password ?? null };
}

/** MQTT_BASIC credentials of a device listed before provisioning: absent fields are stored as null, as GridLinks stores them. */
export function preProvisionedBasicCredentials(fields: { clientId?: string; userName?: string; password?: string }): DeviceCredentialsRecord {
  const value = JSON.stringify({ clientId: fields.clientId ?? null, userName: fields.userName ?? null, password: fields.password ?? null });
  return { credentialsType: 'MQTT_BASIC', credentialsValue: value, credentialsId: basicCredentialsId(fields.clientId ?? '', fields.userName ?? '') };
}

export function parseBasicValue(credentialsValue: string): BasicCredentials {
  const parsed = JSON.parse(credentialsValue) as Partial<BasicCredentials>;
  return { clientId: parsed.clientId ?? '', userName: parsed.userName ?? '', password: parsed.password ?? '' };
}
