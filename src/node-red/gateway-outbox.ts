import type { Gateway } from '../gateway';
import { gatewayChildKey, parseGatewayChildKey, type OutboxLink } from './node-outbox';

/** What sends a gateway child's backlog: the gateway's session, the child's name and (when a message gave it) its device type. */
export interface ChildTarget {
  gateway: Gateway;
  child: string;
  deviceType?: unknown;
}

export interface GatewaySessions {
  /** The gateways whose children's records this node drains: its stored gateway, and those open now. */
  owns(gatewayName: string): boolean;
  /** The gateway open now under this name. */
  open(gatewayName: string): Gateway | undefined;
  /** The gateway of a backlog after a restart: the node's stored gateway, opened (undefined: not one this node can open). */
  reopen(gatewayName: string): Promise<Gateway | undefined>;
}

/** The key of a child's message through `gateway`: its records apart from every other child's and every device's. */
export function childKey(gateway: Gateway, child: string): string {
  return gatewayChildKey(gateway.gatewayName, child);
}

/**
 * gridlinks-gateway's side of the outbox: a child's records are filed under its gateway and its name
 * and sent again through the gateway session as the child's messages (announced first, batched with the
 * other children's, each settled by its PUBACK).
 */
export function gatewayOutboxLink(sessions: GatewaySessions): OutboxLink<ChildTarget> {
  const stateOf = (key: string) => {
    const named = parseGatewayChildKey(key);
    return named ? sessions.open(named.gatewayName)?.state : undefined;
  };
  return {
    owns: (key) => {
      const named = parseGatewayChildKey(key);
      return named !== undefined && sessions.owns(named.gatewayName);
    },
    isConnected: (key) => stateOf(key) === 'connected',
    isDown: (key) => stateOf(key) === 'waiting',
    targetByKey: async (key) => {
      const named = parseGatewayChildKey(key);
      if (!named) return undefined;
      const gateway = sessions.open(named.gatewayName) ?? (await sessions.reopen(named.gatewayName));
      return gateway ? { gateway, child: named.child } : undefined;
    },
    publish: async ({ gateway, child, deviceType }, entries) => {
      await Promise.all(
        entries.map((entry) =>
          gateway.request({ deviceName: child, deviceType: entry.deviceType ?? deviceType, topic: entry.kind, payload: JSON.parse(entry.body) as unknown }),
        ),
      );
    },
  };
}
