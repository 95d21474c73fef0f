import type { NodeStatus } from 'node-red';
import type { QueueCounts } from './job-queue';
import { BatchTally } from './batch-tally';

type Translate = (key: string, substitutions?: Record<string, string | number>) => string;

/** How often, at most, the busy count is pushed to the editor during a burst. */
const BUSY_REFRESH_MS = 250;

export interface PoolFill {
  ready: number;
  size: number;
}

/**
 * The provision node's status: yellow while busy (throttled, a burst must not flood the editor),
 * then how the batch went (from busy to idle): one device shows its name (green dot) or its error
 * code (red ring); several show "4 ok, 1 failed: FAILURE". Before the first message, a node with a key
 * pool shows how many keys are ready (the pool fills after a deploy).
 */
export class StatusReporter {
  private timer: NodeJS.Timeout | undefined;
  private latest: QueueCounts = { running: 0, queued: 0 };
  private lastOutcome: NodeStatus = {};
  private batch = new BatchTally();
  private pool: PoolFill | undefined;

  constructor(
    private readonly show: (status: NodeStatus) => void,
    private readonly translate: Translate,
  ) {}

  succeeded(deviceName: string | null): void {
    this.batch.succeeded(deviceName);
  }

  failed(code: string): void {
    this.batch.failed(code);
  }

  /** Entries waiting in the store's `.pending/` at deploy (until the next outcome). */
  pending(text: string): void {
    this.lastOutcome = { fill: 'yellow', shape: 'ring', text };
    if (!this.timer) this.show(this.lastOutcome);
  }

  /** The outcome of a resume: green, or yellow while entries are left unknown. */
  resumed(text: string, unsettled: boolean): void {
    this.lastOutcome = { fill: unsettled ? 'yellow' : 'green', shape: unsettled ? 'ring' : 'dot', text };
  }

  /** A fixed problem that stops every message (e.g. a bad CA on the server node). */
  broken(code: string): void {
    this.lastOutcome = { fill: 'red', shape: 'ring', text: code };
    this.cancel();
    this.show(this.lastOutcome);
  }

  /** The key pool's fill changed (shown before the node's first message). */
  poolChanged(fill: PoolFill): void {
    const before = this.pool;
    this.pool = fill;
    if (this.lastOutcome.text !== undefined || this.latest.running + this.latest.queued > 0) return;
    if (before?.ready === fill.ready && before.size === fill.size) return;
    this.showIdle();
  }

  update(counts: QueueCounts): void {
    this.latest = counts;
    if (counts.running + counts.queued === 0) {
      this.cancel();
      if (!this.batch.empty) this.lastOutcome = this.batch.outcome(this.translate);
      this.batch = new BatchTally();
      this.showIdle();
    } else if (!this.timer) {
      this.showBusy();
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.latest.running + this.latest.queued > 0) this.showBusy();
      }, BUSY_REFRESH_MS);
    }
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private showIdle(): void {
    const pool = this.pool;
    if (this.lastOutcome.text !== undefined || pool === undefined) {
      this.show(this.lastOutcome);
      return;
    }
    const text = this.translate('gridlinks-provision.status.pool', { ready: pool.ready, size: pool.size });
    this.show({ fill: 'grey', shape: pool.ready >= pool.size ? 'dot' : 'ring', text });
  }

  private showBusy(): void {
    const text = this.translate('gridlinks-provision.status.busy', { running: this.latest.running, queued: this.latest.queued });
    this.show({ fill: 'yellow', shape: 'dot', text });
  }
}
