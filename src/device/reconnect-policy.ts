/** When a lost session tries again: what a device session (and a gateway session) is told to use. */
export interface ReconnectSettings {
  /** The cap of the first reconnect delay; the cap doubles with every failure in a row. */
  reconnectBaseMs: number;
  /** The largest cap. */
  reconnectMaxMs: number;
  /** A session must have stayed up this long before its failures are forgotten (one that drops right after login keeps backing off). */
  reconnectStableMs: number;
}

export const RECONNECT_DEFAULTS: ReconnectSettings = {
  reconnectBaseMs: 1_000,
  reconnectMaxMs: 60_000,
  reconnectStableMs: 30_000,
};

/**
 * Exponential backoff with full jitter (a delay drawn between 0 and the cap, the cap doubling per
 * failure up to reconnectMaxMs), reset only by a session that stayed up reconnectStableMs: a server
 * that drops every session right after its login sees each device back about once per backoff step,
 * spread out rather than all at once.
 */
export class ReconnectBackoff {
  private failures = 0;
  private upSince: number | undefined;

  constructor(
    private readonly settings: ReconnectSettings,
    private readonly random: () => number = Math.random,
  ) {}

  /** The session is up (logged in and subscribed). */
  up(now = Date.now()): void {
    this.upSince = now;
  }

  /** The session was lost or an attempt failed: the delay before the next attempt. */
  nextDelay(now = Date.now()): number {
    if (this.upSince !== undefined && now - this.upSince >= this.settings.reconnectStableMs) this.failures = 0;
    this.upSince = undefined;
    const { reconnectBaseMs, reconnectMaxMs } = this.settings;
    const cap = Math.min(reconnectMaxMs, reconnectBaseMs * 2 ** Math.min(this.failures, 30));
    this.failures += 1;
    return Math.floor(this.random() * cap);
  }
}
