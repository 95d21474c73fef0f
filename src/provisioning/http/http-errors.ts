import { ProvisionError } from '../errors';
import { connectError, errorCodeOf, outcomeUnknown } from '../net';
import type { ResolvedServer } from '../types';

/** HTTP(S) provisioning outcomes that are not an answer, mapped onto the stable error codes. */

function where(server: ResolvedServer): string {
  return `${server.tls ? 'https' : 'http'}://${server.host}:${server.port}`;
}

/** A socket or TLS error before the request body was handed to the operating system: nothing was sent. */
export function httpConnectError(cause: unknown, server: ResolvedServer): ProvisionError {
  const mapped = connectError(cause, server);
  if (mapped.code !== 'CONNECTION_CLOSED') return mapped;
  const code = errorCodeOf(cause);
  if (server.tls && code === 'EPROTO') {
    return new ProvisionError(
      'TLS',
      `TLS handshake with ${where(server)} failed (EPROTO): this port does not speak TLS; use GridLinks' HTTPS port, or turn TLS off for its plain HTTP port. Nothing was sent.`,
      { reason: 'EPROTO', requestSent: false },
      { cause },
    );
  }
  return new ProvisionError(
    'CONNECTION_CLOSED',
    `The connection to ${where(server)} failed before the request was sent${code ? ` (${code})` : ''}: check that this port is GridLinks' HTTP${server.tls ? 'S' : ''} port. Nothing was sent.`,
    { reason: code === undefined ? undefined : String(code), requestSent: false },
    { cause },
  );
}

export function httpConnectTimeout(server: ResolvedServer): ProvisionError {
  return new ProvisionError(
    'TIMEOUT',
    `No HTTP${server.tls ? 'S' : ''} connection to ${where(server)} within ${server.connectTimeoutMs} ms: check host, port and TLS setting and firewalls. Nothing was sent; retrying is safe.`,
    { requestSent: false },
  );
}

/** The bytes that came back are not HTTP: whatever listens there cannot have read a provision request. */
export function notHttp(server: ResolvedServer, cause: unknown): ProvisionError {
  return new ProvisionError(
    'CONNECTION_CLOSED',
    `${where(server)} answered with bytes that are not HTTP (${String(errorCodeOf(cause))}): check that this port is GridLinks' HTTP${server.tls ? 'S' : ''} port and that TLS is ${server.tls ? 'on' : 'off'} there. No device was created.`,
    { requestSent: true, reason: String(errorCodeOf(cause)) },
    { cause },
  );
}

/**
 * An answer that began as HTTP but that Node's parser refused (an oversized header, two Content-Length
 * headers, a bad chunk size, LF-only line ends: a non-conforming proxy in between): the request was
 * handled, perhaps creating the device, so the outcome is unknown and a pending key is kept.
 */
export function brokenAnswer(server: ResolvedServer, code: string, cause: unknown): ProvisionError {
  return outcomeUnknown(server, `the answer could not be read as HTTP (${code}; a proxy in between that does not follow HTTP/1.1 sends this)`, cause);
}

/**
 * A status other than 200. GridLinks answers 200 for SUCCESS, NOT_FOUND and FAILURE alike and 500 for a
 * body it cannot parse or an internal error (no device); a proxy's 502/504 may follow a request that
 * reached the server; anything else (404: no such route, 401/403: a proxy's refusal, 3xx) was not handled.
 */
export function httpStatusError(server: ResolvedServer, status: number, body?: string): ProvisionError {
  const details = { requestSent: true, httpStatus: status };
  // Only GridLinks' own error body says it made no device; a proxy's 500 may follow a request the server handled.
  if (status === 500 && !isPlatformError(body)) return outcomeUnknownWithStatus(server, status);
  if (status === 500) {
    return new ProvisionError(
      'CONNECTION_CLOSED',
      `GridLinks at ${where(server)} answered HTTP 500 without an answer: it found the request malformed, or its core failed (e.g. a key that belongs to an X.509-chain profile, or an internal timeout). Check the provision key and the server logs; no device was created.`,
      details,
    );
  }
  if (status >= 500) {
    return outcomeUnknownWithStatus(server, status);
  }
  const advice =
    status >= 300 && status < 400
      ? 'the address redirects elsewhere: use the final address (and TLS setting) directly'
      : status === 404 || status === 405
        ? "this port does not serve GridLinks' device API (/api/v1/provision): check the port"
        : 'a proxy or the server refused the request: check the address and any proxy in between';
  return new ProvisionError(
    'CONNECT_REFUSED',
    `${where(server)} answered HTTP ${status} to the provision request: ${advice}. The request was not processed; no device was created.`,
    details,
  );
}

/** ThingsBoard's `ThingsboardErrorResponse` JSON: `{"status": 500, "message": "...", "errorCode": n, "timestamp": t}`. */
function isPlatformError(body: string | undefined): boolean {
  if (body === undefined) return false;
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    return parsed.status === 500 && typeof parsed.message === 'string' && typeof parsed.errorCode === 'number';
  } catch {
    return false;
  }
}

function outcomeUnknownWithStatus(server: ResolvedServer, status: number): ProvisionError {
  const error = outcomeUnknown(server, `the answer was HTTP ${status} (a proxy's error; the server may have handled the request)`);
  return new ProvisionError(error.code, error.message, { ...error.details, httpStatus: status });
}

export function answerTooLarge(server: ResolvedServer): ProvisionError {
  return new ProvisionError(
    'BAD_RESPONSE',
    `GridLinks at ${where(server)} answered with more than ${server.maxAnswerBytes} bytes; it was not read. The device may have been created; check it in GridLinks before retrying.`,
    { requestSent: true },
  );
}
