import { ProvisionError, asError } from '../provisioning/errors';
import type { DropReason } from './options';

const MB = 1024 * 1024;

function bound(reason: DropReason, value: number): string {
  return reason === 'maxBytes' ? `maxBytes, ${Math.round((value / MB) * 10) / 10} MB` : `maxAgeMs, ${Math.round(value / 3_600_000)} h`;
}

/** refuse-new at the size bound, or a record that alone is larger than the bound. */
export function outboxFull(dir: string, deviceKey: string, maxBytes: number, bytes: number, tooLarge: boolean): ProvisionError {
  const message = tooLarge
    ? `A record of ${bytes} bytes for device "${deviceKey}" is larger than the outbox at ${dir} may hold (${bound('maxBytes', maxBytes)}): not kept.`
    : `The outbox at ${dir} is full (${bound('maxBytes', maxBytes)}): the record for device "${deviceKey}" was refused (fullPolicy refuse-new). It drains as the server acknowledges what waits; raise maxBytes or choose drop-oldest to keep the newest instead.`;
  return new ProvisionError('QUEUE_FULL', message, { deviceName: deviceKey, field: 'maxBytes', reason: 'maxBytes' });
}

/** The database could not be opened or a commit failed (a full disk: ENOSPC): nothing of that commit was stored. */
export function storeFailed(dir: string, doing: 'open' | 'commit', error: unknown): ProvisionError {
  const cause = asError(error);
  const errno = (cause as { code?: unknown }).code;
  const full = errno === 28 || errno === 'ENOSPC' || /No space left|MDB_MAP_FULL|ENOSPC/i.test(cause.message);
  const code = full ? 'ENOSPC' : typeof errno === 'string' ? errno : undefined;
  const what = doing === 'open' ? `The outbox at ${dir} could not be opened` : `The outbox at ${dir} could not store this commit`;
  const hint = code === 'ENOSPC' ? ': the disk is full. What was stored before is intact; free space or lower maxBytes.' : ` (${cause.message}).`;
  return new ProvisionError('STORE', `${what}${hint}`, { reason: code ?? 'DATABASE' }, { cause });
}

export function outboxClosed(dir: string): ProvisionError {
  return new ProvisionError('ABORTED', `The outbox at ${dir} is closed.`);
}

/** lmdb rejects a failed commit with a generic error whose `commitError` promise carries the real one (errno 28 for a full disk). */
export async function commitCause(error: unknown): Promise<unknown> {
  const detail = (error as { commitError?: Promise<unknown> } | undefined)?.commitError;
  if (!detail || typeof detail.then !== 'function') return error;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<unknown>((resolve) => (timer = setTimeout(() => resolve(error), 1_000)));
  const cause = await Promise.race([
    detail.then(
      () => error,
      (reason: unknown) => reason,
    ),
    late,
  ]);
  clearTimeout(timer);
  return cause;
}
