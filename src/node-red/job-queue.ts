/**
 * A FIFO queue that runs at most `maxParallel` jobs at once. A queued entry is only what the caller
 * gave (a msg reference plus send/done); nothing is computed until the job starts, so a burst of
 * messages costs one small object each while it waits.
 */
import { asError } from '../provisioning/errors';

export interface QueueCounts {
  running: number;
  queued: number;
}

export type JobRunner<T> = (item: T, signal: AbortSignal) => Promise<void>;

export class JobQueue<T> {
  private readonly waiting: T[] = [];
  /** Index of the next waiting item; the array is compacted lazily so dequeue stays O(1). */
  private head = 0;
  private readonly running = new Set<AbortController>();
  private readonly idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly maxParallel: number,
    private readonly runJob: JobRunner<T>,
    private readonly onChange: (counts: QueueCounts) => void = () => {},
  ) {
    if (!Number.isInteger(maxParallel) || maxParallel < 1) throw new RangeError('maxParallel must be an integer >= 1');
  }

  counts(): QueueCounts {
    return { running: this.running.size, queued: this.waiting.length - this.head };
  }

  /** Returns false (and does nothing) once the queue is closed. */
  push(item: T): boolean {
    if (this.closed) return false;
    this.waiting.push(item);
    this.pump();
    this.onChange(this.counts());
    return true;
  }

  /**
   * Stop accepting work, forget everything still waiting (returned, so the caller can decide what to
   * tell each one), abort the running jobs, and resolve once they have all settled.
   */
  async close(): Promise<T[]> {
    return (await this.drain(0, Number.POSITIVE_INFINITY)).dropped;
  }

  /**
   * Close that lets work under way finish: stop accepting, forget everything still waiting (returned),
   * give the running jobs up to `drainMs` to settle, then abort those left and give them up to
   * `settleMs` more. Resolves with the dropped items and how many jobs were still running at the end
   * (they settle later, on their own). Bounded by drainMs + settleMs.
   */
  async drain(drainMs: number, settleMs: number): Promise<{ dropped: T[]; stillRunning: number }> {
    this.closed = true;
    const dropped = this.waiting.slice(this.head);
    this.waiting.length = 0;
    this.head = 0;
    await this.idleWithin(drainMs);
    for (const controller of this.running) controller.abort();
    await this.idleWithin(settleMs);
    return { dropped, stillRunning: this.running.size };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private idleWithin(limitMs: number): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer) clearTimeout(timer);
        const index = this.idleWaiters.indexOf(done);
        if (index >= 0) this.idleWaiters.splice(index, 1);
        resolve();
      };
      this.idleWaiters.push(done);
      if (Number.isFinite(limitMs)) timer = setTimeout(done, limitMs);
    });
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.maxParallel && this.head < this.waiting.length) {
      const item = this.waiting[this.head];
      (this.waiting as Array<T | undefined>)[this.head] = undefined;
      this.head += 1;
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      this.start(item);
    }
  }

  private start(item: T): void {
    const controller = new AbortController();
    this.running.add(controller);
    const settle = (): void => {
      this.running.delete(controller);
      if (this.running.size === 0) this.idleWaiters.splice(0).forEach((resolve) => resolve());
      this.pump();
      this.onChange(this.counts());
    };
    let job: Promise<void>;
    try {
      job = this.runJob(item, controller.signal);
    } catch (error) {
      job = Promise.reject(asError(error));
    }
    // runJob reports its own failures; a rejection here is a programming error we must not let kill the queue.
    job.then(settle, settle);
  }
}
