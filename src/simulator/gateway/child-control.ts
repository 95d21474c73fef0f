import type { DeviceControl, DeviceSession } from '../devices';
import type { GatewayControls } from '../types';

/**
 * The server side of gateway children: which gateway session each child is online in (named by connect or
 * by a message, until disconnect or the session's end), and what the server sends to a child through it:
 * RPCs on v1/gateway/rpc, shared-attribute updates on v1/gateway/attributes, drops on v1/gateway/disconnect.
 */

const DEFAULT_RPC_TIMEOUT_MS = 10_000;
const DEFAULT_DISCONNECT_REASON = 1;

interface OnlineSession {
  gateway: string;
  children: Set<string>;
}

interface PendingRpc {
  resolve(answer: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export function sendJson(session: DeviceSession, topic: string, value: unknown, qos: 0 | 1 = 1): void {
  session.publish({ cmd: 'publish', topic, payload: Buffer.from(JSON.stringify(value)), qos, retain: false, dup: false }, () => {});
}

export class ChildControl implements GatewayControls {
  private readonly online = new Map<DeviceSession, OnlineSession>();
  private readonly pendingRpc = new Map<string, PendingRpc>();
  private nextRpcId = 1;

  constructor(private readonly devices: DeviceControl) {}

  childOnline(gateway: string, session: DeviceSession, child: string): void {
    let entry = this.online.get(session);
    if (!entry) this.online.set(session, (entry = { gateway, children: new Set() }));
    entry.children.add(child);
  }

  childOffline(session: DeviceSession, child: string): void {
    this.online.get(session)?.children.delete(child);
  }

  /** The gateway's reply `{"device","id","data"}` to a server RPC; false when no RPC waits for it. */
  rpcReplied(child: string, id: number, data: unknown): boolean {
    const key = `${child}\0${id}`;
    const pending = this.pendingRpc.get(key);
    if (!pending) return false;
    this.pendingRpc.delete(key);
    clearTimeout(pending.timer);
    pending.resolve(data);
    return true;
  }

  sendChildRpc(childName: string, request: { method: string; params?: unknown }, timeoutMs = DEFAULT_RPC_TIMEOUT_MS): Promise<unknown> {
    const [session] = this.sessionsOf(childName).slice(-1);
    if (!session) return Promise.reject(new Error(`device ${childName} is not online through a gateway session`));
    const id = this.nextRpcId++;
    return new Promise((resolve, reject) => {
      const key = `${childName}\0${id}`;
      const timer = setTimeout(() => {
        this.pendingRpc.delete(key);
        reject(new Error(`gateway did not answer RPC ${id} (${request.method}) for ${childName} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pendingRpc.set(key, { resolve, reject, timer });
      sendJson(session, 'v1/gateway/rpc', { device: childName, data: { id, method: request.method, params: request.params ?? {} } });
    });
  }

  setChildSharedAttributes(childName: string, values: Record<string, unknown>, deleted: string[] = []): number {
    this.devices.storeSharedAttributes(childName, values, deleted);
    const data = deleted.length > 0 ? { ...values, deleted } : values;
    const sessions = this.sessionsOf(childName);
    for (const session of sessions) sendJson(session, 'v1/gateway/attributes', { device: childName, data });
    return sessions.length;
  }

  disconnectChild(childName: string, reason = DEFAULT_DISCONNECT_REASON): number {
    const sessions = this.sessionsOf(childName);
    for (const session of sessions) {
      sendJson(session, 'v1/gateway/disconnect', { device: childName, reason });
      this.childOffline(session, childName);
    }
    return sessions.length;
  }

  connectedChildren(): Record<string, string[]> {
    const byGateway: Record<string, string[]> = {};
    for (const [, entry] of this.liveSessions()) {
      if (entry.children.size > 0) byGateway[entry.gateway] = [...(byGateway[entry.gateway] ?? []), ...entry.children];
    }
    return byGateway;
  }

  /** Rejects every RPC still waiting (simulator stopping). */
  close(): void {
    for (const pending of this.pendingRpc.values()) {
      clearTimeout(pending.timer);
      pending.reject(new Error('simulator stopped'));
    }
    this.pendingRpc.clear();
  }

  /** Open gateway sessions where the child is online, oldest first. */
  private sessionsOf(child: string): DeviceSession[] {
    return [...this.liveSessions()].filter(([, entry]) => entry.children.has(child)).map(([session]) => session);
  }

  /** Entries of sessions still open; closed ones are forgotten on the way. */
  private *liveSessions(): Generator<[DeviceSession, OnlineSession]> {
    for (const [session, entry] of this.online) {
      if (this.devices.sessionsOf(entry.gateway).includes(session)) yield [session, entry];
      else this.online.delete(session);
    }
  }
}
