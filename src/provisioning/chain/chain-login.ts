import { randomBytes } from 'node:crypto';
import type { IClientOptions } from 'mqtt';
import { openMqttClient, closeClient, transportOptions, aborted, closedBeforeSending, connectError, connectTimeout, errorCodeOf, outcomeUnknown } from '../net';
import { ProvisionError } from '../errors';
import type { ResolvedServer } from '../types';

/** CONNACK "not authorized": MQTT 3.1.1 return code 5, MQTT 5 reason 0x87. */
const NOT_AUTHORIZED = new Set([5, 0x87]);
/** A TLS alert from the server: it refused the certificate chain during the handshake. */
const TLS_ALERT = /ALERT/;

export interface ChainIdentity {
  /** PEM: the leaf first, then the signer and the certificates above it. */
  certificateChain: string;
  privateKey: string;
}

function where(server: ResolvedServer): string {
  return `${server.host}:${server.port}`;
}

export function chainRefused(returnCode: number, server: ResolvedServer): ProvisionError {
  return new ProvisionError(
    'CHAIN_REFUSED',
    `GridLinks at ${where(server)} refused the certificate chain login (CONNACK not authorized, code ${returnCode}). GridLinks creates or rotates a chain device during the TLS handshake and checks the certificate's validity dates only afterwards, so a device may have been created or changed even so (for example when the server's clock is behind this one's). Check in the device profile: that its X.509 CA certificate is the signer certificate given here, that the certificate CN matches its CN regular expression (and that group 1 is the device name), and that "allow creating new devices" is on when the device does not exist yet.`,
    { returnCode, requestSent: true },
  );
}

function otherRefusal(returnCode: number, server: ResolvedServer): ProvisionError {
  return new ProvisionError(
    'CONNECT_REFUSED',
    `GridLinks at ${where(server)} refused the device connection (CONNACK code ${returnCode}) before looking at the certificate chain: check that this is a GridLinks/ThingsBoard MQTT over TLS port and that the server is healthy (code 3 / 0x88 = server unavailable, retry later). No device was created.`,
    { returnCode, requestSent: true },
  );
}

/**
 * The chain "exchange": one TLS connection to the device API presenting the new leaf and its chain, and a
 * plain CONNECT. CONNACK accepted = the device exists now with this certificate (created or rotated);
 * "not authorized" = CHAIN_REFUSED. From the moment the CONNECT is out, a lost connection or a missing
 * CONNACK means the server may have created the device: OUTCOME_UNKNOWN (requestSent true). Resolves or
 * rejects once the socket is closed; every timer and listener is released on every path.
 */
export function chainLogin(server: ResolvedServer, identity: ChainIdentity, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(aborted(false));
  return new Promise((resolve, reject) => {
    const options: IClientOptions = {
      ...transportOptions(server),
      cert: identity.certificateChain,
      key: identity.privateKey,
      clientId: `chain-${randomBytes(8).toString('hex')}`,
      clean: true,
      reconnectPeriod: 0,
      keepalive: 60,
      connectTimeout: server.connectTimeoutMs + 5_000,
    };
    const client = openMqttClient(options);
    let connectSent = false;
    let settled = false;
    const timer = setTimeout(
      () => finish(connectSent ? outcomeUnknown(server, `no CONNACK came within ${server.connectTimeoutMs} ms`) : connectTimeout(server)),
      server.connectTimeoutMs,
    );
    const onAbort = () => finish(aborted(connectSent));
    signal?.addEventListener('abort', onAbort, { once: true });

    function finish(error?: Error): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      setImmediate(() => void closeClient(client, error === undefined).then(() => (error === undefined ? resolve() : reject(error))));
    }

    // mqtt.js queues the CONNECT on the socket before the handshake; it leaves as soon as TLS is up.
    client.stream.once('secureConnect', () => {
      connectSent = true;
    });
    client.on('connect', () => finish());
    client.on('error', (error: Error) => {
      const code = errorCodeOf(error);
      if (typeof code === 'number') finish(NOT_AUTHORIZED.has(code) ? chainRefused(code, server) : otherRefusal(code, server));
      else if (!connectSent || TLS_ALERT.test(String(code ?? error.message))) finish(connectError(error, server));
      else
        finish(
          outcomeUnknown(
            server,
            `the connection failed after the CONNECT (${code ?? error.message}) without a CONNACK; GridLinks drops it like this when it refuses a certificate chain whose links do not verify`,
            error,
          ),
        );
    });
    client.on('close', () =>
      finish(
        connectSent
          ? outcomeUnknown(
              server,
              'the connection closed after the CONNECT without a CONNACK; GridLinks drops it like this when it refuses a certificate chain whose links do not verify',
            )
          : closedBeforeSending(server),
      ),
    );
  });
}
