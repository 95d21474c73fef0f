/** Of the server's limits this client uses: it keeps a margin for network jitter and clocks (the server's bucket may see a burst closer together). */
const SHARE = 0.9;

interface Bucket {
  capacity: number;
  refillPerMs: number;
  tokens: number;
  updatedAt: number;
}

/**
 * The client's side of a GridLinks rate limit (`capacity:seconds` pairs, comma-separated, each a bucket
 * refilled evenly over its period): how long a publish must wait so that the server's buckets never run
 * dry. Pairs that do not parse are skipped (the server answers them; a limit we cannot read is not ours to invent).
 */
export class TokenBuckets {
  private constructor(private readonly buckets: Bucket[]) {}

  /** Null for no limit. */
  static parse(text: string | null, now: number): TokenBuckets | null {
    if (!text) return null;
    const buckets: Bucket[] = [];
    for (const pair of text.split(',')) {
      const match = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(pair);
      if (!match || Number(match[1]) === 0 || Number(match[2]) === 0) continue;
      const capacity = Math.max(1, Math.floor(Number(match[1]) * SHARE));
      buckets.push({ capacity, refillPerMs: capacity / (Number(match[2]) * 1000), tokens: capacity, updatedAt: now });
    }
    return buckets.length > 0 ? new TokenBuckets(buckets) : null;
  }

  /** The ms until every bucket holds `count` tokens (0: now); nothing is taken. */
  waitFor(count: number, now: number): number {
    let wait = 0;
    for (const bucket of this.buckets) {
      bucket.tokens = Math.min(bucket.capacity, bucket.tokens + (now - bucket.updatedAt) * bucket.refillPerMs);
      bucket.updatedAt = now;
      // More than a bucket holds: it goes out once the bucket is full (the server then refuses it, as it would anyway).
      const needed = Math.min(count, bucket.capacity) - bucket.tokens;
      if (needed > 0) wait = Math.max(wait, Math.ceil(needed / bucket.refillPerMs));
    }
    return wait;
  }

  /** Takes `count` tokens (after waitFor() answered 0; before, publishes already made, down to one bucket's worth below empty). */
  take(count: number): void {
    for (const bucket of this.buckets) bucket.tokens = Math.max(-bucket.capacity, bucket.tokens - Math.min(count, bucket.capacity));
  }
}
