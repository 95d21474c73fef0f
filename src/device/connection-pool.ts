import type { ProvisionError } from '../provisioning/errors';
import { DeviceConnection, type ConnectionSettings } from './device-connection';
import { credentialsProblem } from './credential-check';
import { closedWhileQueued } from './device-errors';
import { identityKey, sameLogin, type DeviceIdentity } from './device-identity';
import type { DeviceAction } from './device-message';
import type { Settled } from './in-flight';
import type { IncomingMessage } from './topics';
import { QueueBudget } from './queue-budget';
import { RECONNECT_DEFAULTS } from './reconnect-policy';

export interface PoolSettings extends ConnectionSettings {
  /** At most this many sessions open at once; the least recently used idle one is closed for a new one. */
  maxConnections: number;
  /** A session unused this long is closed; 0 = never. */
  idleTimeoutMs: number;
  /** Sessions being opened at once (the others wait their turn, their connect timeout not yet running). */
  maxConnecting: number;
  /** Payload bytes waiting for their sessions, all devices together; a message that does not fit is QUEUE_FULL. */
  queueBudgetBytes: number;
}

export interface PoolCounts {
  connected: number;
  /** Messages waiting for their device's session. */
  queued: number;
  /** Sessions open or being opened. */
  open: number;
}

export interface PoolEvents {
  incoming(deviceName: string, message: IncomingMessage): void;
  /** Something counted by counts() may have changed (called often: read counts() lazily). */
  changed(): void;
  /** A device's session stopped reconnecting for good (SESSION_TAKEN_OVER): its messages fail with `error` until the pool is closed. */
  stopped?(deviceName: string, error: ProvisionError): void;
  /**
   * For a device of a store folder, what reads it again before each login of its session (a renewal may
   * have replaced its certificate; undefined from that read: not now); undefined for any other device.
   */
  reread?(identity: DeviceIdentity): (() => Promise<DeviceIdentity | undefined>) | undefined;
}

export interface ClosedDevice {
  deviceName: string;
  queued: number;
  unacknowledged: number;
}

export const POOL_DEFAULTS = {
  maxConnections: 1000,
  maxConnecting: 32,
  idleTimeoutMs: 300_000,
  queueLimit: 100,
  queueBudgetBytes: 64 * 1024 * 1024,
  ...RECONNECT_DEFAULTS,
};

/**
 * One MQTT session per device, opened on first use and shared by every message for it; at most
 * `maxConnections` open (least recently used idle session closed first; a new device waits for a
 * place when every open session is busy), idle sessions closed after `idleTimeoutMs`.
 */
export class ConnectionPool {
  private readonly connections = new Map<string, DeviceConnection>();
  /** The session last used for each device name (it may since have closed: checked on use). */
  private readonly latestByName = new Map<string, DeviceConnection>();
  private readonly waitingForPlace: DeviceConnection[] = [];
  /** Lost sessions whose backoff is over: they hold their place and wait for a connect slot only. */
  private readonly waitingForSlot: DeviceConnection[] = [];
  private readonly idleSweep: NodeJS.Timeout | undefined;
  private readonly budget: QueueBudget;
  private closing = false;
  /** givePlaces() is running; a nested call sets placeAgain instead. */
  private placing = false;
  private placeAgain = false;

  constructor(
    private readonly settings: PoolSettings,
    private readonly events: PoolEvents,
  ) {
    this.budget = new QueueBudget(settings.queueBudgetBytes);
    if (settings.idleTimeoutMs > 0) {
      this.idleSweep = setInterval(() => this.closeIdle(), Math.max(100, Math.min(settings.idleTimeoutMs / 4, 10_000)));
      this.idleSweep.unref();
    }
  }

  /** Sends `action` as `identity`; resolves once GridLinks acknowledged it (an attribute request: with the answer). */
  send(identity: DeviceIdentity, action: DeviceAction): Promise<unknown> {
    return new Promise((resolve, reject) => this.submit(identity, action, (error, answer) => (error ? reject(error) : resolve(answer))));
  }

  /** As send(), with a callback: what the node uses for every message (no promise per message). */
  submit(identity: DeviceIdentity, action: DeviceAction, settled: Settled): void {
    // A message that arrives after close() (e.g. its device was still being read from the store) opens nothing.
    if (this.closing) return settled(closedWhileQueued(identity.deviceName));
    // Most messages are for a device whose session is open: found by name, the login compared field by field.
    const latest = this.latestByName.get(identity.deviceName);
    if (latest !== undefined && latest.state !== 'closed' && sameLogin(latest.identity, identity)) return latest.submit(action, settled);
    const key = identityKey(identity);
    let connection = this.connections.get(key);
    if (connection) {
      this.latestByName.set(identity.deviceName, connection);
      return connection.submit(action, settled);
    }
    // Credentials that cannot work fail here, before they take a place or a connect slot.
    const problem = credentialsProblem(identity);
    if (problem) return settled(problem);
    const reread = this.events.reread?.(identity);
    connection = new DeviceConnection(
      key,
      identity,
      this.settings,
      {
        incoming: (from, message) => this.events.incoming(from.deviceName, message),
        changed: (from) => this.connectionChanged(from),
        stopped: (from, error) => this.events.stopped?.(from.deviceName, error),
        reconnectDue: (from) => {
          this.waitingForSlot.push(from);
          this.givePlaces();
        },
        ...(reread ? { reread } : {}),
      },
      this.budget,
    );
    this.connections.set(key, connection);
    this.latestByName.set(identity.deviceName, connection);
    connection.submit(action, settled);
    this.waitingForPlace.push(connection);
    this.givePlaces();
  }

  /** The device of an open (or opening) session by name: lets a flow answer an RPC with msg.deviceName alone. */
  knownDevice(deviceName: string): DeviceIdentity | undefined {
    let found: DeviceIdentity | undefined;
    for (const connection of this.connections.values()) if (connection.deviceName === deviceName && connection.state !== 'closed') found = connection.identity;
    return found;
  }

  /** The device's session is up (logged in) now. */
  isConnected(deviceName: string): boolean {
    return this.latestByName.get(deviceName)?.state === 'connected';
  }

  /** The device's session was lost and waits to reconnect: a message for it now would wait in memory. */
  isDown(deviceName: string): boolean {
    return this.latestByName.get(deviceName)?.state === 'waiting';
  }

  /** Closes the device's idle sessions: another node sends its messages now, and a session left open here would take that one's over on reconnecting. */
  async closeIdleOf(deviceName: string): Promise<void> {
    const idle = [...this.connections.values()].filter((connection) => connection.deviceName === deviceName && connection.isOpen && connection.isIdle);
    for (const connection of idle) this.forget(connection);
    await Promise.all(idle.map((connection) => connection.close()));
  }

  counts(): PoolCounts {
    const counts: PoolCounts = { connected: 0, queued: 0, open: 0 };
    for (const connection of this.connections.values()) {
      if (connection.state === 'connected') counts.connected += 1;
      if (connection.isOpen) counts.open += 1;
      counts.queued += connection.queued;
    }
    return counts;
  }

  /** Ends every session; resolves with the devices that still had messages waiting or unacknowledged. */
  async close(): Promise<ClosedDevice[]> {
    this.closing = true;
    if (this.idleSweep) clearInterval(this.idleSweep);
    this.waitingForPlace.length = 0;
    this.waitingForSlot.length = 0;
    const all = [...this.connections.values()];
    this.connections.clear();
    this.latestByName.clear();
    const reports = await Promise.all(all.map(async (connection) => ({ deviceName: connection.deviceName, ...(await connection.close()) })));
    return reports.filter((report) => report.queued > 0 || report.unacknowledged > 0);
  }

  private connectionChanged(connection: DeviceConnection): void {
    if (this.closing) return;
    // A session stopped for good stays known: its device's messages fail with the reason, rather than start the takeover loop again.
    if (connection.state === 'closed' && !connection.stoppedBy && this.connections.get(connection.key) === connection) this.forget(connection);
    const waiting = this.waitingForPlace.length + this.waitingForSlot.length > 0;
    if (waiting && (connection.state !== 'connecting' || connection.isIdle)) this.givePlaces();
    this.events.changed();
  }

  /**
   * Starts waiting connections while there is a place (or an idle session to close for one) and a
   * connect slot. Re-entrant: starting or closing a session reports back synchronously (its state
   * changed), and a call made meanwhile only asks for one more round once this one is done.
   */
  private givePlaces(): void {
    if (this.placing) {
      this.placeAgain = true;
      return;
    }
    this.placing = true;
    try {
      do {
        this.placeAgain = false;
        this.placeRound();
      } while (this.placeAgain && !this.closing);
    } finally {
      this.placing = false;
    }
  }

  private placeRound(): void {
    let open = 0;
    let connecting = 0;
    for (const connection of this.connections.values()) {
      if (connection.isOpen) open += 1;
      if (connection.state === 'connecting') connecting += 1;
    }
    // Reconnects first: they already hold a place.
    while (this.waitingForSlot.length > 0 && connecting < this.settings.maxConnecting) {
      const next = this.waitingForSlot.shift();
      if (!next?.wantsSlot) continue;
      next.start();
      connecting += 1;
    }
    while (this.waitingForPlace.length > 0 && connecting < this.settings.maxConnecting) {
      if (open >= this.settings.maxConnections) {
        const victim = this.leastRecentlyUsedIdle();
        if (!victim) return;
        this.forget(victim);
        void victim.close();
        open -= 1;
      }
      const next = this.waitingForPlace.shift();
      if (!next?.wantsSlot) continue;
      next.start();
      open += 1;
      connecting += 1;
    }
  }

  private forget(connection: DeviceConnection): void {
    this.connections.delete(connection.key);
    if (this.latestByName.get(connection.deviceName) === connection) this.latestByName.delete(connection.deviceName);
  }

  private leastRecentlyUsedIdle(): DeviceConnection | undefined {
    let oldest: DeviceConnection | undefined;
    for (const connection of this.connections.values()) {
      if (connection.isOpen && connection.isIdle && (!oldest || connection.useOrder < oldest.useOrder)) oldest = connection;
    }
    return oldest;
  }

  private closeIdle(): void {
    const limit = Date.now() - this.settings.idleTimeoutMs;
    for (const connection of [...this.connections.values()]) {
      if (connection.isOpen && connection.isIdle && connection.lastUsed < limit) {
        this.forget(connection);
        void connection.close();
      }
    }
  }
}
