import { isIP, createConnection } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { IClientOptions } from 'mqtt';
import type MqttClient from 'mqtt/lib/client';

type OpenSocks = (host: string, port: number, proxyUrl: string, options?: { timeout?: number }) => Duplex;

/**
 * An mqtt.js client for mqtt:// or mqtts://, like `mqtt.connect(options)` with the same options, streams
 * and errors (SOCKS proxy from MQTTJS_SOCKS_PROXY included), built through mqtt.js' own
 * `MqttClient(streamBuilder, options)`: mqtt.connect loads every transport it knows (WebSocket, ...) on its
 * first call, which a one-shot CLI run paid for in start-up time and memory.
 */
export function openMqttClient(options: IClientOptions): MqttClient {
  const streamOptions: IClientOptions = { ...options, socksProxy: options.socksProxy ?? process.env.MQTTJS_SOCKS_PROXY };
  // mqtt.connect's rule: a client certificate and key always go over TLS.
  const tls = options.protocol === 'mqtts' || (options.cert !== undefined && options.key !== undefined);
  // Loaded on first use: a run that never opens an MQTT session (HTTP provisioning) never loads mqtt.js.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { default: Client } = require('mqtt/lib/client') as { default: typeof MqttClient };
  return new Client((client) => (tls ? tlsStream(client, streamOptions) : tcpStream(streamOptions)), options);
}

function hostOf(options: IClientOptions): string {
  return options.hostname || options.host || 'localhost';
}

function socks(options: IClientOptions, port: number): Duplex {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when a proxy is set
  const { default: openSocks } = require('mqtt/lib/connect/socks') as { default: OpenSocks };
  return openSocks(hostOf(options), port, options.socksProxy!, { timeout: options.socksTimeout });
}

function tcpStream(options: IClientOptions): Duplex {
  const port = options.port || 1883;
  return options.socksProxy ? socks(options, port) : createConnection({ port, host: hostOf(options) });
}

/** As mqtt.js' mqtts builder: SNI from a host name, an unauthorized peer is an error, errors before the handshake go to the client. */
function tlsStream(client: MqttClient, options: IClientOptions): Duplex {
  const host = hostOf(options);
  const port = options.port || 8883;
  const rejectUnauthorized = options.rejectUnauthorized !== false;
  const servername = options.servername || (isIP(host) === 0 ? host : undefined);
  const socket = options.socksProxy ? socks(options, port) : undefined;
  const connection = tlsConnect({ ...(options as ConnectionOptions), port, host, servername, rejectUnauthorized, ...(socket ? { socket } : {}) });
  const onHandshakeError = (error: Error) => {
    if (rejectUnauthorized) client.emit('error', error);
    connection.end();
  };
  connection.on('error', onHandshakeError);
  connection.on('secureConnect', () => {
    if (rejectUnauthorized && !connection.authorized) connection.emit('error', new Error('TLS not authorized'));
    else connection.removeListener('error', onHandshakeError);
  });
  return connection;
}
