/**
 * A GridLinks rate limit: `capacity:seconds` pairs, comma-separated ("100:1,3000:60" = at most 100 in any
 * second and 3,000 in any minute), each a token bucket that refills greedily (capacity per period, spread
 * evenly), as bucket4j's `Bandwidth.simple` that the platform uses. A publish takes its tokens from every
 * bucket or from none.
 */

interface Bucket {
  capacity: number;
  refillPerMs: number;
  tokens: number;
  updatedAt: number;
}

export class RateLimit {
  private constructor(private readonly buckets: Bucket[]) {}

  /** Null for null, "" or only blanks (no limit); throws on a malformed pair. */
  static parse(text: string | null | undefined, now = Date.now()): RateLimit | null {
    if (!text?.trim()) return null;
    const buckets = text.split(',').map((pair) => {
      const match = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(pair);
      if (!match || Number(match[1]) === 0 || Number(match[2]) === 0) throw new Error(`rate limit "${text}": "${pair}" is not capacity:seconds`);
      const capacity = Number(match[1]);
      return { capacity, refillPerMs: capacity / (Number(match[2]) * 1000), tokens: capacity, updatedAt: now };
    });
    return new RateLimit(buckets);
  }

  /** Takes `count` tokens from every bucket when each has them; false (nothing taken) otherwise. */
  tryConsume(count: number, now = Date.now()): boolean {
    for (const bucket of this.buckets) {
      bucket.tokens = Math.min(bucket.capacity, bucket.tokens + (now - bucket.updatedAt) * bucket.refillPerMs);
      bucket.updatedAt = now;
    }
    if (this.buckets.some((bucket) => bucket.tokens < count)) return false;
    for (const bucket of this.buckets) bucket.tokens -= count;
    return true;
  }
}
