import { ProvisionError } from '../provisioning/errors';
import { readSmallFile } from '../provisioning/small-file';

/** The most a PEM file given here may hold (a chain of 10 certificates is about 20 KB). */
const MAX_PEM_FILE_BYTES = 1024 * 1024;

/** A PEM file named on the command line (readSmallFile: a regular file of at most 1 MiB); INVALID_INPUT naming the flag otherwise. */
export function readPemFile(file: string | undefined, flag: string): string | undefined {
  if (file === undefined) return undefined;
  const read = readSmallFile(file, MAX_PEM_FILE_BYTES);
  if ('text' in read) return read.text;
  throw new ProvisionError('INVALID_INPUT', `${flag}: ${file} ${read.why}: give a PEM file (see --help)`, { field: flag.slice(2) });
}
