import { ProvisionError } from '../errors';
import type { ResolvedServer } from '../types';

/** Socket errors meaning "nothing is there to talk to". */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EADDRNOTAVAIL',
]);

/** OpenSSL certificate-verification codes as Node reports them, plus Node's own ERR_TLS_* / ERR_SSL_* codes. */
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|INVALID_CA|PATH_LENGTH_|INVALID_PURPOSE|ERROR_IN_CERT)/;

const TLS_ADVICE: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate is not signed by the CA you gave: give the CA that signed the GridLinks server certificate.',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the server certificate is not signed by a trusted CA: give the CA that signed it.',
  SELF_SIGNED_CERT_IN_CHAIN: 'the server chain ends in a CA you did not give: give that CA certificate.',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server uses a self-signed certificate: give that certificate as the CA.',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate is not issued for this host name: connect with the name in the certificate, or set the servername.',
  CERT_HAS_EXPIRED: "the server certificate has expired: renew it on the server (and check this machine's clock).",
  CERT_NOT_YET_VALID: "the server certificate is not valid yet: check this machine's clock.",
};

export function errorCodeOf(error: unknown): string | number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' || typeof code === 'number' ? code : undefined;
}

export function isTlsErrorCode(code: string): boolean {
  return TLS_CODE.test(code);
}

function where(server: ResolvedServer): string {
  return `${server.host}:${server.port}`;
}

function portHint(server: ResolvedServer): string {
  if (server.transport === 'http') return server.tls ? 'HTTPS, usually 443' : 'plain HTTP, usually 8080';
  return server.tls ? 'TLS, usually 8883' : 'plain MQTT, usually 1883';
}

/** mqtt-packet's parser errors: the bytes that came back are not MQTT packets. */
const MQTT_PARSE_ERROR = /^(Invalid |Malformed |Packet too short|Cannot parse|Unknown packet)/;

/** An error before the request was published: nothing was sent, a retry is safe. */
export function connectError(error: unknown, server: ResolvedServer): ProvisionError {
  const code = errorCodeOf(error);
  const options = { cause: error };
  if (typeof code === 'number') return connectRefused(code, server);
  if (code !== undefined && UNREACHABLE_CODES.has(code)) {
    return new ProvisionError(
      'UNREACHABLE',
      `Cannot reach GridLinks at ${where(server)} (${code}): check the host name, the port (${portHint(server)}) and that the server is running and reachable from here. Nothing was sent.`,
      { reason: code, requestSent: false },
      options,
    );
  }
  const notAuthorized = /TLS not authorized/.test(String((error as Error | undefined)?.message));
  if (server.tls && ((typeof code === 'string' && isTlsErrorCode(code)) || notAuthorized)) {
    const reason = typeof code === 'string' ? code : 'TLS_NOT_AUTHORIZED';
    const untrusted = /ISSUER|LEAF_SIGNATURE|SELF_SIGNED|UNTRUSTED/.test(reason);
    const advice =
      untrusted && server.ca === undefined
        ? "the server certificate is not signed by a CA this system trusts: give the CA that signed it (the CA option, e.g. the simulator's ca.pem)."
        : (TLS_ADVICE[reason] ?? 'check the CA certificate, the servername and the server certificate.');
    return new ProvisionError(
      'TLS',
      `TLS handshake with ${where(server)} failed (${reason}): ${advice} Nothing was sent.`,
      { reason, requestSent: false },
      options,
    );
  }
  if (server.tls && code === 'ECONNRESET') {
    return new ProvisionError(
      'TLS',
      `The connection to ${where(server)} was reset during the TLS handshake (ECONNRESET): check that this port speaks MQTT over TLS (or turn TLS off for a plain port). Nothing was sent.`,
      { reason: code, requestSent: false },
      options,
    );
  }
  if (code === undefined && server.transport === 'mqtt' && MQTT_PARSE_ERROR.test(String((error as Error | undefined)?.message))) {
    return new ProvisionError(
      'CONNECTION_CLOSED',
      `${where(server)} answered with something that is not MQTT: this port does not speak MQTT (an HTTP port such as 8080 or 443, or another service?). Give GridLinks' MQTT port (${portHint(server)}). Nothing was sent.`,
      { reason: 'NOT_MQTT', requestSent: false },
      options,
    );
  }
  return new ProvisionError(
    'CONNECTION_CLOSED',
    `The connection to ${where(server)} failed before the request was sent${code ? ` (${code})` : ''}: check that this port is GridLinks' MQTT port${server.tls ? ' with TLS' : ' without TLS'}. Nothing was sent.`,
    { ...(code === undefined ? {} : { reason: String(code) }), requestSent: false },
    options,
  );
}

export function connectRefused(returnCode: number, server: ResolvedServer): ProvisionError {
  return new ProvisionError(
    'CONNECT_REFUSED',
    `GridLinks at ${where(server)} refused the provisioning connection (CONNACK code ${returnCode}): check that this is a GridLinks/ThingsBoard device API port and that the server is healthy (code 3 / 0x88 = server unavailable, retry later). Nothing was sent.`,
    { returnCode, requestSent: false },
  );
}

export function connectTimeout(server: ResolvedServer): ProvisionError {
  return new ProvisionError(
    'TIMEOUT',
    `No MQTT connection to ${where(server)} within ${server.connectTimeoutMs} ms: check host, port and TLS setting (a TLS client on a plain port, or the reverse, waits like this) and firewalls. Nothing was sent; retrying is safe.`,
    { requestSent: false },
  );
}

export function closedBeforeSending(server: ResolvedServer): ProvisionError {
  return new ProvisionError(
    'CONNECTION_CLOSED',
    `GridLinks at ${where(server)} closed the connection before the request was sent: check that this port is GridLinks' MQTT port and that TLS is ${server.tls ? 'on' : 'off'} there (a plain client on a TLS port is closed like this). Nothing was sent.`,
    { requestSent: false },
  );
}

/** The server acknowledged the request (PUBACK) and then dropped the session without an answer. */
export function rejectedWithoutAnswer(server: ResolvedServer, returnCode?: number): ProvisionError {
  const code = returnCode === undefined ? '' : ` (PUBACK reason 0x${returnCode.toString(16)})`;
  return new ProvisionError(
    'CONNECTION_CLOSED',
    `GridLinks at ${where(server)} took the request${code} and closed the session without an answer: it found the request malformed, or its core failed (e.g. a key that belongs to an X.509-chain profile, or an internal timeout). Check the provision key and the server logs; no device was created.`,
    { requestSent: true, ...(returnCode !== undefined ? { returnCode } : {}) },
  );
}

export function outcomeUnknown(server: ResolvedServer, why: string, cause?: unknown): ProvisionError {
  return new ProvisionError(
    'OUTCOME_UNKNOWN',
    `The request was sent to ${where(server)} but ${why}: the device may now exist. Check it in GridLinks before retrying (a second request for the same name fails if it does).`,
    { requestSent: true, ...(errorCodeOf(cause) !== undefined ? { reason: String(errorCodeOf(cause)) } : {}) },
    cause === undefined ? undefined : { cause },
  );
}

export function aborted(requestSent: boolean): ProvisionError {
  return new ProvisionError(
    'ABORTED',
    requestSent
      ? 'Provisioning was cancelled after the request was sent: the device may now exist; check it in GridLinks before retrying.'
      : 'Provisioning was cancelled before anything was sent.',
    { requestSent },
  );
}

/** The server announced a packet bigger than maxAnswerBytes: the session was ended before reading it. */
export function answerTooLarge(server: ResolvedServer, announcedBytes: number, requestSent: boolean): ProvisionError {
  const outcome = requestSent ? 'The request had been sent: the device may have been created; check it in GridLinks before retrying.' : 'Nothing was sent.';
  return new ProvisionError(
    'BAD_RESPONSE',
    `GridLinks at ${where(server)} sent a packet of ${announcedBytes} bytes, more than the limit of ${server.maxAnswerBytes} (maxAnswerBytes); the session was ended without reading it. ${outcome}`,
    { requestSent },
  );
}
