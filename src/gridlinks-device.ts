import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { ConnectionPool, POOL_DEFAULTS } from './device/connection-pool';
import { identityFromMessage, type DeviceIdentity } from './device/device-identity';
import { DISCONNECT_REASON } from './device/device-errors';
import { buildDeviceAction } from './device/device-message';
import { readStoredDevice, rereadStoredDevice } from './device/stored-device';
import { DeviceStatus, statusText } from './node-red/device-status';
import { completeMessage, failMessage } from './node-red/message-outcome';
import type { GridlinksServerNode } from './node-red/server-options';
import { ProvisionError } from './provisioning/errors';
import { validateServer } from './provisioning/net';
import { DAY_MS, expiryWarning, expiryWindowDays, notAfterInside, summaryName } from './node-red/expiry-warnings';
import { reportStoreAtDeploy } from './node-red/store-status';
import { deployedStoreFolder } from './node-red/store-folder';
import { deviceOutboxLink } from './node-red/device-outbox';
import { outboxSettings, type NodeOutbox, type OutboxNodeProperties } from './node-red/node-outbox';
import { openNodeOutbox, outboxAction as runOutboxAction, outboxLabel } from './node-red/outbox-node';
import { stampTelemetry } from './outbox';

interface DeviceNodeProperties {
  server?: string;
  storeDir?: unknown;
  /** A device whose certificate ends within this many days is warned about once per session (default 30). */
  expiryWarningDays?: unknown;
  receive?: unknown;
  /** Seconds; 0 = never. */
  idleTimeout?: unknown;
  maxConnections?: unknown;
  queueSize?: unknown;
  /** MB of queued payloads, all devices together. */
  queueBudgetMB?: unknown;
}
type DeviceNodeDef = NodeDef & DeviceNodeProperties & OutboxNodeProperties;
type DeviceMessage = NodeMessageInFlow & {
  device?: unknown;
  deviceName?: unknown;
  requestId?: unknown;
  gridlinksError?: unknown;
  persist?: unknown;
  queued?: boolean;
  action?: unknown;
};

const MB = 1024 * 1024;

function wholeNumber(value: unknown, min: number, max: number, fallback: number): number {
  const number = Number(value === '' || value === undefined || value === null ? fallback : value);
  return Number.isInteger(number) && number >= min && number <= max ? number : fallback;
}

export = function (RED: NodeAPI): void {
  /** A message in the user's language; the English text where no catalog is loaded (RED._ then returns the key). */
  function say(key: string, substitutions: Record<string, string | number>, english: string): string {
    const text = RED._(key, substitutions);
    return text === key ? english : text;
  }

  function GridlinksDevice(this: Node, config: DeviceNodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const { storeDir, error: storeFolderError } = deployedStoreFolder(config.storeDir);
    const expiryDays = expiryWindowDays(config.expiryWarningDays);
    const server = config.server ? (RED.nodes.getNode(config.server) as GridlinksServerNode | null) : null;
    const resolved = server?.serverOptions();
    let closing = false;
    /**
     * Devices read from the store, kept while they work (a failure reads the store again): one read per
     * device, messages that arrive while it runs waiting for that read, in their order.
     */
    const storedDevices = new Map<string, Promise<DeviceIdentity>>();
    /** The identities read from the store: their sessions read it again before each login (not those of msg.device). */
    const fromStore = new WeakSet<DeviceIdentity>();

    const pool =
      resolved?.ok === true
        ? new ConnectionPool(
            {
              server: validateServer(resolved.options),
              receive: config.receive !== false && config.receive !== 'false',
              idleTimeoutMs: wholeNumber(config.idleTimeout, 0, 86_400, POOL_DEFAULTS.idleTimeoutMs / 1000) * 1000,
              maxConnections: wholeNumber(config.maxConnections, 1, 100_000, POOL_DEFAULTS.maxConnections),
              maxConnecting: POOL_DEFAULTS.maxConnecting,
              queueLimit: wholeNumber(config.queueSize, 1, 100_000, POOL_DEFAULTS.queueLimit),
              queueBudgetBytes: wholeNumber(config.queueBudgetMB, 1, 65_536, POOL_DEFAULTS.queueBudgetBytes / MB) * MB,
              reconnectBaseMs: POOL_DEFAULTS.reconnectBaseMs,
              reconnectMaxMs: POOL_DEFAULTS.reconnectMaxMs,
              reconnectStableMs: POOL_DEFAULTS.reconnectStableMs,
            },
            {
              incoming: (deviceName, message) => {
                if (closing) return;
                const out: Record<string, unknown> = { deviceName, topic: message.kind, payload: message.payload };
                if (message.requestId !== undefined) out.requestId = message.requestId;
                node.send([null, out]);
              },
              changed: () => {
                status.changed();
                outbox?.sessionsChanged();
              },
              // Said once, when it happens: the device's messages then fail with the same error.
              stopped: (deviceName, error) => {
                if (closing) return;
                // Credentials updated (0x98) and the store still holds the old ones: the next message reads them again.
                if (error.details.returnCode === DISCONNECT_REASON.administrativeAction) storedDevices.delete(deviceName);
                status.failed(error.code);
                node.error(error.message);
              },
              reread: (identity) => (fromStore.has(identity) ? () => reread(identity.deviceName) : undefined),
            },
          )
        : undefined;
    const outbox: NodeOutbox<DeviceIdentity> | undefined = pool
      ? openNodeOutbox(
          outboxSettings(config, storeDir),
          deviceOutboxLink(pool, (deviceName) => (storeDir ? identityByName({ deviceName } as DeviceMessage) : Promise.resolve(undefined))),
          (key, substitutions) => RED._(key, substitutions),
          node,
          () => status,
          () => closing,
        )
      : undefined;
    const status: DeviceStatus = new DeviceStatus(
      (s) => node.status(s),
      (key, substitutions) => RED._(key, substitutions),
      () => pool?.counts() ?? { connected: 0, queued: 0, open: 0 },
      (counts, translate) => outboxLabel(counts, outbox?.counts(), translate),
    );
    if (storeFolderError) node.error(storeFolderError.message);
    if (!server) status.broken('no server');
    else if (storeFolderError) status.broken('storeDir');
    else if (resolved && !resolved.ok)
      status.broken(resolved.error.details.field === 'ca' || resolved.error.details.field === 'caFile' ? 'CA' : resolved.error.code);

    /**
     * The identity of msg.deviceName: its open session's, or read from the store folder once, every message
     * for it waiting on that one read so that they reach the session in the order they came.
     */
    function identityByName(msg: DeviceMessage): Promise<DeviceIdentity> {
      const deviceName = msg.deviceName;
      if (typeof deviceName !== 'string' || deviceName === '') {
        return Promise.reject(new ProvisionError('INVALID_INPUT', RED._('gridlinks-device.errors.no-device'), { field: 'device' }));
      }
      const known = storedDevices.get(deviceName);
      if (known) return known;
      const connected = pool?.knownDevice(deviceName);
      if (connected) return Promise.resolve(connected);
      if (!storeDir) {
        return Promise.reject(
          storeFolderError ?? new ProvisionError('INVALID_INPUT', RED._('gridlinks-device.errors.no-store', { deviceName }), { field: 'storeDir' }),
        );
      }
      const read = readStoredDevice(storeDir, deviceName).then((identity) => {
        fromStore.add(identity);
        // Read once per session (kept until the session fails): the expiry warning comes once per session too.
        const notAfter = notAfterInside((identity.credentials as { certificate?: string }).certificate, expiryDays);
        if (notAfter !== undefined) node.warn(expiryWarning(deviceName, notAfter));
        return identity;
      });
      if (storedDevices.size >= 10_000) storedDevices.delete(storedDevices.keys().next().value as string);
      storedDevices.set(deviceName, read);
      return read;
    }

    /** msg.device devices whose certificate was checked for its end date: the warning comes once per device and certificate. */
    const expiryChecked = new Map<string, string>();
    function warnIfExpiring(identity: DeviceIdentity): void {
      const certificate = (identity.credentials as { certificate?: string }).certificate;
      if (certificate === undefined || expiryChecked.get(identity.deviceName) === certificate) return;
      if (expiryChecked.size >= 10_000) expiryChecked.delete(expiryChecked.keys().next().value as string);
      expiryChecked.set(identity.deviceName, certificate);
      const notAfter = notAfterInside(certificate, expiryDays);
      if (notAfter !== undefined) node.warn(expiryWarning(identity.deviceName, notAfter));
    }

    /** A stored device read again before a login of its session (its messages, with the identity read first, reach the same session). */
    function reread(deviceName: string): Promise<DeviceIdentity | undefined> {
      return rereadStoredDevice(storeDir, deviceName).then((identity) => {
        if (identity) fromStore.add(identity);
        return identity;
      });
    }

    type Send = (msg: Array<NodeMessageInFlow | null>) => void;
    type Done = (err?: Error) => void;

    function failed(msg: DeviceMessage, done: Done, error: unknown, deviceName: string | undefined): void {
      if (closing) return;
      if (typeof msg.deviceName === 'string') storedDevices.delete(msg.deviceName);
      const failure = failMessage(msg, done, error, (failed) => node.error(failed), deviceName ? { deviceName } : {});
      status.failed(failure.code);
    }

    /** Publishes as `identity`; the message leaves output 1 once GridLinks acknowledged it. No promise per message: this runs for every one. */
    function act(msg: DeviceMessage, send: Send, done: Done, identity: DeviceIdentity): void {
      const { deviceName } = identity;
      const action = buildDeviceAction(msg.topic, msg.payload, msg.requestId, deviceName);
      if (outbox && msg.persist !== false && (action.kind === 'telemetry' || action.kind === 'attributes')) {
        // Stored first; output 1 once acknowledged (msg.queued false) or once on disk behind a backlog or a session that is down (msg.queued true).
        // Live and stored alike, a reading without ts gets the time it was kept: a copy sent again after a lost session overwrites it.
        const payload = action.kind === 'telemetry' ? stampTelemetry(msg.payload, Date.now()) : msg.payload;
        const sent = payload === msg.payload ? action : buildDeviceAction(msg.topic, payload, msg.requestId, deviceName);
        const live = (settled: (error: ProvisionError | undefined) => void) => (pool as ConnectionPool).submit(identity, sent, settled);
        return outbox.keep(deviceName, identity, { kind: action.kind, payload }, live, (error, queued) => {
          if (error) return failed(msg, done, error, deviceName);
          if (closing) return;
          msg.deviceName = deviceName;
          msg.queued = queued;
          if (!queued) status.succeeded();
          try {
            send([msg, null]);
            done();
          } catch (thrown) {
            node.error(thrown, msg);
          }
        });
      }
      // The callback holds only what it needs: it lives (and is copied by the GC) until the acknowledgement.
      const isRequest = action.kind === 'attributes/request';
      (pool as ConnectionPool).submit(identity, action, (error, answer) => {
        if (error) return failed(msg, done, error, deviceName);
        if (closing) return;
        msg.deviceName = deviceName;
        if (isRequest) msg.payload = answer;
        status.succeeded();
        completeMessage(msg, send, done, (thrown, failedMsg) => node.error(thrown, failedMsg));
      });
    }

    /** msg.action "flush" (send every backlog now) or "purge" (drop msg.deviceName's backlog, or all): reported on output 1. */
    function outboxAction(msg: DeviceMessage, send: Send, done: Done): void {
      if (!outbox) {
        return void failed(msg, done, new ProvisionError('INVALID_INPUT', RED._('gridlinks-device.errors.no-outbox'), { field: 'action' }), undefined);
      }
      const deviceName = typeof msg.deviceName === 'string' && msg.deviceName !== '' ? msg.deviceName : undefined;
      runOutboxAction(outbox, msg.action === 'flush' ? 'flush' : 'purge', deviceName, (key, name) => key === name).then(
        (payload) => {
          if (closing) return;
          msg.payload = payload;
          send([msg, null]);
          done();
        },
        (error: unknown) => failed(msg, done, error, deviceName),
      );
    }

    function handle(msg: DeviceMessage, send: Send, done: Done): void {
      let deviceName: string | undefined;
      if (msg.action === 'flush' || msg.action === 'purge') return outboxAction(msg, send, done);
      try {
        if (!server) throw new ProvisionError('INVALID_INPUT', RED._('gridlinks-device.errors.no-server'), { field: 'server' });
        if (!resolved?.ok || !pool) throw (resolved as { error: ProvisionError }).error;
        if (msg.device !== undefined) {
          const identity = identityFromMessage(msg.device);
          deviceName = identity.deviceName;
          warnIfExpiring(identity);
          return act(msg, send, done, identity);
        }
        identityByName(msg).then(
          (identity) => {
            try {
              act(msg, send, done, identity);
            } catch (error) {
              failed(msg, done, error, identity.deviceName);
            }
          },
          (error: unknown) => failed(msg, done, error, undefined),
        );
      } catch (error) {
        failed(msg, done, error, deviceName);
      }
    }

    node.on('input', (msg, send, done) => handle(msg, send, done));

    if (storeDir) {
      // At deploy: which certificates of the store end within the window, each by name, and how many.
      void reportStoreAtDeploy(
        storeDir,
        {
          warn: (text) => node.warn(text),
          pending: () => undefined, // a provisioning matter: the provision node reports it
          refused: (message) => {
            if (!closing) node.warn(message);
          },
          expiring: (devices) => {
            if (closing) return;
            for (const device of devices) node.warn(expiryWarning(summaryName(device), device.notAfter!));
            node.warn(`${devices.length} certificate(s) in ${storeDir} expire within ${expiryDays} day(s).`);
            status.notice(
              statusText(
                (key, substitutions) => RED._(key, substitutions),
                'gridlinks-device.status.expiring',
                { count: devices.length, days: expiryDays },
                `${devices.length} certificate(s) expire within ${expiryDays} days`,
              ),
            );
          },
        },
        expiryDays * DAY_MS,
      );
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      status.cancel();
      if (!pool) return done();
      // The outbox sends nothing more (what is not acknowledged stays stored); closing the sessions ends its drains; then its database closes.
      outbox?.stopSending();
      pool
        .close()
        .then(async (unsent) => {
          await outbox?.close().catch(() => {});
          return unsent;
        })
        .then(
          (unsent) => {
            if (unsent.length > 0) {
              const list = unsent
                .slice(0, 20)
                .map((d) =>
                  say('gridlinks-device.warnings.unsent-device', { ...d }, `${d.deviceName} (${d.queued} queued, ${d.unacknowledged} unacknowledged)`),
                );
              if (unsent.length > 20) list.push('…');
              const devices = list.join(', ');
              node.warn(
                say(
                  'gridlinks-device.warnings.closed-unsent',
                  { count: unsent.length, devices },
                  `Closed with messages not sent or not acknowledged for ${unsent.length} device(s): ${devices}`,
                ) +
                  (outbox
                    ? say(
                        'gridlinks-device.warnings.closed-kept',
                        {},
                        '. Telemetry and attributes among them stay in the outbox and are sent after the next deploy.',
                      )
                    : ''),
              );
            }
            done();
          },
          () => done(),
        );
    });
  }

  RED.nodes.registerType('gridlinks-device', GridlinksDevice);
};
