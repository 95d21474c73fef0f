import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import { aborted, errorCodeOf, outcomeUnknown } from '../net';
import { asError } from '../errors';
import { answerTooLarge, brokenAnswer, httpConnectError, httpConnectTimeout, httpStatusError, notHttp } from './http-errors';
import type { PhaseLaps } from '../timing';
import type { ResolvedServer } from '../types';

export const PROVISION_PATH = '/api/v1/provision';

/**
 * One HTTP(S) provisioning request: POST /api/v1/provision with the JSON payload, read the answer (HTTP 200
 * for SUCCESS, NOT_FOUND and FAILURE alike). The connection is opened at once while the payload may still be
 * in the making; the body goes out when it is ready. The request counts as sent once its last byte was handed
 * to the operating system ('finish'). Resolves with the answer bytes, rejects with a ProvisionError (or the
 * payload's own error), in both cases only after the socket is closed.
 */
export function exchangeProvisionRequestHttp(
  server: ResolvedServer,
  requestPayload: string | Promise<string>,
  signal?: AbortSignal,
  laps?: PhaseLaps,
): Promise<Buffer> {
  if (signal?.aborted) return Promise.reject(aborted(false));
  return new Promise((resolve, reject) => {
    const request = (server.tls ? https : http).request({
      host: server.host,
      port: server.port,
      path: PROVISION_PATH,
      method: 'POST',
      // One fresh connection per request, closed afterwards: nothing pooled outlives the message.
      agent: false,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', Connection: 'close' },
      ...(server.tls ? { ca: server.ca, servername: server.servername, rejectUnauthorized: server.rejectUnauthorized } : {}),
    });
    let socket: Socket | undefined;
    let socketClosed = false;
    let requestClosed = false;
    let connected = false;
    let finished = false;
    let sent = false;
    let settled = false;
    /** A status line was read: whatever breaks after it, the answer came from something that speaks HTTP. */
    let answered = false;
    let outcome: { answer: Buffer } | { error: Error } | undefined;
    let timer: NodeJS.Timeout | undefined = setTimeout(() => finish({ error: httpConnectTimeout(server) }), server.connectTimeoutMs);

    const onAbort = (): void => finish({ error: aborted(sent) });
    signal?.addEventListener('abort', onAbort, { once: true });

    function finish(result: { answer: Buffer } | { error: Error }): void {
      if (settled) return;
      settled = true;
      outcome = result;
      clearTimeout(timer);
      timer = undefined;
      signal?.removeEventListener('abort', onAbort);
      if ('answer' in result) laps?.lap('answer');
      request.destroy();
      settleWhenClosed();
    }

    function settleWhenClosed(): void {
      if (!settled || !requestClosed || (socket !== undefined && !socketClosed) || outcome === undefined) return;
      const done = outcome;
      outcome = undefined;
      if ('answer' in done) resolve(done.answer);
      else reject(done.error);
    }

    /**
     * After the request went out, only an answer that was read and says so proves no device was made. Bytes
     * that never began like HTTP come from another service, which cannot have handled the request; an answer
     * that began as HTTP and then broke Node's parser (a non-conforming proxy) may follow a created device.
     */
    function lost(cause: unknown): void {
      if (!sent) return finish({ error: httpConnectError(cause, server) });
      const code = errorCodeOf(cause);
      if (typeof code === 'string' && code.startsWith('HPE_')) {
        if (!answered && code === 'HPE_INVALID_CONSTANT' && !startsLikeHttp(cause)) return finish({ error: notHttp(server, cause) });
        return finish({ error: brokenAnswer(server, code, cause) });
      }
      finish({ error: outcomeUnknown(server, `the connection was lost before the answer${code ? ` (${code})` : ''}`, cause) });
    }

    request.on('socket', (assigned: Socket) => {
      socket = assigned;
      assigned.once('close', () => {
        socketClosed = true;
        settleWhenClosed();
      });
      assigned.once(server.tls ? 'secureConnect' : 'connect', () => {
        connected = true;
        if (settled) return;
        clearTimeout(timer);
        timer = undefined;
        laps?.lap('connect');
        markSentWhenOut();
      });
    });
    request.once('close', () => {
      requestClosed = true;
      settleWhenClosed();
    });
    // Stays attached after settling: a late socket error must neither throw nor change the outcome.
    request.on('error', (error: Error) => lost(error));
    // 'finish' can come before the connection (or TLS handshake) is up: the bytes then wait in the socket.
    request.once('finish', () => {
      finished = true;
      markSentWhenOut();
    });

    function markSentWhenOut(): void {
      if (settled || sent || !connected || !finished) return;
      sent = true;
      clearTimeout(timer);
      timer = setTimeout(() => finish({ error: outcomeUnknown(server, `no answer came within ${server.answerTimeoutMs} ms`) }), server.answerTimeoutMs);
    }
    request.once('response', (response: http.IncomingMessage) => readAnswer(response));

    function readAnswer(response: http.IncomingMessage): void {
      answered = true;
      if (settled) {
        response.resume();
        return;
      }
      // An answer proves the request arrived, even one that came before 'finish'; the answer timer covers its body.
      connected = true;
      finished = true;
      markSentWhenOut();
      const status = response.statusCode ?? 0;
      if (status !== 200 && status !== 500) {
        response.resume();
        return finish({ error: httpStatusError(server, status) });
      }
      // A 500's body tells GridLinks' own error (no device) from a proxy's.
      const limit = status === 500 ? ERROR_BODY_BYTES : server.maxAnswerBytes;
      const declared = Number(response.headers['content-length']);
      if (status === 200 && Number.isFinite(declared) && declared > limit) return finish({ error: answerTooLarge(server) });
      const chunks: Buffer[] = [];
      let length = 0;
      response.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length <= limit) return void chunks.push(chunk);
        if (status === 500) return finish({ error: httpStatusError(server, 500) });
        finish({ error: answerTooLarge(server) });
      });
      response.once('end', () =>
        finish(status === 500 ? { error: httpStatusError(server, 500, Buffer.concat(chunks).toString('utf8')) } : { answer: Buffer.concat(chunks) }),
      );
      response.once('aborted', () => lost(Object.assign(new Error('answer cut off'), { code: 'ECONNRESET' })));
      response.on('error', (error: Error) => lost(error));
    }

    Promise.resolve(requestPayload).then(
      (payload) => {
        if (settled) return;
        laps?.restart();
        request.setHeader('Content-Length', Buffer.byteLength(payload));
        request.end(payload);
      },
      (error: unknown) => finish({ error: asError(error) }),
    );
  });
}

/** GridLinks' error body (`{"status": 500, "message", "errorCode", "timestamp"}`) is small; a larger one is not its. */
const ERROR_BODY_BYTES = 4096;

/** Node's parse errors carry the bytes they failed on: an answer whose first bytes are "HTTP/" is an HTTP answer. */
function startsLikeHttp(cause: unknown): boolean {
  const raw = (cause as { rawPacket?: unknown }).rawPacket;
  return Buffer.isBuffer(raw) && raw.subarray(0, 5).toString('latin1') === 'HTTP/';
}
