import * as net from 'node:net';
import * as tls from 'node:tls';
import { acceptConnection, type GateContext } from './connection-gate';
import { createProvisioningHttpServer, provisionDuringHandshake, type HttpProvisioningContext } from './provisioning';
import { brokenClientChainLink, type ServerTlsMaterial } from './tls';

/** Ports to listen on: 0 = any free port, null = off. */
export interface ListenerPorts {
  mqttPort: number | null;
  mqttsPort: number | null;
  httpPort: number | null;
  httpsPort: number | null;
}

export interface ListenerContext {
  host: string;
  gate: GateContext;
  http: HttpProvisioningContext;
  tlsMaterial(): Promise<ServerTlsMaterial>;
  /** Every accepted socket, so that pause/stop can drop them. */
  track(socket: net.Socket): void;
  log(line: string): void;
}

function listen(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

export function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function mqttsServer(material: ServerTlsMaterial, context: ListenerContext): tls.Server {
  const { gate } = context;
  const log = (line: string): void => context.log(line);
  const server = tls.createServer({ noDelay: true, cert: material.certPem, key: material.keyPem, requestCert: true, rejectUnauthorized: false }, (socket) => {
    context.track(socket);
    const broken = brokenClientChainLink(socket);
    if (broken) {
      log(`TLS client certificate chain refused: ${broken}`);
      socket.destroy();
      return;
    }
    provisionDuringHandshake(gate.registry, socket.getPeerCertificate(true), log);
    acceptConnection(socket, gate);
  });
  server.on('connection', (socket: net.Socket) => context.track(socket));
  server.on('tlsClientError', (error, socket) => {
    log(`TLS handshake failed: ${error.message}`);
    socket.destroy();
  });
  return server;
}

/**
 * Opens the listeners that are not off and answers the ports they got. Each server is pushed onto
 * `servers` as soon as it exists, so that a failure half-way leaves nothing the caller cannot close.
 */
export async function openListeners(ports: ListenerPorts, context: ListenerContext, servers: net.Server[]): Promise<ListenerPorts> {
  const opened: ListenerPorts = { mqttPort: null, mqttsPort: null, httpPort: null, httpsPort: null };
  const start = async (server: net.Server, port: number): Promise<number> => {
    servers.push(server);
    return listen(server, context.host, port);
  };
  if (ports.mqttPort !== null) {
    const server = net.createServer({ noDelay: true }, (socket) => {
      context.track(socket);
      acceptConnection(socket, context.gate);
    });
    opened.mqttPort = await start(server, ports.mqttPort);
  }
  if (ports.mqttsPort !== null) opened.mqttsPort = await start(mqttsServer(await context.tlsMaterial(), context), ports.mqttsPort);
  if (ports.httpPort !== null) {
    const server = createProvisioningHttpServer(context.http);
    server.on('connection', (socket: net.Socket) => context.track(socket));
    opened.httpPort = await start(server, ports.httpPort);
  }
  if (ports.httpsPort !== null) {
    const { certPem, keyPem } = await context.tlsMaterial();
    const server = createProvisioningHttpServer(context.http, { cert: certPem, key: keyPem });
    server.on('connection', (socket: net.Socket) => context.track(socket));
    opened.httpsPort = await start(server, ports.httpsPort);
  }
  return opened;
}
