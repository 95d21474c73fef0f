import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { acceptConnection, type GateContext } from './connection-gate';
import { DeviceBroker } from './devices';
import { createProvisioningHttpServer, provisionDuringHandshake, ProvisionService } from './provisioning';
import { Registry } from './registry';
import { brokenClientChainLink, prepareServerTls, type ServerTlsMaterial } from './tls';
import type { FaultSwitches, SimulatorHandle, SimulatorOptions, TelemetryRecord } from './types';

export const DEFAULT_SESSION_CLOSE_AFTER_ANSWER_MS = 60_000;
const CONNECT_TIMEOUT_MS = 30_000;

function listen(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Starts the GridLinks simulator: plain and/or TLS MQTT listeners on 127.0.0.1 (by default) and a registry. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const host = options.host ?? '127.0.0.1';
  const mqttPort = options.mqttPort === undefined ? 0 : options.mqttPort;
  const mqttsPort = options.mqttsPort === undefined ? 0 : options.mqttsPort;
  const log = options.log ?? (() => undefined);
  let faults: FaultSwitches = { ...options.faults };

  if (options.dataDir) await fs.mkdir(options.dataDir, { recursive: true });
  const registry = new Registry(options.dataDir);
  await registry.load();
  for (const profile of options.profiles ?? []) registry.addProfile(profile);
  registry.addPreProvisioned(options.devices ?? []);
  await registry.save();

  const telemetry: TelemetryRecord[] = [];
  const broker = await DeviceBroker.create(
    (record) => telemetry.push(record),
    () => faults.deviceSilent === true,
  );
  for (const [deviceName, values] of Object.entries(options.sharedAttributes ?? {})) broker.control.setSharedAttributes(deviceName, values);
  const provisionService = new ProvisionService(registry, () => faults);
  const gate: GateContext = {
    registry,
    broker,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    provision: {
      service: provisionService,
      faults: () => faults,
      closeAfterAnswerMs: options.sessionCloseAfterAnswerMs ?? DEFAULT_SESSION_CLOSE_AFTER_ANSWER_MS,
      log,
    },
  };

  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const servers: net.Server[] = [];
  let tempDir: string | null = null;
  let stopping: Promise<void> | undefined;
  const handle: SimulatorHandle = {
    host,
    mqttPort: null,
    mqttsPort: null,
    httpPort: null,
    httpsPort: null,
    caPem: null,
    caFile: null,
    devices: () => registry.devices(),
    telemetry: (deviceName?: string) => telemetry.filter((record) => deviceName === undefined || record.device === deviceName),
    addProfile: (profile) => registry.addProfile(profile),
    setFaults: (next: FaultSwitches) => {
      faults = { ...next };
    },
    sendRpc: (deviceName, request, timeoutMs) => broker.control.sendRpc(deviceName, request, timeoutMs),
    setSharedAttributes: (deviceName, values) => broker.control.setSharedAttributes(deviceName, values),
    clientAttributes: (deviceName) => broker.control.clientAttributesOf(deviceName),
    connectedDevices: () => broker.control.connectedDevices(),
    isSubscribedToRpc: (deviceName) => broker.control.isSubscribedToRpc(deviceName),
    disconnectDevice: (deviceName) => broker.control.disconnectDevice(deviceName),
    stop: () => {
      stopping ??= stopAll();
      return stopping;
    },
  };

  async function stopAll(): Promise<void> {
    const closing = servers.splice(0).map(closeServer);
    for (const socket of sockets) socket.destroy();
    await Promise.all(closing);
    await provisionService.settled();
    await broker.close();
    await registry.save();
    if (tempDir) await fs.rm(tempDir, { recursive: true, force: true });
    log('simulator stopped');
  }

  let material: ServerTlsMaterial | undefined;
  async function tlsMaterial(): Promise<ServerTlsMaterial> {
    if (material) return material;
    material = await prepareServerTls({ cert: options.cert, key: options.key, dataDir: options.dataDir, host });
    tempDir = material.tempDir;
    handle.caPem = material.caPem;
    handle.caFile = material.caFile;
    return material;
  }

  try {
    if (mqttPort !== null) {
      const server = net.createServer({ noDelay: true }, (socket) => {
        track(socket);
        acceptConnection(socket, gate);
      });
      servers.push(server);
      handle.mqttPort = await listen(server, host, mqttPort);
    }
    if (mqttsPort !== null) {
      const material = await tlsMaterial();
      const server = tls.createServer(
        { noDelay: true, cert: material.certPem, key: material.keyPem, requestCert: true, rejectUnauthorized: false },
        (socket) => {
          track(socket);
          const broken = brokenClientChainLink(socket);
          if (broken) {
            log(`TLS client certificate chain refused: ${broken}`);
            socket.destroy();
            return;
          }
          provisionDuringHandshake(registry, socket.getPeerCertificate(true), log);
          acceptConnection(socket, gate);
        },
      );
      server.on('connection', track);
      server.on('tlsClientError', (error, socket) => {
        log(`TLS handshake failed: ${error.message}`);
        socket.destroy();
      });
      servers.push(server);
      handle.mqttsPort = await listen(server, host, mqttsPort);
    }
    const httpContext = { service: provisionService, faults: () => faults, log };
    if (options.httpPort !== undefined && options.httpPort !== null) {
      const server = createProvisioningHttpServer(httpContext);
      server.on('connection', track);
      servers.push(server);
      handle.httpPort = await listen(server, host, options.httpPort);
    }
    if (options.httpsPort !== undefined && options.httpsPort !== null) {
      const { certPem, keyPem } = await tlsMaterial();
      const server = createProvisioningHttpServer(httpContext, { cert: certPem, key: keyPem });
      server.on('connection', track);
      servers.push(server);
      handle.httpsPort = await listen(server, host, options.httpsPort);
    }
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}
