import { newPendingRecord, serverOf, type PendingRecord } from './pending-record';
import type { ResolvedOptions } from '../types';

/** Extra time, beyond its connect and answer timeouts, after which a sending run has surely settled. */
const SETTLE_MARGIN_MS = 30_000;

/** The pending record for this request: what it sends that a later resume needs (never the key). */
export function pendingRecordFor(resolved: ResolvedOptions, certificate?: string, privateKey?: string): PendingRecord {
  const base = {
    deviceName: resolved.deviceName ?? null,
    credentialsType: resolved.credentialsType,
    server: serverOf(resolved.server),
    ...(resolved.gateway ? { gateway: true as const } : {}),
  };
  const settleWithinMs = resolved.server.connectTimeoutMs + resolved.server.answerTimeoutMs + SETTLE_MARGIN_MS;
  if (certificate !== undefined) {
    return newPendingRecord({ ...base, certificate, ...(privateKey !== undefined ? { privateKeyFile: true } : {}) }, settleWithinMs);
  }
  if (resolved.credentialsType === 'ACCESS_TOKEN' && resolved.token !== undefined) {
    return newPendingRecord({ ...base, credentials: { accessToken: resolved.token } }, settleWithinMs);
  }
  if (resolved.credentialsType === 'MQTT_BASIC' && (resolved.clientId ?? resolved.username ?? resolved.password) !== undefined) {
    const credentials = {
      ...(resolved.clientId !== undefined ? { clientId: resolved.clientId } : {}),
      ...(resolved.username !== undefined ? { userName: resolved.username } : {}),
      ...(resolved.password !== undefined ? { password: resolved.password } : {}),
    };
    return newPendingRecord({ ...base, credentials }, settleWithinMs);
  }
  return newPendingRecord({ ...base, serverGenerated: true }, settleWithinMs);
}
