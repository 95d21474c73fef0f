import { displayText } from '../provisioning/display-text';
import type { NodeStatus } from 'node-red';

type Translate = (key: string, substitutions?: Record<string, string | number>) => string;

/** Error codes named in a batch's status, most frequent first; the rest are left out ("…"). */
const CODES_SHOWN = 3;

/** Outcomes of one batch of messages (from the node becoming busy to it being idle again). */
export class BatchTally {
  private ok = 0;
  private lastName: string | null = null;
  private readonly failures = new Map<string, number>();
  private failedCount = 0;

  get empty(): boolean {
    return this.ok + this.failedCount === 0;
  }

  succeeded(deviceName: string | null): void {
    this.ok += 1;
    this.lastName = deviceName;
  }

  failed(code: string): void {
    this.failedCount += 1;
    this.failures.set(code, (this.failures.get(code) ?? 0) + 1);
  }

  /** One device: its name or its code, as before; several: counts and the error codes. */
  outcome(translate: Translate): NodeStatus {
    if (this.ok === 1 && this.failedCount === 0) {
      return {
        fill: 'green',
        shape: 'dot',
        text: this.lastName ? truncate(displayText(this.lastName, 1000)) : translate('gridlinks-provision.status.provisioned'),
      };
    }
    if (this.failedCount === 0) return { fill: 'green', shape: 'dot', text: translate('gridlinks-provision.status.batch-ok', { ok: this.ok }) };
    const codes = this.codes();
    if (this.ok === 0 && this.failedCount === 1) return { fill: 'red', shape: 'ring', text: codes };
    const key = this.ok === 0 ? 'gridlinks-provision.status.batch-failed' : 'gridlinks-provision.status.batch-mixed';
    return { fill: 'red', shape: 'ring', text: translate(key, { ok: this.ok, failed: this.failedCount, codes }) };
  }

  private codes(): string {
    const sorted = [...this.failures.entries()].sort((a, b) => b[1] - a[1]);
    const several = sorted.length > 1;
    const named = sorted.slice(0, CODES_SHOWN).map(([code, count]) => (several && count > 1 ? `${code} ×${count}` : code));
    return named.join(', ') + (sorted.length > CODES_SHOWN ? ', …' : '');
  }
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}
