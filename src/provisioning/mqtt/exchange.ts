import type { MqttClient, Packet } from 'mqtt';
import {
  openMqttClient,
  closeClient,
  provisioningSessionOptions,
  aborted,
  answerTooLarge,
  closedBeforeSending,
  connectError,
  connectTimeout,
  errorCodeOf,
  outcomeUnknown,
  rejectedWithoutAnswer,
  looksLikeTls,
  plainClientOnTlsPort,
  speaksTls,
  PacketSizeGuard,
} from '../net';
import { asError } from '../errors';
import { REQUEST_TOPIC, RESPONSE_TOPIC } from './request';
import type { PhaseLaps } from '../timing';
import type { ResolvedServer } from '../types';

type Phase = 'connecting' | 'published';

/**
 * One provisioning session: connect as `provision`, subscribe to the response topic and publish the
 * request as soon as both the connection and the payload are ready (QoS 1, without waiting for a SUBACK:
 * servers before 3.9 never send one), take the first answer, disconnect. The payload may still be in
 * the making (a key pair being generated) while the connection is set up; if it fails, its error is the
 * outcome and nothing is sent. Resolves with the answer's bytes once the socket is closed; rejects
 * (also only after the socket is closed) with a ProvisionError, or the payload's own error. Every
 * timer and listener is released on every path. A packet announcing more than `server.maxAnswerBytes`
 * ends the session as soon as its header arrives; an answer that comes before our request was
 * published and acknowledged is not ours and is ignored (and reported through `note`).
 */
export function exchangeProvisionRequest(
  server: ResolvedServer,
  requestPayload: string | Promise<string>,
  signal?: AbortSignal,
  laps?: PhaseLaps,
  note?: (text: string) => void,
): Promise<Buffer> {
  if (signal?.aborted) return Promise.reject(aborted(false));
  return new Promise((resolve, reject) => {
    const client: MqttClient = openMqttClient(provisioningSessionOptions(server));
    const sizeGuard = new PacketSizeGuard(server.maxAnswerBytes);
    client.stream.prependListener('data', onBytes);
    let phase: Phase = 'connecting';
    let connected = false;
    let payload: string | undefined;
    let pubackArrived = false;
    let settled = false;
    let bytesReceived = 0;
    let probing = false;
    let timer: NodeJS.Timeout | undefined = setTimeout(() => finish({ error: connectTimeout(server) }), server.connectTimeoutMs);

    const onAbort = () => finish({ error: aborted(phase === 'published') });
    signal?.addEventListener('abort', onAbort, { once: true });

    Promise.resolve(requestPayload).then(
      (ready) => {
        payload = ready;
        publishWhenReady();
      },
      (error: unknown) => finish({ error: asError(error) }),
    );

    function finish(outcome: { answer: Buffer } | { error: Error }): void {
      if (settled) return;
      client.stream?.removeListener('data', onBytes);
      settled = true;
      clearTimeout(timer);
      timer = undefined;
      signal?.removeEventListener('abort', onAbort);
      const graceful = 'answer' in outcome;
      if (graceful) laps?.lap('answer');
      // Not inside mqtt.js' 'message' handler: the PUBACK for the answer goes out after it returns.
      setImmediate(() => {
        void closeClient(client, graceful).then(() => {
          if (!('answer' in outcome)) return reject(outcome.error);
          laps?.lap('disconnect');
          resolve(outcome.answer);
        });
      });
    }

    /** The connection is gone (or failing) without an answer: what that means depends on how far we got. */
    function lost(cause?: unknown): void {
      if (settled || probing) return;
      const resetOrClosed = cause === undefined || errorCodeOf(cause) === 'ECONNRESET' || errorCodeOf(cause) === 'EPIPE';
      if (phase === 'connecting' && !server.tls && !connected && bytesReceived === 0 && resetOrClosed) {
        probeForTls();
      } else if (phase === 'connecting') {
        finish({ error: cause === undefined ? closedBeforeSending(server) : connectError(cause, server) });
      } else if (pubackArrived) {
        finish({ error: rejectedWithoutAnswer(server) });
      } else {
        const code = errorCodeOf(cause);
        finish({ error: outcomeUnknown(server, `the connection was lost before any acknowledgement${code ? ` (${code})` : ''}`, cause) });
      }
    }

    /** A plain client closed before CONNACK without a byte: a TLS port does exactly that; ask it, harmlessly. */
    function probeForTls(): void {
      probing = true;
      clearTimeout(timer);
      timer = undefined;
      void speaksTls(server, Math.min(server.connectTimeoutMs, 3_000), signal).then((tls) => {
        probing = false;
        finish({ error: tls ? plainClientOnTlsPort(server) : closedBeforeSending(server) });
      });
    }

    /** Raw bytes from the server, before mqtt.js parses (and buffers) them. */
    function onBytes(chunk: Buffer): void {
      if (bytesReceived === 0 && !server.tls && looksLikeTls(chunk)) {
        client.stream.destroy();
        finish({ error: plainClientOnTlsPort(server) });
        return;
      }
      bytesReceived += chunk.length;
      const announced = sizeGuard.check(chunk);
      if (announced === undefined) return;
      client.stream.destroy();
      finish({ error: answerTooLarge(server, announced, phase === 'published') });
    }

    function publishWhenReady(): void {
      if (settled || !connected || payload === undefined || phase === 'published') return;
      laps?.restart();
      client.publish(REQUEST_TOPIC, payload, { qos: 1 }, (error?: Error, packet?: Packet) => {
        if (!packet) return; // flushed on close: no PUBACK
        pubackArrived = true;
        const reasonCode = errorCodeOf(error);
        if (error && typeof reasonCode === 'number') finish({ error: rejectedWithoutAnswer(server, reasonCode) });
      });
      phase = 'published';
      timer = setTimeout(
        () =>
          finish({
            error: outcomeUnknown(server, `no answer came within ${server.answerTimeoutMs} ms${pubackArrived ? ' (the request was acknowledged)' : ''}`),
          }),
        server.answerTimeoutMs,
      );
    }

    client.on('connect', () => {
      if (settled) return;
      clearTimeout(timer);
      timer = undefined;
      laps?.lap('connect');
      client.subscribe(RESPONSE_TOPIC, { qos: 1 }, () => undefined);
      connected = true;
      publishWhenReady();
    });
    client.on('message', (topic: string, answer: Buffer) => {
      if (topic !== RESPONSE_TOPIC) return;
      // GridLinks acknowledges a QoS 1 request (PUBACK) before it answers (protocol.md §3): anything earlier is not ours.
      if (phase === 'published' && pubackArrived) finish({ answer });
      else
        note?.(
          `GridLinks at ${server.host}:${server.port} sent an answer (${answer.length} bytes) before the request was published and acknowledged; it was ignored.`,
        );
    });
    // Stays attached after settling: a late socket error must neither throw nor change the outcome.
    client.on('error', (error: Error) => lost(error));
    client.on('close', () => lost());
  });
}
