import { connect, type MqttClient, type Packet } from 'mqtt';
import { ProvisionError } from './errors';
import { closeClient } from './close-client';
import { provisioningSessionOptions } from './connect-options';
import {
  aborted,
  closedBeforeSending,
  connectError,
  connectTimeout,
  errorCodeOf,
  outcomeUnknown,
  rejectedWithoutAnswer,
} from './connection-errors';
import { REQUEST_TOPIC, RESPONSE_TOPIC } from './request';
import type { PhaseLaps } from './timing';
import type { ResolvedServer } from './validate';

type Phase = 'connecting' | 'published';

/**
 * One provisioning session: connect as `provision`, subscribe to the response topic and publish the
 * request at once (QoS 1, without waiting for a SUBACK: servers before 3.9 never send one), take the
 * first answer, disconnect. Resolves with the answer's bytes once the socket is closed; rejects with a
 * ProvisionError (also only after the socket is closed). Every timer and listener is released on every path.
 */
export function exchangeProvisionRequest(server: ResolvedServer, requestPayload: string, signal?: AbortSignal, laps?: PhaseLaps): Promise<Buffer> {
  if (signal?.aborted) return Promise.reject(aborted(false));
  return new Promise((resolve, reject) => {
    const client: MqttClient = connect(provisioningSessionOptions(server));
    let phase: Phase = 'connecting';
    let pubackArrived = false;
    let settled = false;
    let timer: NodeJS.Timeout | undefined = setTimeout(() => finish({ error: connectTimeout(server) }), server.connectTimeoutMs);

    const onAbort = () => finish({ error: aborted(phase === 'published') });
    signal?.addEventListener('abort', onAbort, { once: true });

    function finish(outcome: { answer: Buffer } | { error: ProvisionError }): void {
      if (settled) return;
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
      if (phase === 'connecting') {
        finish({ error: cause === undefined ? closedBeforeSending(server) : connectError(cause, server) });
      } else if (pubackArrived) {
        finish({ error: rejectedWithoutAnswer(server) });
      } else {
        const code = errorCodeOf(cause);
        finish({ error: outcomeUnknown(server, `the connection was lost before any acknowledgement${code ? ` (${code})` : ''}`, cause) });
      }
    }

    client.on('connect', () => {
      if (settled) return;
      clearTimeout(timer);
      laps?.lap('connect');
      client.subscribe(RESPONSE_TOPIC, { qos: 1 }, () => undefined);
      client.publish(REQUEST_TOPIC, requestPayload, { qos: 1 }, (error?: Error, packet?: Packet) => {
        if (!packet) return; // flushed on close: no PUBACK
        pubackArrived = true;
        const reasonCode = errorCodeOf(error);
        if (error && typeof reasonCode === 'number') finish({ error: rejectedWithoutAnswer(server, reasonCode) });
      });
      phase = 'published';
      timer = setTimeout(
        () => finish({ error: outcomeUnknown(server, `no answer came within ${server.answerTimeoutMs} ms${pubackArrived ? ' (the request was acknowledged)' : ''}`) }),
        server.answerTimeoutMs,
      );
    });
    client.on('message', (topic: string, payload: Buffer) => {
      if (topic === RESPONSE_TOPIC) finish({ answer: payload });
    });
    // Stays attached after settling: a late socket error must neither throw nor change the outcome.
    client.on('error', (error: Error) => lost(error));
    client.on('close', () => lost());
  });
}
