import type { IClientOptions } from 'mqtt';
import { openMqttClient, closeClient, errorCodeOf } from '../net';
import type { VerificationResult } from '../types';

/**
 * Connects once with the device's new credentials and reports whether the server accepted them.
 * Never throws: a refusal or a network problem is a result, not an error.
 */
export function verifyCredentials(connectOptions: IClientOptions, timeoutMs: number, signal?: AbortSignal): Promise<VerificationResult> {
  if (signal?.aborted) return Promise.resolve({ accepted: false, message: 'verification cancelled' });
  return new Promise((resolve) => {
    const client = openMqttClient({ ...connectOptions, reconnectPeriod: 0, clean: true, connectTimeout: timeoutMs + 5_000 });
    let settled = false;
    const timer = setTimeout(() => finish({ accepted: false, message: `no CONNACK within ${timeoutMs} ms` }), timeoutMs);
    const onAbort = () => finish({ accepted: false, message: 'verification cancelled' });
    signal?.addEventListener('abort', onAbort, { once: true });

    function finish(result: VerificationResult): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      setImmediate(() => void closeClient(client, result.accepted).then(() => resolve(result)));
    }

    client.on('connect', () => finish({ accepted: true }));
    client.on('error', (error: Error) => {
      const code = errorCodeOf(error);
      if (typeof code === 'number') {
        finish({ accepted: false, returnCode: code, message: `GridLinks refused the new credentials (CONNACK code ${code})` });
      } else {
        finish({ accepted: false, message: `could not connect with the new credentials${code ? ` (${code})` : ''}` });
      }
    });
    client.on('close', () => finish({ accepted: false, message: 'the connection closed before a CONNACK' }));
  });
}
