import type { NodeStatus } from 'node-red';
import type { QueueCounts } from './job-queue';

type Translate = (key: string, substitutions?: Record<string, string | number>) => string;

/** How often, at most, the busy count is pushed to the editor during a burst. */
const BUSY_REFRESH_MS = 250;

/**
 * The provision node's status: yellow while busy (throttled, a burst must not flood the editor),
 * then the outcome of the last job: green dot with the device name, or red ring with the error code.
 */
export class StatusReporter {
  private timer: NodeJS.Timeout | undefined;
  private latest: QueueCounts = { running: 0, queued: 0 };
  private lastOutcome: NodeStatus = {};

  constructor(
    private readonly show: (status: NodeStatus) => void,
    private readonly translate: Translate,
  ) {}

  succeeded(deviceName: string | null): void {
    const text = deviceName ? truncate(deviceName) : this.translate('gridlinks-provision.status.provisioned');
    this.lastOutcome = { fill: 'green', shape: 'dot', text };
  }

  failed(code: string): void {
    this.lastOutcome = { fill: 'red', shape: 'ring', text: code };
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
    this.failed(code);
    this.cancel();
    this.show(this.lastOutcome);
  }

  update(counts: QueueCounts): void {
    this.latest = counts;
    if (counts.running + counts.queued === 0) {
      this.cancel();
      this.show(this.lastOutcome);
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

  private showBusy(): void {
    const text = this.translate('gridlinks-provision.status.busy', { running: this.latest.running, queued: this.latest.queued });
    this.show({ fill: 'yellow', shape: 'dot', text });
  }
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}
