import { promises as fs } from 'node:fs';
import type * as net from 'node:net';
import type { GateContext } from './connection-gate';
import { DeviceBroker, closeSessionsOnCredentialsUpdate } from './devices';
import { GatewayHandler } from './gateway';
import { DEFAULT_MAX_PAYLOAD_SIZE, RateLimiter, validateSessionLimits } from './limits';
import { closeServer, openListeners, type ListenerContext, type ListenerPorts } from './listeners';
import { ProvisionService } from './provisioning';
import { Registry } from './registry';
import { prepareServerTls, type ServerTlsMaterial } from './tls';
import type { FaultSwitches, SimulatorHandle, SimulatorOptions, TelemetryRecord } from './types';

export const DEFAULT_SESSION_CLOSE_AFTER_ANSWER_MS = 60_000;
const CONNECT_TIMEOUT_MS = 30_000;

/** Starts the GridLinks simulator: plain and/or TLS MQTT listeners on 127.0.0.1 (by default) and a registry. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => undefined);
  let faults: FaultSwitches = { ...options.faults };
  const limits = options.sessionLimits ?? {};
  validateSessionLimits(limits);

  if (options.dataDir) await fs.mkdir(options.dataDir, { recursive: true });
  const registry = new Registry(options.dataDir);
  await registry.load();
  for (const profile of options.profiles ?? []) registry.addProfile(profile);
  registry.addPreProvisioned(options.devices ?? []);
  await registry.save();

  const telemetry: TelemetryRecord[] = [];
  const onTelemetry = (record: TelemetryRecord): void => void telemetry.push(record);
  const rateLimiter = new RateLimiter(limits);
  const broker = await DeviceBroker.create({
    onTelemetry,
    isSilent: () => faults.deviceSilent === true,
    limits,
    rateLimiter,
    maxSessionsPerDevice: options.maxSessionsPerDevice ?? 1,
    keepaliveClose: options.keepaliveClose === true,
    log,
  });
  const gateways = new GatewayHandler({ registry, devices: broker.control, rateLimiter, onTelemetry, log });
  broker.onGatewayPublish = (publish) => gateways.handle(publish);
  registry.onCredentialsUpdated = (device) => closeSessionsOnCredentialsUpdate(broker, device.name, log);
  for (const [deviceName, values] of Object.entries(options.sharedAttributes ?? {})) broker.control.setSharedAttributes(deviceName, values);
  const provisionService = new ProvisionService(registry, () => faults);
  const gate: GateContext = {
    registry,
    broker,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    maxPayloadSize: limits.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE,
    rateLimiter,
    provision: {
      service: provisionService,
      faults: () => faults,
      closeAfterAnswerMs: options.sessionCloseAfterAnswerMs ?? DEFAULT_SESSION_CLOSE_AFTER_ANSWER_MS,
      keepaliveClose: options.keepaliveClose === true,
      log,
    },
  };

  const sockets = new Set<net.Socket>();
  const servers: net.Server[] = [];
  let tempDir: string | null = null;
  let stopping: Promise<void> | undefined;
  let material: ServerTlsMaterial | undefined;
  const listenerContext: ListenerContext = {
    host,
    gate,
    http: { service: provisionService, faults: () => faults, log },
    log,
    track: (socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    },
    tlsMaterial: async () => {
      if (material) return material;
      material = await prepareServerTls({ cert: options.cert, key: options.key, dataDir: options.dataDir, host });
      tempDir = material.tempDir;
      handle.caPem = material.caPem;
      handle.caFile = material.caFile;
      return material;
    },
  };

  /** Closes the listeners and drops every connection. */
  async function takeDown(): Promise<void> {
    const closing = servers.splice(0).map(closeServer);
    for (const socket of sockets) socket.destroy();
    await Promise.all(closing);
  }

  const listening = (): ListenerPorts => ({ mqttPort: handle.mqttPort, mqttsPort: handle.mqttsPort, httpPort: handle.httpPort, httpsPort: handle.httpsPort });
  let transition: Promise<void> = Promise.resolve();
  const inTurn = (step: () => Promise<void>): Promise<void> => (transition = transition.then(step));
  let down = false;

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
    setSharedAttributes: (deviceName, values, deleted) => broker.control.setSharedAttributes(deviceName, values, deleted),
    clientAttributes: (deviceName) => broker.control.clientAttributesOf(deviceName),
    connectedDevices: () => broker.control.connectedDevices(),
    isSubscribedToRpc: (deviceName) => broker.control.isSubscribedToRpc(deviceName),
    disconnectDevice: (deviceName) => broker.control.disconnectDevice(deviceName),
    sendChildRpc: (childName, request, timeoutMs) => gateways.children.sendChildRpc(childName, request, timeoutMs),
    setChildSharedAttributes: (childName, values, deleted) => gateways.children.setChildSharedAttributes(childName, values, deleted),
    disconnectChild: (childName, reason) => gateways.children.disconnectChild(childName, reason),
    connectedChildren: () => gateways.children.connectedChildren(),
    pause: () =>
      inTurn(async () => {
        if (down || stopping) return;
        down = true;
        await takeDown();
        log('simulator down (pause)');
      }),
    resume: () =>
      inTurn(async () => {
        if (!down || stopping) return;
        await openListeners(listening(), listenerContext, servers);
        down = false;
        log('simulator up again (resume)');
      }),
    restart: async () => {
      await handle.pause();
      await handle.resume();
    },
    stop: () => {
      stopping ??= stopAll();
      return stopping;
    },
  };

  async function stopAll(): Promise<void> {
    await transition;
    await takeDown();
    await provisionService.settled();
    gateways.children.close();
    await broker.close();
    await registry.save();
    if (tempDir) await fs.rm(tempDir, { recursive: true, force: true });
    log('simulator stopped');
  }

  const wanted = (port: number | null | undefined, byDefault: number | null): number | null => (port === undefined ? byDefault : port);
  try {
    const opened = await openListeners(
      {
        mqttPort: wanted(options.mqttPort, 0),
        mqttsPort: wanted(options.mqttsPort, 0),
        httpPort: wanted(options.httpPort, null),
        httpsPort: wanted(options.httpsPort, null),
      },
      listenerContext,
      servers,
    );
    Object.assign(handle, opened);
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}
