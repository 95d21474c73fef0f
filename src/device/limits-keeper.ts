import type { MqttClient } from 'mqtt';
import { DISCONNECT_REASON } from './device-errors';
import type { DeviceAction } from './device-message';
import { PublishPacer } from './publish-pacer';
import { LIMITS_REQUEST_BODY, LIMITS_REQUEST_TOPIC, readSessionLimits, type SessionLimits } from './session-limits';
import { decodePayload } from './topics';

/** How long a session waits for the answer to getSessionLimits before it keeps to the defaults (at most the answer timeout). */
const LIMITS_WAIT_MS = 3_000;

/** How a session ended, as far as the limits go. */
export interface LimitsVerdict {
  /** The server closed it over a rate limit. */
  overLimit: boolean;
  /** …before it told its limits (this session's answer had not come, and none came before). */
  limitsUnknown: boolean;
}

/**
 * One connection's side of the server's session limits (protocol-more.md §7), across its sessions: asks
 * getSessionLimits after each login, admits publishes under them (PublishPacer), and tells a close over a
 * rate limit from another close. After such a close the next session sends nothing until its limits are
 * answered (or the wait ran out), and the closed sessions' publishes are charged to them.
 */
export class LimitsKeeper {
  private readonly pacer = new PublishPacer();
  /** The limits were answered (or the wait for them ran out): a late answer is ignored. */
  private known = false;
  /** Publishes of this session so far (the limits request included): charged to the buckets when the limits come. */
  private sentThisSession = 0;
  /** Running while this session's answer is awaited. */
  private timer: NodeJS.Timeout | undefined;
  /** The last session was closed over a rate limit: the next one sends nothing until the limits are answered (or the wait ran out). */
  private holdForLimits = false;
  /** The publishes of sessions closed over a rate limit, and when the first closed: charged to the next answer's buckets. */
  private closedOverLimits: { sent: number; at: number } | undefined;
  /** The server refused a publish of this session over a rate limit (MQTT 5 PUBACK 0x97): the close that follows is over the limit. */
  private refusedThisSession = false;

  constructor(
    private readonly waitMs: number,
    /** The limits were answered (`limits`) or the wait ran out (undefined): what waited may go now. */
    private readonly settled: (limits: SessionLimits | undefined) => void,
  ) {}

  /** The server's packet limit as it answered it (the default until then). */
  get maxPayloadSize(): number {
    return this.pacer.limits.maxPayloadSize;
  }

  /**
   * Asks the server for this session's limits. Publishes do not wait for the answer (unless the last
   * session was closed over a rate limit): until it comes (one round trip; never, from a server that
   * does not answer) they keep to the limits last answered, or the defaults.
   */
  ask(client: MqttClient): void {
    this.sentThisSession = 1;
    this.refusedThisSession = false;
    client.publish(LIMITS_REQUEST_TOPIC, LIMITS_REQUEST_BODY, { qos: 1 }, () => {});
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.known = true;
        this.closedOverLimits = undefined;
        this.settled(undefined);
      },
      Math.min(LIMITS_WAIT_MS, this.waitMs),
    );
  }

  answered(payload: Buffer): void {
    if (this.timer === undefined && this.known) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const limits = readSessionLimits(decodePayload(payload));
    this.pacer.use(limits, this.sentThisSession, Date.now(), this.closedOverLimits);
    this.closedOverLimits = undefined;
    this.known = true;
    this.settled(limits);
  }

  /** 0 when `action` may be published now (its tokens taken, counted); the ms to wait for tokens; Infinity while the window is full or the limits are awaited. */
  admit(action: DeviceAction, inFlight: number, now: number): number {
    if (this.holdForLimits && this.timer !== undefined) return Infinity;
    const wait = this.pacer.admit(action, inFlight, now);
    if (wait === 0) this.sentThisSession += 1;
    return wait;
  }

  /** The server refused a publish over a rate limit (MQTT 5 PUBACK 0x97, a gateway's); the close follows. */
  refused(): void {
    this.refusedThisSession = true;
  }

  /** This session's answer has not come, and none came before: the limits are not known. */
  get unknown(): boolean {
    return this.timer !== undefined && !this.pacer.announced;
  }

  /**
   * The session was lost with `inFlight` publishes unacknowledged. Over a rate limit: MQTT 5 says so
   * (DISCONNECT 0x83, 0x97); 3.1.1 (or a close without DISCONNECT) does not, so it is inferred: publishes
   * in flight under announced rate limits, or a burst in flight before the server answered getSessionLimits
   * (it answers at once, so a close before it came followed the burst).
   */
  sessionLost(reasonCode: number | undefined, inFlight: number): LimitsVerdict {
    const awaited = this.timer !== undefined;
    const limitsUnknown = this.unknown;
    const overLimit =
      reasonCode !== undefined
        ? reasonCode === DISCONNECT_REASON.implementationSpecific || reasonCode === DISCONNECT_REASON.quotaExceeded
        : this.refusedThisSession || (inFlight > 0 && (this.pacer.announced || (awaited && inFlight > 1)));
    this.holdForLimits = overLimit;
    // Sessions closed over the limits one after another, their answer never come: all their publishes are charged from the first close.
    if (overLimit) this.closedOverLimits = { sent: (this.closedOverLimits?.sent ?? 0) + this.sentThisSession, at: this.closedOverLimits?.at ?? Date.now() };
    this.stop();
    return { overLimit, limitsUnknown };
  }

  /** The rate limits as the server told them, for an error message (undefined: not told yet). */
  describe(limitsUnknown = this.unknown): string | undefined {
    return limitsUnknown ? undefined : this.pacer.describe();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
