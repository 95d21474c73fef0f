import type { NodeStatus } from 'node-red';
import type { PoolCounts } from '../device/connection-pool';

type Translate = (key: string, substitutions?: Record<string, string | number>) => string;

/** How often, at most, the counts are pushed to the editor. */
const REFRESH_MS = 250;

/**
 * The device node's status, "N connected, M queued": green with sessions and nothing waiting, yellow
 * while messages wait for a session, a red ring with the code after a failure (until the next success).
 */
export class DeviceStatus {
  private timer: NodeJS.Timeout | undefined;
  private failure: string | undefined;
  private shown = '';

  constructor(
    private readonly show: (status: NodeStatus) => void,
    private readonly translate: Translate,
    private readonly counts: () => PoolCounts,
    /** The text for these counts (the gateway node's); default "N connected, M queued". */
    private readonly label: (counts: PoolCounts, translate: Translate) => string = deviceLabel,
  ) {}

  succeeded(): void {
    if (this.failure === undefined) return;
    this.failure = undefined;
    this.changed();
  }

  failed(code: string): void {
    this.failure = code;
    this.changed();
  }

  /** A notice shown (a yellow ring) until the counts next change the status, e.g. at deploy: certificates that expire soon. */
  notice(text: string): void {
    const status: NodeStatus = { fill: 'yellow', shape: 'ring', text };
    this.shown = JSON.stringify(status);
    this.show(status);
  }

  /** A fixed problem that stops every message (no server, a bad CA on the server node). */
  broken(code: string): void {
    this.cancel();
    this.show({ fill: 'red', shape: 'ring', text: code });
  }

  /** Schedules a refresh (at most one per REFRESH_MS). */
  changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refresh();
    }, REFRESH_MS);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private refresh(): void {
    const counts = this.counts();
    const { connected, queued } = counts;
    const text = this.label(counts, this.translate);
    const status: NodeStatus =
      this.failure !== undefined
        ? { fill: 'red', shape: 'ring', text: `${this.failure}: ${text}` }
        : { fill: queued > 0 ? 'yellow' : connected > 0 ? 'green' : 'grey', shape: connected > 0 ? 'dot' : 'ring', text };
    const shown = JSON.stringify(status);
    if (shown === this.shown) return;
    this.shown = shown;
    this.show(status);
  }
}

/** A translated status text; without a message catalog (e.g. node-red-node-test-helper) the key comes back: the English text then. */
export function statusText(translate: Translate, key: string, substitutions: Record<string, string | number>, english: string): string {
  const translated = translate(key, substitutions);
  return translated === key ? english : translated;
}

function deviceLabel({ connected, queued }: PoolCounts, translate: Translate): string {
  return statusText(translate, 'gridlinks-device.status.counts', { connected, queued }, `${connected} connected, ${queued} queued`);
}
