import { ProvisionError } from '../provisioning/errors';

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(stopped());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(stopped());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function stopped(): ProvisionError {
  return new ProvisionError('ABORTED', 'The replay was stopped.');
}

/**
 * Paces messages: `ratePerSecond` tokens a second, at most `capacity` saved up. Takers are served in
 * the order they asked, each waiting only for the tokens it lacks.
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt = Date.now();
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly ratePerSecond: number,
    readonly capacity: number,
  ) {
    this.tokens = capacity;
  }

  take(count: number, signal?: AbortSignal): Promise<void> {
    const wanted = Math.min(count, this.capacity);
    const turn = this.tail.then(async () => {
      this.refill();
      if (this.tokens < wanted) {
        await pause(((wanted - this.tokens) / this.ratePerSecond) * 1000, signal);
        this.refill();
      }
      this.tokens -= wanted;
    });
    this.tail = turn.catch(() => {});
    return turn;
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.refilledAt) / 1000) * this.ratePerSecond);
    this.refilledAt = now;
  }
}
