import type { DeviceAction } from './device-message';
import { DEFAULT_SESSION_LIMITS, type RateLimitTexts, type SessionLimits } from './session-limits';
import { TokenBuckets } from './token-bucket';
import { TELEMETRY_TOPIC } from './topics';

/** Data points of a telemetry body: the keys of each `{k: v}` or `{ts, values}` entry; a gateway's `{"child": [...]}` summed over its children. */
function dataPoints(body: unknown, gateway: boolean): number {
  if (gateway && typeof body === 'object' && body !== null && !Array.isArray(body)) {
    return Object.values(body).reduce((sum: number, entries) => sum + dataPoints(entries, false), 0);
  }
  if (Array.isArray(body)) return body.reduce((sum: number, entry) => sum + dataPoints(entry, false), 0);
  if (typeof body !== 'object' || body === null) return 0;
  const entry = body as Record<string, unknown>;
  if ('ts' in entry && typeof entry.values === 'object' && entry.values !== null) return Object.keys(entry.values).length;
  return Object.keys(entry).length;
}

/**
 * Keeps one session's publishes under the limits the server told it (protocol-more.md §7): at most
 * `maxInflightMessages` unacknowledged, and the rate limits as token buckets (`messages` every publish,
 * `telemetryMessages` and `telemetryDataPoints` telemetry), so that a burst or a backlog never makes the
 * server close the session.
 */
export class PublishPacer {
  limits: SessionLimits = DEFAULT_SESSION_LIMITS;
  private messages: TokenBuckets | null = null;
  private telemetryMessages: TokenBuckets | null = null;
  private telemetryDataPoints: TokenBuckets | null = null;

  /**
   * The server's answer: buckets start full, less the `alreadySent` publishes of this session that went out
   * before it (the request included), and less those of a session closed over the limits (`closed`, refilled since).
   */
  use(limits: SessionLimits, alreadySent: number, now = Date.now(), closed?: { sent: number; at: number }): void {
    this.limits = limits;
    const start = closed?.at ?? now;
    const spent = alreadySent + (closed?.sent ?? 0);
    this.messages = TokenBuckets.parse(limits.rateLimits.messages, start);
    this.telemetryMessages = TokenBuckets.parse(limits.rateLimits.telemetryMessages, start);
    this.telemetryDataPoints = TokenBuckets.parse(limits.rateLimits.telemetryDataPoints, start);
    this.messages?.take(spent);
    this.telemetryMessages?.take(spent);
  }

  get rateLimited(): boolean {
    return this.messages !== null || this.telemetryMessages !== null || this.telemetryDataPoints !== null;
  }

  /** The server told rate limits: the session's, or (a gateway's) its children's. */
  get announced(): boolean {
    return this.describe() !== '';
  }

  /** The rate limits as the server gave them, for an error message. */
  describe(): string {
    const named = (texts: RateLimitTexts | null, prefix: string): string[] =>
      Object.entries(texts ?? {})
        .filter(([, text]) => text)
        .map(([name, text]) => `${prefix}${name} "${text}"`);
    return [...named(this.limits.rateLimits, ''), ...named(this.limits.childRateLimits, "each child's ")].join(', ');
  }

  /**
   * 0 when `action` may be published now (its tokens taken); the ms to wait for tokens; Infinity while
   * the in-flight window is full (wait for acknowledgements). `messages` 0: it joins a publish counted already (a gateway child's part of a batch).
   */
  admit(action: DeviceAction, inFlight: number, now: number, messages = 1): number {
    if (inFlight >= this.limits.maxInflightMessages) return Infinity;
    if (!this.rateLimited) return 0;
    const telemetry = action.kind === 'telemetry';
    const points = telemetry && this.telemetryDataPoints ? dataPoints(JSON.parse(action.body), action.topic !== TELEMETRY_TOPIC) : 0;
    const wait = Math.max(
      this.messages?.waitFor(messages, now) ?? 0,
      telemetry ? (this.telemetryMessages?.waitFor(messages, now) ?? 0) : 0,
      telemetry ? (this.telemetryDataPoints?.waitFor(points, now) ?? 0) : 0,
    );
    if (wait > 0) return wait;
    this.messages?.take(messages);
    if (telemetry) {
      this.telemetryMessages?.take(messages);
      this.telemetryDataPoints?.take(points);
    }
    return 0;
  }
}
