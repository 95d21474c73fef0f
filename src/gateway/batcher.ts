import { publishOverhead, type Settled } from '../device';
import { ProvisionError } from '../provisioning/errors';
import { Batch } from './batch';
import { GATEWAY_TOPICS } from './gateway-topics';

type BatchKind = 'telemetry' | 'attributes';

export interface BatcherSettings {
  /** How long a batch stays open for more children's messages (ms); 0 = until the current turn of the event loop ends. */
  batchWindowMs: number;
  /** The server's limit on a packet's Remaining Length (topic, packet id and properties count, the fixed header does not). */
  maxPacketBytes: number;
  protocolVersion: 4 | 5;
}

/**
 * Telemetry and attributes of many children arriving within `batchWindowMs` go out as one publish per
 * kind, each never larger than `maxPacketBytes` (a batch that would grow past it goes out at once and
 * a new one starts). `publish` is called with each full or expired batch.
 */
export class Batcher {
  private readonly open: Record<BatchKind, Batch | undefined> = { telemetry: undefined, attributes: undefined };
  private readonly limits: Record<BatchKind, number>;
  private timer: NodeJS.Timeout | undefined;
  private waiting = 0;

  constructor(
    private readonly settings: BatcherSettings,
    private readonly publish: (batch: Batch) => void,
  ) {
    const { maxPacketBytes, protocolVersion } = settings;
    this.limits = {
      telemetry: maxPacketBytes - publishOverhead(GATEWAY_TOPICS.telemetry, protocolVersion),
      attributes: maxPacketBytes - publishOverhead(GATEWAY_TOPICS.attributes, protocolVersion),
    };
  }

  /** Messages in batches not yet handed to publish. */
  get queued(): number {
    return this.waiting;
  }

  /** Whether the part would join the child's entry in the open batch (the same publish, no new message for the child's rate limits). */
  joins(kind: BatchKind, child: string, part: string): boolean {
    const batch = this.open[kind];
    return batch !== undefined && batch.has(child) && batch.accepts(child) && batch.sizeWith(child, part) <= this.limits[kind];
  }

  /** Adds a child's part; throws INVALID_INPUT when the part alone does not fit in a packet. */
  add(kind: BatchKind, child: string, part: string, settled: Settled): void {
    const limit = this.limits[kind];
    let batch = this.open[kind];
    let bytes = batch?.accepts(child) ? batch.sizeWith(child, part) : Infinity;
    if (batch && bytes > limit) {
      this.flush(kind);
      batch = undefined;
    }
    if (!batch) {
      batch = new Batch(kind);
      bytes = batch.sizeWith(child, part);
      if (bytes > limit) {
        throw new ProvisionError(
          'INVALID_INPUT',
          `The ${kind} of child "${child}" do not fit in one packet of ${this.settings.maxPacketBytes} bytes (the server's limit, with the topic): split them into several messages.`,
          { field: 'payload', deviceName: child },
        );
      }
      this.open[kind] = batch;
    }
    batch.add(child, part, settled, bytes);
    this.waiting += 1;
    this.timer ??= setTimeout(() => this.flushAll(), this.settings.batchWindowMs);
  }

  /** Hands every open batch to publish now. */
  flushAll(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flush('telemetry');
    this.flush('attributes');
  }

  /** The open batches' messages, for the caller to fail (closing); nothing is published. */
  takeAll(): Settled[] {
    clearTimeout(this.timer);
    this.timer = undefined;
    const members = [...(this.open.telemetry?.members ?? []), ...(this.open.attributes?.members ?? [])];
    this.open.telemetry = this.open.attributes = undefined;
    this.waiting = 0;
    return members;
  }

  private flush(kind: BatchKind): void {
    const batch = this.open[kind];
    if (!batch) return;
    this.open[kind] = undefined;
    this.waiting -= batch.members.length;
    this.publish(batch);
  }
}
