import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { GATEWAY_DEFAULTS, gatewayIdentity, gatewayKey as identityKey, openGateway, readStoredGateway, type ChildRequest, type Gateway } from './gateway';
import { DeviceStatus, statusText } from './node-red/device-status';
import { completeMessage, failMessage } from './node-red/message-outcome';
import type { GridlinksServerNode } from './node-red/server-options';
import { ProvisionError } from './provisioning/errors';
import type { ServerOptions } from './provisioning/types';

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
type GatewayNodeDef = NodeDef & GatewayNodeProperties;
type GatewayMessage = NodeMessageInFlow & {
  gateway?: unknown;
  gatewayName?: unknown;
  deviceName?: unknown;
  deviceType?: unknown;
  requestId?: unknown;
  gridlinksError?: unknown;
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
    const storeDir = typeof config.storeDir === 'string' ? config.storeDir.trim() : '';
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

    const status = new DeviceStatus(
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
        return statusText(
          translate,
          `gridlinks-gateway.status.${connected > 0 ? 'up' : 'down'}`,
          { children, queued },
          `gateway ${state}, ${children} children, ${queued} queued`,
        );
      },
    );
    if (!server) status.broken('no server');
    else if (resolved && !resolved.ok)
      status.broken(resolved.error.details.field === 'ca' || resolved.error.details.field === 'caFile' ? 'CA' : resolved.error.code);

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
        onChange: () => status.changed(),
        onStopped: (error) => {
          if (closing) return;
          status.failed(error.code);
          node.error(error.message);
        },
      });
      return gateway;
    }

    /** The gateway for this message: msg.gateway (a provision result), else the stored one named in the node. */
    async function gatewayFor(msg: GatewayMessage, options: ServerOptions): Promise<Gateway> {
      if (msg.gateway !== undefined) {
        const identity = gatewayIdentity(msg.gateway);
        const key = identityKey(identity);
        const known = gateways.get(key);
        if (known) return known;
        if (gateways.size >= MAX_GATEWAYS) {
          throw new ProvisionError('INVALID_INPUT', RED._('gridlinks-gateway.errors.too-many', { max: MAX_GATEWAYS }), { field: 'gateway' });
        }
        const gateway = open(options, identity);
        gateways.set(key, gateway);
        return gateway;
      }
      // An answer to output 2 comes back with the gatewayName it went out with: the session that carried the request.
      if (typeof msg.gatewayName === 'string') {
        for (const gateway of gateways.values()) if (gateway.gatewayName === msg.gatewayName) return gateway;
      }
      if (!storeDir || !storedName) throw new ProvisionError('INVALID_INPUT', RED._('gridlinks-gateway.errors.no-gateway'), { field: 'gateway' });
      stored ??= readStoredGateway(storeDir, storedName).then((identity) => {
        const gateway = open(options, identity);
        gateways.set(`\0stored`, gateway);
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

    function act(gateway: Gateway, msg: GatewayMessage, send: Send, done: Done): void {
      const isRequest = msg.topic === 'attributes/request';
      gateway.send(
        { deviceName: msg.deviceName, deviceType: msg.deviceType, topic: msg.topic, payload: msg.payload, requestId: msg.requestId },
        (error, answer) => {
          if (error) return failed(msg, done, error);
          if (closing) return;
          if (isRequest) msg.payload = answer;
          status.succeeded();
          completeMessage(msg, send, done, (thrown, failedMsg) => node.error(thrown, failedMsg));
        },
      );
    }

    node.on('input', (msg: GatewayMessage, send: Send, done: Done) => {
      if (!server) return failed(msg, done, new ProvisionError('INVALID_INPUT', RED._('gridlinks-gateway.errors.no-server'), { field: 'server' }));
      if (!resolved?.ok) return failed(msg, done, (resolved as { error: ProvisionError }).error);
      // msg.gateway holds the gateway's credentials: it is not sent on with the message.
      const gatewayDevice = msg.gateway;
      delete msg.gateway;
      gatewayFor({ ...msg, gateway: gatewayDevice }, resolved.options).then(
        (gateway) => act(gateway, msg, send, done),
        (error: unknown) => failed(msg, done, error),
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      status.cancel();
      const all = [...gateways.values()];
      gateways.clear();
      Promise.all(all.map((gateway) => gateway.close().then((report) => ({ name: gateway.gatewayName, ...report })))).then(
        (reports) => {
          const unsent = reports.filter((r) => r.queued + r.unacknowledged > 0);
          for (const r of unsent) {
            node.warn(`Gateway "${r.name}" closed with ${r.queued} message(s) not sent and ${r.unacknowledged} not acknowledged.`);
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
