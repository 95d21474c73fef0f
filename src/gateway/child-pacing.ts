import { PublishPacer, TELEMETRY_TOPIC, type DeviceAction, type RateLimitTexts, type Settled } from '../device';

/** A child's limits are rate limits only: the in-flight window and packet size are the session's (its own pacer keeps them). */
const UNBOUNDED = { maxPayloadSize: Infinity, maxInflightMessages: Infinity, childRateLimits: null };

/** What a child's message costs: a publish's (`joins`, asked when it would go: true when it joins a publish of the child counted already, its data points only). */
export type ChildCost = DeviceAction & { joins?: () => boolean };

/** A child's message waiting for its tokens: `go` sends it on (to the batcher, or published), `settled` fails it if it never goes. */
interface Waiting {
  cost: ChildCost;
  go: () => void;
  settled: Settled;
}

/** What a telemetry part costs a child: one message (none when it `joins` a batch), and its data points (the part is the entries without the array's brackets). */
export function telemetryCost(part: string, joins: () => boolean): ChildCost {
  return { kind: 'telemetry', topic: TELEMETRY_TOPIC, body: `[${part}]`, joins };
}

/**
 * Each child's rate limits (a gateway's answer to getSessionLimits gives them as `rateLimits`; GridLinks
 * keeps a set of buckets per child): a child's messages go on while its buckets allow (at 90 %, as a
 * device session paces), the rest wait in order behind a timer. A child held back holds back no other:
 * the others' messages go on at once. No limits (none told, or none set): everything goes at once.
 */
export class ChildPacing {
  private limits: RateLimitTexts | null = null;
  private readonly pacers = new Map<string, PublishPacer>();
  private readonly waiting = new Map<string, Waiting[]>();
  /** Each child's messages let go before any limits were told: charged to its buckets when they are. */
  private readonly sentUnlimited = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires (Date.now() based). */
  private timerAt = Infinity;

  /** The children's limits as the server told them (null: none); the buckets start over when they change. */
  use(limits: RateLimitTexts | null): void {
    const rated = limits && Object.values(limits).some((text) => text) ? limits : null;
    if (JSON.stringify(rated) === JSON.stringify(this.limits)) return;
    this.limits = rated;
    this.pacers.clear();
    if (rated) {
      const now = Date.now();
      for (const [child, sent] of this.sentUnlimited) this.pacerOf(child, now).use({ ...UNBOUNDED, rateLimits: rated }, sent, now);
    }
    this.sentUnlimited.clear();
    this.release();
  }

  /** No limits told and nothing of the child waiting: its message may go now (counted, to be charged when limits come). */
  passes(child: string): boolean {
    if (this.limits || this.waiting.has(child)) return false;
    this.sentUnlimited.set(child, (this.sentUnlimited.get(child) ?? 0) + 1);
    return true;
  }

  /** Calls `go` once `child`'s limits allow `cost` (now, when they do and nothing of the child waits). */
  run(child: string, cost: ChildCost, go: () => void, settled: Settled): void {
    const queue = this.waiting.get(child);
    if (queue) {
      queue.push({ cost, go, settled });
      return;
    }
    const wait = this.admit(child, cost, Date.now());
    if (wait === 0) return go();
    this.waiting.set(child, [{ cost, go, settled }]);
    this.schedule(wait);
  }

  /** A forgotten child (idle, or dropped by the server): its buckets go, unless it has messages waiting. */
  forget(child: string): void {
    this.sentUnlimited.delete(child);
    if (!this.waiting.has(child)) this.pacers.delete(child);
  }

  /** The waiting messages, for the caller to fail (closing); nothing goes on. */
  takeAll(): Settled[] {
    clearTimeout(this.timer);
    this.timer = undefined;
    const queues = [...this.waiting.values()];
    const taken = queues.flat().map((waiting) => waiting.settled);
    // Emptied too: a release under way (a message's callback closed the gateway) lets none of them go.
    for (const queue of queues) queue.length = 0;
    this.waiting.clear();
    return taken;
  }

  private admit(child: string, cost: ChildCost, now: number): number {
    if (!this.limits) {
      this.sentUnlimited.set(child, (this.sentUnlimited.get(child) ?? 0) + 1);
      return 0;
    }
    return this.pacerOf(child, now).admit(cost, 0, now, cost.joins?.() ? 0 : 1);
  }

  /** The child's buckets (full when new), while there are limits. */
  private pacerOf(child: string, now: number): PublishPacer {
    let pacer = this.pacers.get(child);
    if (!pacer) {
      pacer = new PublishPacer();
      pacer.use({ ...UNBOUNDED, rateLimits: this.limits as RateLimitTexts }, 0, now);
      this.pacers.set(child, pacer);
    }
    return pacer;
  }

  /** The timer for `wait` ms from now, unless it fires sooner already. */
  private schedule(wait: number): void {
    const at = Date.now() + wait;
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.release();
    }, wait);
  }

  /** Lets go what each child's tokens allow now; the timer for the nearest wait. */
  private release(): void {
    const now = Date.now();
    let next = Infinity;
    for (const [child, queue] of this.waiting) {
      while (queue.length > 0) {
        const wait = this.admit(child, queue[0].cost, now);
        if (wait > 0) {
          next = Math.min(next, wait);
          break;
        }
        (queue.shift() as Waiting).go();
      }
      if (queue.length === 0) this.waiting.delete(child);
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    if (next < Infinity) this.schedule(next);
  }
}
