import { connect as tlsConnect } from 'node:tls';
import { ProvisionError } from '../errors';
import type { ResolvedServer } from '../types';

/** A TLS record header: content type 20–23 (change cipher spec, alert, handshake, data), version 3.x. */
export function looksLikeTls(chunk: Buffer): boolean {
  return chunk.length >= 2 && chunk[0] >= 0x14 && chunk[0] <= 0x17 && chunk[1] === 0x03;
}

/**
 * Whether host:port completes a TLS handshake. Only a ClientHello is sent (no certificate check, no
 * MQTT, no secret): used to explain why a plain MQTT client was dropped. Never rejects.
 */
export function speaksTls(server: ResolvedServer, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: server.host, port: server.port, servername: server.servername, rejectUnauthorized: false });
    const timer = setTimeout(() => done(false), timeoutMs);
    const onAbort = () => done(false);
    signal?.addEventListener('abort', onAbort, { once: true });
    function done(tls: boolean): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners('secureConnect');
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(tls);
    }
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

export function plainClientOnTlsPort(server: ResolvedServer): ProvisionError {
  return new ProvisionError(
    'TLS',
    `${server.host}:${server.port} speaks TLS, but TLS is off in this client's settings: turn TLS on for this port (CLI: leave out --no-tls), or use the server's plain MQTT port (usually 1883). Nothing was sent.`,
    { reason: 'TLS_PORT', requestSent: false },
  );
}
