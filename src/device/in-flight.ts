import type { ProvisionError } from '../provisioning/errors';
import type { DeviceAction } from './device-message';

/** Called once per message: with an error, or without one (and an attribute request's answer). */
export type Settled = (error: ProvisionError | undefined, answer?: unknown) => void;

/** One message of a device, from the flow until GridLinks acknowledged (or answered) it. */
export interface Job {
  action: DeviceAction;
  /** A plain callback rather than a promise per message: this path runs for every message. */
  settled: Settled;
  /** When it is given up (Date.now() based), once sent. */
  deadline?: number;
  /** While it waits in its session's queue: the bytes it holds of the node's QueueBudget. */
  queuedBytes?: number;
  /** attributes/request: the id in its topic. */
  requestId?: number;
  /** Links of the in-flight list while it waits (see InFlight). */
  previous?: Job;
  next?: Job;
  waiting?: boolean;
}

/**
 * A session's messages that were sent and wait for their PUBACK (an attribute request: for its
 * answer), in the order they were sent. One timer for all of them rather than one per message: the
 * expired ones are at the front, and the timer then waits for the next deadline. The jobs are linked
 * to each other rather than kept in a Set: a session mostly holds one message at a time, and a Set
 * going from one entry to none and back reallocates its table for every message.
 */
export class InFlight {
  private first: Job | undefined;
  private last: Job | undefined;
  private count = 0;
  private readonly attributeRequests = new Map<number, Job>();
  private nextRequestId = 1;
  private expiryTimer: NodeJS.Timeout | undefined;
  private drained: (() => void) | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly expiredError: (job: Job) => ProvisionError,
    private readonly emptied: () => void,
  ) {}

  get size(): number {
    return this.count;
  }

  /** Tracks a job about to be published (`now` = Date.now()); an attribute request gets the id for its topic. */
  add(job: Job, now: number): void {
    job.deadline = now + this.timeoutMs;
    if (job.action.kind === 'attributes/request') {
      job.requestId = this.nextRequestId++;
      this.attributeRequests.set(job.requestId, job);
    }
    job.waiting = true;
    job.previous = this.last;
    job.next = undefined;
    if (this.last) this.last.next = job;
    else this.first = job;
    this.last = job;
    this.count += 1;
    this.expiryTimer ??= setTimeout(() => this.expire(), this.timeoutMs);
  }

  /** Settles the job with `error`, or without one and with `answer`; a job settled already is left alone. */
  settle(job: Job, error: ProvisionError | undefined, answer?: unknown): void {
    // The expiry timer is left to run out (it then finds nothing): re-arming it per message costs more.
    if (!job.waiting) return;
    this.unlink(job);
    if (job.requestId !== undefined) this.attributeRequests.delete(job.requestId);
    job.settled(error, answer);
    if (this.count === 0) {
      this.drained?.();
      this.emptied();
    }
  }

  /** The answer to attribute request `requestId`, if it is still waiting. */
  answer(requestId: number, payload: unknown): void {
    const job = this.attributeRequests.get(requestId);
    if (job) this.settle(job, undefined, payload);
  }

  failAll(errorFor: (job: Job) => ProvisionError): void {
    const jobs: Job[] = [];
    for (let job = this.first; job; job = job.next) jobs.push(job);
    for (const job of jobs) this.settle(job, errorFor(job));
  }

  /** Resolves once nothing is in flight, or after `ms`. */
  settledOrAfter(ms: number): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(finish, ms);
      function finish(): void {
        clearTimeout(timer);
        resolve();
      }
      this.drained = finish;
    }).then(() => {
      this.drained = undefined;
    });
  }

  stop(): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
  }

  private unlink(job: Job): void {
    job.waiting = false;
    if (job.previous) job.previous.next = job.next;
    else this.first = job.next;
    if (job.next) job.next.previous = job.previous;
    else this.last = job.previous;
    job.previous = job.next = undefined;
    this.count -= 1;
  }

  private expire(): void {
    this.expiryTimer = undefined;
    const now = Date.now();
    while (this.first) {
      const job = this.first;
      if ((job.deadline as number) > now) {
        this.expiryTimer = setTimeout(() => this.expire(), (job.deadline as number) - now);
        return;
      }
      this.settle(job, this.expiredError(job));
    }
  }
}
