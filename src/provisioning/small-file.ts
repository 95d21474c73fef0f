import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/**
 * Reads a small text file (a PEM, a CA bundle) named by a user, or says why not: it must be a regular
 * file (a device, FIFO or /dev/zero would block or never end; opened non-blocking so that a FIFO cannot
 * hang the open) of at most `maxBytes`, and is read at most that far. `errorCode`: the system's code when it
 * could not be opened or read (ENOENT, EACCES...).
 */
export function readSmallFile(file: string, maxBytes: number): { text: string } | { why: string; errorCode?: string } {
  const unreadable = (error: unknown) => {
    const errorCode = (error as NodeJS.ErrnoException).code ?? 'error';
    return { why: `cannot be read (${errorCode})`, errorCode };
  };
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return unreadable(error);
  }
  try {
    if (!fstatSync(fd).isFile()) return { why: 'is not a regular file' };
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length < buffer.length; length += read) read = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > maxBytes) return { why: `is larger than ${maxBytes >= 1024 * 1024 ? `${maxBytes / 1024 / 1024} MiB` : `${maxBytes} bytes`}` };
    return { text: buffer.toString('utf8', 0, length) };
  } catch (error) {
    return unreadable(error);
  } finally {
    closeSync(fd);
  }
}
