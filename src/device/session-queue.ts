import type { ProvisionError } from '../provisioning/errors';
import { queueBudgetFull, queueFull } from './device-errors';
import type { Job } from './in-flight';
import type { QueueBudget } from './queue-budget';

/** A session's messages waiting to be published, in order: at most `limit` of them, their payload bytes counted against the pool's budget. */
export class SessionQueue {
  private readonly jobs: Job[] = [];

  constructor(
    private readonly limit: number,
    /** Shared by every connection of the pool. */
    private readonly budget: QueueBudget,
  ) {}

  get length(): number {
    return this.jobs.length;
  }

  get first(): Job | undefined {
    return this.jobs[0];
  }

  /** Queues the job; the error (QUEUE_FULL) when it cannot wait. */
  push(job: Job, deviceName: string): ProvisionError | undefined {
    if (this.jobs.length >= this.limit) return queueFull(deviceName, this.limit);
    const bytes = Buffer.byteLength(job.action.body);
    if (!this.budget.take(bytes)) return queueBudgetFull(deviceName, this.budget.limitBytes);
    job.queuedBytes = bytes;
    this.jobs.push(job);
    return undefined;
  }

  /** The first job, its bytes given back to the budget. */
  shift(): Job {
    const job = this.jobs.shift() as Job;
    this.budget.give(job.queuedBytes ?? 0);
    return job;
  }

  /** Empties the queue, giving its bytes back to the budget. */
  takeAll(): Job[] {
    const jobs = this.jobs.splice(0);
    for (const job of jobs) this.budget.give(job.queuedBytes ?? 0);
    return jobs;
  }
}
