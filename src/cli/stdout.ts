import { fstatSync, statSync } from 'node:fs';
import { ProvisionError } from '../provisioning/errors';

/**
 * Without --out, stdout is where the new credentials go: it must lead somewhere before anything is
 * sent. Node reopens a closed stdout as /dev/null, so both show up here as /dev/null.
 */
export function checkStdoutKeepsCredentials(out: string | undefined): void {
  if (out !== undefined) return;
  let discarded: boolean;
  try {
    const stdout = fstatSync(1);
    const devNull = statSync('/dev/null');
    discarded = stdout.isCharacterDevice() && stdout.rdev === devNull.rdev;
  } catch {
    discarded = true;
  }
  if (discarded) {
    throw new ProvisionError(
      'INVALID_INPUT',
      'stdout is closed or /dev/null, so the new credentials would be lost: send stdout to a file or a program, or give --out DIR (see --help). Nothing was sent.',
      { field: 'out', requestSent: false },
    );
  }
}

/** Writes to stdout; resolves with the error (EPIPE, ...) instead of letting it crash the process. */
export function writeStdout(text: string): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const onError = (error: NodeJS.ErrnoException) => finish(error);
    let done = false;
    function finish(error?: NodeJS.ErrnoException | null): void {
      if (done) return;
      done = true;
      // Stays quiet about later errors of a broken stdout (they would otherwise be thrown).
      if (error) process.stdout.on('error', () => undefined);
      process.stdout.removeListener('error', onError);
      resolve(error ?? undefined);
    }
    process.stdout.once('error', onError);
    try {
      process.stdout.write(text, (error) => finish(error));
    } catch (error) {
      finish(error as NodeJS.ErrnoException);
    }
  });
}
