import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import {
  GATEWAY_DEFAULTS,
  buildChildMessage,
  childTopicKind,
  gatewayIdentity,
  gatewayKey as identityKey,
  openGateway,
  readStoredGateway,
  type ChildRequest,
  type Gateway,
} from './gateway';
import { DeviceStatus, statusText } from './node-red/device-status';
import { childKey, gatewayOutboxLink, type ChildTarget } from './node-red/gateway-outbox';
import { completeMessage, failMessage } from './node-red/message-outcome';
import { outboxSettings, parseGatewayChildKey, type NodeOutbox, type OutboxNodeProperties } from './node-red/node-outbox';
import { openNodeOutbox, outboxAction as runOutboxAction, withBacklog } from './node-red/outbox-node';
import { RecentLogin } from './node-red/recent-login';
import { deployedStoreFolder } from './node-red/store-folder';
import type { GridlinksServerNode } from './node-red/server-options';
import { ProvisionError } from './provisioning/errors';
import type { ServerOptions } from './provisioning/types';
import { stampTelemetry } from './outbox';

interface GatewayNodeProperties {
  server?: string;
  storeDir?: unknown;
  /** A gateway in the store folder, used when a message has no msg.gateway. */
  gatewayName?: unknown;
  /** Milliseconds. */
  batchWindow?: unknown;
  /** KiB, the server's packet limit (Remaining Length). */
  maxPacketKiB?: unknown;
  /** Seconds; 0 = never. */
  childIdleTimeout?: unknown;
}
type GatewayNodeDef = NodeDef & GatewayNodeProperties & OutboxNodeProperties;
type GatewayMessage = NodeMessageInFlow & {
  gateway?: unknown;
  gatewayName?: unknown;
  deviceName?: unknown;
  deviceType?: unknown;
  requestId?: unknown;
  gridlinksError?: unknown;
  persist?: unknown;
  queued?: boolean;
  action?: unknown;
};
type Send = (msg: Array<NodeMessageInFlow | null>) => void;
type Done = (err?: Error) => void;

/** Gateways one node may hold sessions for (msg.gateway may name several). */
const MAX_GATEWAYS = 100;

function wholeNumber(value: unknown, min: number, max: number, fallback: number): number {
  const number = Number(value === '' || value === undefined || value === null ? fallback : value);
  return Number.isInteger(number) && number >= min && number <= max ? number : fallback;
}

export = function (RED: NodeAPI): void {
  function GridlinksGateway(this: Node, config: GatewayNodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const { storeDir, error: storeFolderError } = deployedStoreFolder(config.storeDir);
    const storedName = typeof config.gatewayName === 'string' ? config.gatewayName.trim() : '';
    const server = config.server ? (RED.nodes.getNode(config.server) as GridlinksServerNode | null) : null;
    const resolved = server?.serverOptions();
    const settings = {
      batchWindowMs: wholeNumber(config.batchWindow, 0, 10_000, GATEWAY_DEFAULTS.batchWindowMs),
      maxPacketBytes: wholeNumber(config.maxPacketKiB, 1, 262_144, GATEWAY_DEFAULTS.maxPacketBytes / 1024) * 1024,
      childIdleTimeoutMs: wholeNumber(config.childIdleTimeout, 0, 604_800, GATEWAY_DEFAULTS.childIdleTimeoutMs / 1000) * 1000,
    };
    let closing = false;
    /** Open gateways by their name and login; the stored one is read once. */
    const gateways = new Map<string, Gateway>();
    let stored: Promise<Gateway> | undefined;
    /** The stored gateway once read: kept under its login like any other, so that msg.gateway naming it shares its session. */
    let storedGatewayOpen: Gateway | undefined;
    /** The gateway of the msg.gateway object seen last (most flows send the same one each time). */
    const recentGateway = new RecentLogin<Gateway>();

    const status: DeviceStatus = new DeviceStatus(
      (s) => node.status(s),
      (key, substitutions) => RED._(key, substitutions),
      () => {
        let connected = 0;
        let queued = 0;
        let children = 0;
        for (const gateway of gateways.values()) {
          const counts = gateway.counts();
          connected += counts.connected ? 1 : 0;
          queued += counts.queued;
          children += counts.children;
        }
        return { connected, queued, open: children };
      },
      ({ connected, queued, open: children }, translate) => {
        const state = connected > 0 ? 'connected' : 'not connected';
        const base = statusText(
          translate,
          `gridlinks-gateway.status.${connected > 0 ? 'up' : 'down'}`,
          { children, queued },
          `gateway ${state}, ${children} children, ${queued} queued`,
        );
        return withBacklog('gridlinks-gateway', base, connected > 0, outbox?.counts(), translate, 'gateway offline');
      },
    );
    if (storeFolderError) node.error(storeFolderError.message);
    if (!server) status.broken('no server');
    else if (storeFolderError) status.broken('storeDir');
    else if (resolved && !resolved.ok)
      status.broken(resolved.error.details.field === 'ca' || resolved.error.details.field === 'caFile' ? 'CA' : resolved.error.code);

    /** The open gateway of this name (a stored one or one msg.gateway gave). */
    function openNamed(gatewayName: string): Gateway | undefined {
      for (const gateway of gateways.values()) if (gateway.gatewayName === gatewayName) return gateway;
      return undefined;
    }

    const outbox: NodeOutbox<ChildTarget> | undefined =
      server && resolved?.ok
        ? openNodeOutbox(
            outboxSettings(config, storeDir),
            gatewayOutboxLink({
              owns: (gatewayName) => (storeDir !== '' && gatewayName === storedName) || openNamed(gatewayName) !== undefined,
              open: openNamed,
              // A backlog after a restart: the stored gateway is opened for it; a gateway msg.gateway gave waits for its next message.
              reopen: (gatewayName) =>
                storeDir !== '' && gatewayName === storedName && resolved?.ok ? storedGateway(resolved.options) : Promise.resolve(undefined),
            }),
            (key, substitutions) => RED._(key, substitutions),
            node,
            () => status,
            () => closing,
          )
        : undefined;

    function requested(request: ChildRequest, gatewayName: string): void {
      if (closing) return;
      const out: Record<string, unknown> = { deviceName: request.deviceName, gatewayName, topic: request.kind, payload: request.payload };
      if (request.requestId !== undefined) out.requestId = request.requestId;
      node.send([null, out]);
    }

    function open(options: ServerOptions, gatewayDevice: unknown): Gateway {
      const gateway = openGateway({
        server: options,
        gateway: gatewayDevice,
        ...settings,
        onRequest: (request) => requested(request, gateway.gatewayName),
        onChange: () => {
          status.changed();
          outbox?.sessionsChanged();
        },
        onStopped: (error) => {
          if (closing) return;
          status.failed(error.code);
          node.error(error.message);
        },
      });
      return gateway;
    }

    /**
     * The gateway for this message: msg.gateway (a provision result), the open session msg.gatewayName names,
     * else the stored one named in the node. At once when it is open (most messages), a promise while it is read.
     */
    function gatewayFor(gatewayDevice: unknown, gatewayName: unknown, options: ServerOptions): Gateway | Promise<Gateway> {
      if (gatewayDevice !== undefined) {
        const recent = recentGateway.get(gatewayDevice);
        if (recent) return recent;
        const identity = gatewayIdentity(gatewayDevice);
        const key = identityKey(identity);
        const known = gateways.get(key);
        if (known) {
          recentGateway.set(gatewayDevice, known);
          return known;
        }
        if (gateways.size >= MAX_GATEWAYS) {
          throw new ProvisionError('INVALID_INPUT', RED._('gridlinks-gateway.errors.too-many', { max: MAX_GATEWAYS }), { field: 'gateway' });
        }
        const gateway = open(options, identity);
        gateways.set(key, gateway);
        recentGateway.set(gatewayDevice, gateway);
        // Its children's records left in the folder (by an earlier deploy) are this node's now.
        outbox?.adopt();
        return gateway;
      }
      // An answer to output 2 comes back with the gatewayName it went out with: the session that carried the request.
      if (typeof gatewayName === 'string') {
        for (const gateway of gateways.values()) if (gateway.gatewayName === gatewayName) return gateway;
      }
      if (storeFolderError) throw storeFolderError;
      if (!storeDir || !storedName) throw new ProvisionError('INVALID_INPUT', RED._('gridlinks-gateway.errors.no-gateway'), { field: 'gateway' });
      return storedGatewayOpen ?? storedGateway(options);
    }

    /** The gateway named in the node, read from the store folder once. */
    function storedGateway(options: ServerOptions): Promise<Gateway> {
      stored ??= readStoredGateway(storeDir, storedName).then((identity) => {
        const key = identityKey(identity);
        const gateway = gateways.get(key) ?? open(options, identity);
        gateways.set(key, gateway);
        storedGatewayOpen = gateway;
        return gateway;
      });
      // A failed read is tried again by the next message.
      return stored.catch((error: unknown) => {
        stored = undefined;
        throw error;
      });
    }

    function failed(msg: GatewayMessage, done: Done, error: unknown): void {
      if (closing) return;
      status.failed(failMessage(msg, done, error, (failed) => node.error(failed)).code);
    }

    /** Telemetry and attributes go through the outbox: on disk first, output 1 once acknowledged (msg.queued false) or kept (msg.queued true). */
    function keep(gateway: Gateway, msg: GatewayMessage, send: Send, done: Done, store: NodeOutbox<ChildTarget>): void {
      // Live and stored alike, a reading without ts gets the time it was kept: a copy sent again after a lost session overwrites it.
      const stamped = childTopicKind(msg.topic) === 'telemetry' ? stampTelemetry(msg.payload, Date.now()) : msg.payload;
      // Checked before it is stored: what waits on disk can be sent.
      const message = buildChildMessage({ deviceName: msg.deviceName, deviceType: msg.deviceType, topic: msg.topic, payload: stamped });
      if (message.kind !== 'telemetry' && message.kind !== 'attributes') throw new Error(`not kept: ${message.kind}`);
      const { child, kind } = message;
      // Stored as checked and written.
      const payload: unknown = JSON.parse(kind === 'telemetry' ? `[${message.part}]` : message.part);
      const live = (settled: (error: ProvisionError | undefined) => void) => gateway.sendBuilt(message, (error) => settled(error));
      store.keep(
        childKey(gateway, child),
        { gateway, child, deviceType: msg.deviceType },
        { kind, payload, deviceType: message.type },
        live,
        (error, queued) => {
          if (error) return failed(msg, done, error);
          if (closing) return;
          msg.queued = queued;
          if (!queued) status.succeeded();
          completeMessage(msg, send, done, (thrown, failedMsg) => node.error(thrown, failedMsg));
        },
      );
    }

    function act(gateway: Gateway, msg: GatewayMessage, send: Send, done: Done): void {
      const kind = childTopicKind(msg.topic);
      const kept = kind === 'telemetry' || kind === 'attributes';
      if (outbox && msg.persist !== false && kept) {
        try {
          return keep(gateway, msg, send, done, outbox);
        } catch (error) {
          return failed(msg, done, error);
        }
      }
      const isRequest = msg.topic === 'attributes/request';
      // The message itself is the child's input (deviceName, deviceType, topic, payload, requestId are read, nothing is kept).
      gateway.send(msg, (error, answer) => {
        if (error) return failed(msg, done, error);
        if (closing) return;
        if (isRequest) msg.payload = answer;
        status.succeeded();
        completeMessage(msg, send, done, (thrown, failedMsg) => node.error(thrown, failedMsg));
      });
    }

    /** msg.action "flush" (send every backlog now) or "purge" (drop msg.deviceName's backlog, every gateway's, or all): reported on output 1. */
    function outboxAction(msg: GatewayMessage, send: Send, done: Done): void {
      if (!outbox) return failed(msg, done, new ProvisionError('INVALID_INPUT', RED._('gridlinks-gateway.errors.no-outbox'), { field: 'action' }));
      const deviceName = typeof msg.deviceName === 'string' && msg.deviceName !== '' ? msg.deviceName : undefined;
      runOutboxAction(outbox, msg.action === 'flush' ? 'flush' : 'purge', deviceName, (key, name) => parseGatewayChildKey(key)?.child === name).then(
        (payload) => {
          if (closing) return;
          msg.payload = payload;
          completeMessage(msg, send, done, (thrown, failedMsg) => node.error(thrown, failedMsg));
        },
        (error: unknown) => failed(msg, done, error),
      );
    }

    node.on('input', (msg: GatewayMessage, send: Send, done: Done) => {
      if (msg.action === 'flush' || msg.action === 'purge') return outboxAction(msg, send, done);
      if (!server) return failed(msg, done, new ProvisionError('INVALID_INPUT', RED._('gridlinks-gateway.errors.no-server'), { field: 'server' }));
      if (!resolved?.ok) return failed(msg, done, (resolved as { error: ProvisionError }).error);
      // msg.gateway holds the gateway's credentials: it is not sent on with the message. Cleared, not deleted:
      // `delete` turns every message into a slow dictionary object (about 15 % of the node's cost per message).
      const gatewayDevice = msg.gateway;
      msg.gateway = undefined;
      let found: Gateway | Promise<Gateway>;
      try {
        found = gatewayFor(gatewayDevice, msg.gatewayName, resolved.options);
      } catch (error) {
        return failed(msg, done, error);
      }
      if (found instanceof Promise)
        found.then(
          (gateway) => act(gateway, msg, send, done),
          (error: unknown) => failed(msg, done, error),
        );
      else act(found, msg, send, done);
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      status.cancel();
      // The outbox sends nothing more (what is not acknowledged stays stored); closing the sessions ends its drains; then its database closes.
      outbox?.stopSending();
      const all = [...gateways.values()];
      gateways.clear();
      recentGateway.clear();
      Promise.all(all.map((gateway) => gateway.close().then((report) => ({ name: gateway.gatewayName, ...report }))))
        .then(async (reports) => {
          await outbox?.close().catch(() => {});
          return reports;
        })
        .then(
          (reports) => {
            const unsent = reports.filter((r) => r.queued + r.unacknowledged > 0);
            const kept = outbox ? ' Telemetry and attributes among them stay in the outbox and are sent after the next deploy.' : '';
            for (const r of unsent) {
              node.warn(`Gateway "${r.name}" closed with ${r.queued} message(s) not sent and ${r.unacknowledged} not acknowledged.${kept}`);
            }
            done();
          },
          () => done(),
        );
      // A stored gateway still being read is closed once it is open.
      void stored?.then((gateway) => gateway.close()).catch(() => {});
    });
  }

  RED.nodes.registerType('gridlinks-gateway', GridlinksGateway);
};
