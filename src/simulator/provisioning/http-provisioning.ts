import * as http from 'node:http';
import * as https from 'node:https';
import { parseJsonProvisionRequest } from './provision-request';
import type { ProvisionService } from './provision-service';
import type { FaultSwitches } from '../types';

export const HTTP_PROVISION_PATH = '/api/v1/provision';
/** The simulator's own limit on a request body (GridLinks leaves it to its web server); bigger is 413. */
export const MAX_HTTP_BODY_BYTES = 65536;

export interface HttpProvisioningContext {
  service: ProvisionService;
  faults(): FaultSwitches;
  log: (line: string) => void;
}

function send(response: http.ServerResponse, status: number, body: Buffer | string, contentType = 'application/json'): void {
  if (response.writableEnded || response.destroyed) return;
  response.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
}

/**
 * ThingsBoard's error body for a 500 (`ThingsboardErrorResponse`: status, message, errorCode 2 = GENERAL,
 * timestamp), as its error handler answers a request it could not parse or a core error.
 */
function internalError(response: http.ServerResponse, message: string): void {
  send(response, 500, JSON.stringify({ status: 500, message, errorCode: 2, timestamp: Date.now() }));
}

/**
 * DeviceApiController.provisionDevice: POST /api/v1/provision with the same JSON as MQTT, answered with the same
 * JSON and HTTP 200 for SUCCESS, NOT_FOUND and FAILURE alike; an empty body is 400; a body it cannot parse
 * (or a core error) is 500 with ThingsBoard's error JSON.
 * JSON only: no protobuf on this route.
 */
export function handleProvisionHttp(request: http.IncomingMessage, response: http.ServerResponse, context: HttpProvisioningContext): void {
  const url = new URL(request.url ?? '/', 'http://simulator');
  if (url.pathname !== HTTP_PROVISION_PATH) {
    send(response, 404, JSON.stringify({ status: 404, error: 'Not Found', path: url.pathname }));
    request.resume();
    return;
  }
  if (request.method !== 'POST') {
    response.setHeader('Allow', 'POST');
    send(response, 405, JSON.stringify({ status: 405, error: 'Method Not Allowed', path: url.pathname }));
    request.resume();
    return;
  }
  const chunks: Buffer[] = [];
  let length = 0;
  let tooLarge = false;
  request.on('data', (chunk: Buffer) => {
    length += chunk.length;
    if (length > MAX_HTTP_BODY_BYTES) tooLarge = true;
    else chunks.push(chunk);
  });
  request.once('end', () => {
    if (tooLarge) {
      context.log(`http provision: body larger than ${MAX_HTTP_BODY_BYTES} bytes; 413`);
      send(response, 413, JSON.stringify({ status: 413, error: 'Payload Too Large', path: HTTP_PROVISION_PATH }));
      return;
    }
    onBody(Buffer.concat(chunks), response, context);
  });
}

function onBody(body: Buffer, response: http.ServerResponse, context: HttpProvisioningContext): void {
  const faults = context.faults();
  if (faults.closeAfterRequest) {
    context.log('http provision: request received; closing (fault close-after-request)');
    response.socket?.destroy();
    return;
  }
  if (faults.closeAfterPuback) {
    context.log('http provision: core error, 500 without a decision (fault close-after-puback)');
    internalError(response, 'Internal server error');
    return;
  }
  if (body.length === 0) {
    // Spring refuses a missing @RequestBody before the controller runs.
    context.log('http provision: empty body; 400');
    send(response, 400, JSON.stringify({ status: 400, error: 'Bad Request', path: HTTP_PROVISION_PATH }));
    return;
  }
  const parsed = parseJsonProvisionRequest(body.toString('utf8'));
  if (parsed === null || parsed.kind !== 'request') {
    const reason = parsed === null ? 'not JSON' : parsed.reason;
    context.log(`http provision: request cannot be read (${reason}); 500`);
    internalError(response, `Failed to parse provision request: ${reason}`);
    return;
  }
  context.service.decide(parsed.request).then(
    (decision) => {
      context.log(`provision ${decision.status} (http): ${decision.reason}`);
      answer(response, decision.body, context);
    },
    (error: unknown) => {
      context.log(`http provision: core error (${(error as Error).message}); 500`);
      internalError(response, 'Internal server error');
    },
  );
}

function answer(response: http.ServerResponse, decisionBody: Buffer, context: HttpProvisioningContext): void {
  const faults = context.faults();
  if (faults.noAnswer) {
    context.log('http provision: decided, not answering (fault no-answer)');
    return;
  }
  let body = decisionBody;
  if (faults.rawAnswer !== undefined) body = Buffer.from(faults.rawAnswer);
  else if (faults.garbageAnswer) body = Buffer.from('\u0000<not json>{"status":', 'utf8');
  const delay = faults.answerDelayMs ?? 0;
  if (delay <= 0) return send(response, 200, body);
  const timer = setTimeout(() => send(response, 200, body), delay);
  response.once('close', () => clearTimeout(timer));
}

/** An HTTP (or, with TLS material, HTTPS) server for the provisioning route; sockets are tracked by the caller. */
export function createProvisioningHttpServer(context: HttpProvisioningContext, tls?: { cert: string; key: string }): http.Server {
  const handler = (request: http.IncomingMessage, response: http.ServerResponse): void => handleProvisionHttp(request, response, context);
  const server = tls ? https.createServer({ cert: tls.cert, key: tls.key }, handler) : http.createServer(handler);
  server.keepAliveTimeout = 5_000;
  if (tls) {
    server.on('tlsClientError', (error: Error, socket: import('node:tls').TLSSocket) => {
      context.log(`HTTPS TLS handshake failed: ${error.message}`);
      socket.destroy();
    });
  }
  return server;
}
