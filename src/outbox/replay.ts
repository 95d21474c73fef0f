import { ProvisionError, asError } from '../provisioning/errors';
import type { Outbox } from './outbox';
import type { OutboxEntry } from './record';
import { TokenBucket } from './token-bucket';

export interface ReplayOptions {
  /** Publishes a device's records in order; resolves once the server acknowledged every one (PUBACK). */
  publish: (deviceKey: string, entries: OutboxEntry[]) => Promise<void>;
  /** Backlog messages per second, all devices together (default 100): what live messages and the server's rate limits leave. */
  messagesPerSecond?: number;
  /** A pacer shared with other replays (replayPacer()): their messages per second together; messagesPerSecond is then unused. */
  pacer?: ReplayPacer;
  /** Records per publish call, each acknowledged before the next is read (default 20): the at-least-once window per device. */
  batchSize?: number;
  /** Devices drained at once (default 4); order holds within each device. */
  parallelDevices?: number;
  /** Only these devices (default: every device with records waiting). */
  devices?: readonly string[];
  /** Stops taking batches; the batch under way finishes (or fails) and stays stored until acknowledged. */
  signal?: AbortSignal;
}

export interface ReplayReport {
  /** Records published and deleted, in all. */
  sent: number;
  /** Per device: records published and deleted. */
  devices: Record<string, number>;
  /** A device whose publish failed: its records from the failed batch on are still stored, in order. */
  failures: { deviceKey: string; error: ProvisionError | Error }[];
  /** The signal stopped it before the backlog was empty. */
  stopped: boolean;
}

export const REPLAY_DEFAULTS = { messagesPerSecond: 100, batchSize: 20, parallelDevices: 4 } as const;

/** Paces replays: `take(n)` resolves once n messages may go (rejects when the signal stops it). */
export interface ReplayPacer {
  take(count: number, signal?: AbortSignal): Promise<void>;
}

/** One pace for several replays running at once (e.g. one per device): `messagesPerSecond` for all of them together. */
export function replayPacer(messagesPerSecond: number = REPLAY_DEFAULTS.messagesPerSecond, batchSize: number = REPLAY_DEFAULTS.batchSize): ReplayPacer {
  const rate = positiveInteger(messagesPerSecond, 'messagesPerSecond', REPLAY_DEFAULTS.messagesPerSecond);
  // A second's worth may go at once, and always one whole batch.
  return new TokenBucket(rate, Math.max(positiveInteger(batchSize, 'batchSize', REPLAY_DEFAULTS.batchSize), Math.ceil(rate)));
}

function positiveInteger(value: number | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new ProvisionError('INVALID_INPUT', `replay ${field} must be a positive number (got ${value}).`, { field });
  return field === 'messagesPerSecond' ? value : Math.ceil(value);
}

/**
 * Sends what waits in the outbox, per device in order, oldest first: read a batch, publish it, delete
 * it once acknowledged, read the next. One batch per device is ever unacknowledged, so a crash can
 * resend that batch and nothing more; a failed batch stays stored and the device stops there.
 */
export async function replayOutbox(outbox: Outbox, options: ReplayOptions): Promise<ReplayReport> {
  const batchSize = positiveInteger(options.batchSize, 'batchSize', REPLAY_DEFAULTS.batchSize);
  const parallel = positiveInteger(options.parallelDevices, 'parallelDevices', REPLAY_DEFAULTS.parallelDevices);
  const { signal, publish } = options;
  const bucket = options.pacer ?? replayPacer(options.messagesPerSecond ?? REPLAY_DEFAULTS.messagesPerSecond, batchSize);
  const report: ReplayReport = { sent: 0, devices: {}, failures: [], stopped: false };
  const waiting = [...(options.devices ?? outbox.devices())];

  const drainDevice = async (deviceKey: string): Promise<void> => {
    for (;;) {
      if (signal?.aborted) return void (report.stopped = true);
      const entries = outbox.peek(deviceKey, batchSize);
      if (entries.length === 0) return;
      try {
        await bucket.take(entries.length, signal);
      } catch {
        return void (report.stopped = true);
      }
      try {
        await publish(deviceKey, entries);
      } catch (error) {
        report.failures.push({ deviceKey, error: asError(error) });
        return;
      }
      try {
        await outbox.acknowledge(entries.map((entry) => entry.id));
      } catch (error) {
        // Published but not deleted (the disk refused the commit): sent again next time, never lost.
        report.failures.push({ deviceKey, error: asError(error) });
        return;
      }
      report.sent += entries.length;
      report.devices[deviceKey] = (report.devices[deviceKey] ?? 0) + entries.length;
    }
  };
  const worker = async (): Promise<void> => {
    for (let deviceKey = waiting.shift(); deviceKey !== undefined; deviceKey = waiting.shift()) await drainDevice(deviceKey);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, Math.max(1, waiting.length)) }, worker));
  return report;
}
