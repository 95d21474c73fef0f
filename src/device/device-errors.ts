import { connectError, errorCodeOf } from '../provisioning/net';
import { ProvisionError } from '../provisioning/errors';
import type { ResolvedServer } from '../provisioning/types';

function where(server: ResolvedServer): string {
  return `${server.host}:${server.port}`;
}

/** Why a device's session could not be opened: the core's classification, with the device named. */
export function deviceConnectError(error: unknown, server: ResolvedServer, deviceName: string): ProvisionError {
  const code = errorCodeOf(error);
  if (typeof code === 'number') return deviceRefused(code, server, deviceName);
  const classified = connectError(error, server);
  const message = classified.message.replace(/ Nothing was sent\.$/, '').replace(/^/, `Device "${deviceName}": `);
  return new ProvisionError(classified.code, `${message} The message was not sent.`, { ...classified.details, deviceName }, { cause: error });
}

export function deviceRefused(returnCode: number, server: ResolvedServer, deviceName: string): ProvisionError {
  const unavailable = returnCode === 3 || returnCode === 0x88;
  const advice = unavailable
    ? 'the server is unavailable: retry later.'
    : 'its credentials are wrong, or the device (or its credentials) was deleted or changed in GridLinks: provision it again or check it there.';
  return new ProvisionError(
    'CONNECT_REFUSED',
    `GridLinks at ${where(server)} refused device "${deviceName}" (CONNACK code ${returnCode}): ${advice} The message was not sent.`,
    { returnCode, deviceName, requestSent: false },
  );
}

/** Opening the session threw before anything was sent (credentials TLS or MQTT cannot use). */
export function sessionNotOpened(deviceName: string, error: unknown): ProvisionError {
  return new ProvisionError(
    'INVALID_INPUT',
    `Device "${deviceName}": no session can be opened with these credentials (${(error as Error)?.message ?? String(error)}). The message was not sent.`,
    { field: 'device', deviceName, requestSent: false },
    { cause: error },
  );
}

export function deviceConnectTimeout(server: ResolvedServer, deviceName: string): ProvisionError {
  return new ProvisionError(
    'TIMEOUT',
    `Device "${deviceName}": no MQTT session with ${where(server)} within ${server.connectTimeoutMs} ms: check host, port, TLS setting and firewalls. The message was not sent; retrying is safe.`,
    { deviceName, requestSent: false },
  );
}

export function deviceConnectionClosed(server: ResolvedServer, deviceName: string): ProvisionError {
  return new ProvisionError(
    'CONNECTION_CLOSED',
    `GridLinks at ${where(server)} closed the session of device "${deviceName}" before it was ready: check that this port is GridLinks' MQTT port and that TLS is ${server.tls ? 'on' : 'off'} there. The message was not sent.`,
    { deviceName, requestSent: false },
  );
}

/** Why no PUBACK came: none within the answer timeout, the session was lost, or the node closed it. */
export type UnacknowledgedReason = 'NO_ACK' | 'LOST' | 'CLOSED';

/** A QoS 1 PUBLISH went out and no PUBACK came (connection lost, or no answer in time). */
export function publishUnacknowledged(server: ResolvedServer, deviceName: string, why: string, reason: UnacknowledgedReason): ProvisionError {
  return new ProvisionError(
    'OUTCOME_UNKNOWN',
    `The message of device "${deviceName}" was sent to ${where(server)} but ${why}: GridLinks may or may not have it. Send it again if a duplicate does no harm.`,
    { deviceName, requestSent: true, reason },
  );
}

export function attributesTimeout(server: ResolvedServer, deviceName: string): ProvisionError {
  return new ProvisionError(
    'TIMEOUT',
    `Device "${deviceName}": GridLinks at ${where(server)} did not answer the attribute request within ${server.answerTimeoutMs} ms. Asking again is safe.`,
    { deviceName, requestSent: true },
  );
}

export function queueFull(deviceName: string, limit: number): ProvisionError {
  return new ProvisionError(
    'QUEUE_FULL',
    `Device "${deviceName}" already has ${limit} messages waiting for its connection: this one was not sent. Slow the flow down for this device, or raise the node's queue size.`,
    { deviceName, requestSent: false },
  );
}

export function queueBudgetFull(deviceName: string, limitBytes: number): ProvisionError {
  const megabytes = Math.round((limitBytes / (1024 * 1024)) * 100) / 100;
  return new ProvisionError(
    'QUEUE_FULL',
    `The node's queue budget of ${megabytes} MB (payloads of all devices waiting for their connection) is used up: this message of device "${deviceName}" was not sent. Check that GridLinks is reachable, slow the flow down, or raise the node's queue budget.`,
    { deviceName, requestSent: false, field: 'queueBudgetMB' },
  );
}

export function closedWhileQueued(deviceName: string): ProvisionError {
  return new ProvisionError('ABORTED', `The connection of device "${deviceName}" was closed (node stopped or redeployed) before this message was sent.`, {
    deviceName,
    requestSent: false,
  });
}

/** The PUBLISH would be larger than the server's packet limit: refused before it is queued, the session unharmed. */
export function packetTooLarge(deviceName: string, size: number, limit: number): ProvisionError {
  return new ProvisionError(
    'INVALID_INPUT',
    `The message of device "${deviceName}" would be a packet of ${size} bytes (topic, packet id and payload), over the server's limit of ${limit} bytes: GridLinks would close the session. Split it into several messages. It was not sent.`,
    { field: 'payload', deviceName, requestSent: false },
  );
}

/** MQTT 5 DISCONNECT reason codes a device session acts on (protocol-more.md §4). */
export const DISCONNECT_REASON = { implementationSpecific: 0x83, sessionTakenOver: 0x8e, quotaExceeded: 0x97, administrativeAction: 0x98 } as const;

/**
 * The session was taken over `times` in a row right after its login (MQTT 5: DISCONNECT 0x8E; 3.1.1:
 * closed by the server): another client logs in as the same device, and GridLinks allows one session per device.
 */
export function sessionTakenOver(server: ResolvedServer, deviceName: string, times: number, reasonCode: number | undefined): ProvisionError {
  const how = reasonCode === DISCONNECT_REASON.sessionTakenOver ? 'with DISCONNECT 0x8E "session taken over"' : 'right after its login';
  return new ProvisionError(
    'SESSION_TAKEN_OVER',
    `GridLinks at ${where(server)} closed the session of device "${deviceName}" ${how} ${times} times in a row: another session logged in as the same device (two flows or two Node-RED instances acting as one device, or another client with its credentials), and GridLinks keeps one session per device, so they knock each other off. The node stopped reconnecting it: its messages fail with this error until the node is redeployed. Let one client act as each device (provision a device per client).`,
    { deviceName, requestSent: false, ...(reasonCode !== undefined ? { returnCode: reasonCode } : {}) },
  );
}

/** MQTT 5 DISCONNECT 0x98: the device's credentials were updated (rotated by chain provisioning or by an administrator). */
export function credentialsUpdated(server: ResolvedServer, deviceName: string): ProvisionError {
  return new ProvisionError(
    'SESSION_TAKEN_OVER',
    `GridLinks at ${where(server)} closed the session of device "${deviceName}" by an administrative action (DISCONNECT 0x98): its credentials were updated (rotated by X.509 chain provisioning or changed by an administrator), or the device was changed. A login with the credentials used here would be refused, so the node stopped reconnecting it. A device of the store folder is read from it again before every login, and the store still holds the replaced credentials: renew it or provision it again into the store, and its next message reads them again. A device given as msg.device: send its new credentials in msg.device.`,
    { deviceName, requestSent: false, returnCode: DISCONNECT_REASON.administrativeAction },
  );
}

/**
 * The server closed the session (or refused the publish, 0x97) over its rate limits: `limits` as it announced
 * them, or undefined when it closed the session before it answered getSessionLimits (a burst sent at connect).
 */
export function rateLimited(server: ResolvedServer, deviceName: string, limits: string | undefined): ProvisionError {
  const why =
    limits === undefined
      ? ": over its rate limits, before it told them (the burst went out before the answer to getSessionLimits). The node's next session waits for the limits before it sends, and paces under them"
      : `: over its rate limits${limits ? ` (${limits})` : ''}. The node paces publishes under the limits the server announces; they were tripped anyway (another client of the device shares them, or the limits changed)`;
  return new ProvisionError(
    'RATE_LIMITED',
    `GridLinks at ${where(server)} closed the session of device "${deviceName}" right after a burst of publishes${why}. This message was probably refused, but may have arrived. Send it again after a pause if a duplicate does no harm.`,
    { deviceName, requestSent: true, reason: 'RATE_LIMITED' },
  );
}
