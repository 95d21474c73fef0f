import type { MqttClient } from 'mqtt';

const GRACEFUL_CLOSE_LIMIT_MS = 1_000;

/**
 * Ends an mqtt.js client and resolves once its socket is closed, so nothing (socket, timer) is left behind.
 * Graceful = DISCONNECT then FIN; entries still waiting for an ack (a SUBACK that old servers never send)
 * are dropped first, otherwise mqtt.js would wait for them forever. A graceful close that takes too
 * long is forced. Call it from setImmediate when inside a 'message' handler: mqtt.js sends the
 * PUBACK for a QoS 1 message after the handler returns.
 */
export function closeClient(client: MqttClient, graceful: boolean): Promise<void> {
  return new Promise((resolve) => {
    const stream = client.stream as (NodeJS.ReadWriteStream & { closed?: boolean; destroy?: () => void; once: (e: string, f: () => void) => void }) | undefined;
    let streamClosed = !stream || stream.closed === true;
    let ended = false;
    let forceTimer: NodeJS.Timeout | undefined;
    const settle = () => {
      if (!streamClosed || !ended) return;
      if (forceTimer) clearTimeout(forceTimer);
      resolve();
    };
    if (!streamClosed) {
      stream!.once('close', () => {
        streamClosed = true;
        settle();
      });
    }
    if (graceful) {
      for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
      forceTimer = setTimeout(() => stream?.destroy?.(), GRACEFUL_CLOSE_LIMIT_MS);
    }
    client.end(!graceful, () => {
      ended = true;
      settle();
    });
  });
}
