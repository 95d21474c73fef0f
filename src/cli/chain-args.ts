import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { ProvisionError } from '../provisioning/errors';
import type { ChainProvisionOptions } from '../provisioning/chain';
import type { KeyAlgorithm, ServerOptions } from '../provisioning/types';
import type { CliArguments } from './args';

/** The most a PEM file given here may hold (a chain of 10 certificates is about 20 KB). */
const MAX_PEM_FILE_BYTES = 1024 * 1024;

/**
 * A PEM file named on the command line: a regular file (a device, FIFO or /dev/zero would block or never
 * end; opened non-blocking so a FIFO cannot hang the open) of at most MAX_PEM_FILE_BYTES, read at most that far.
 */
function readFile(file: string | undefined, flag: string): string | undefined {
  if (file === undefined) return undefined;
  const refuse = (why: string) => new ProvisionError('INVALID_INPUT', `${flag}: ${file} ${why} (see --help)`, { field: flag.slice(2) });
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw refuse(`cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    if (!fstatSync(fd).isFile()) throw refuse('is not a regular file: give a PEM file');
    const buffer = Buffer.alloc(MAX_PEM_FILE_BYTES + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length < buffer.length; length += read) read = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > MAX_PEM_FILE_BYTES) throw refuse(`is larger than ${MAX_PEM_FILE_BYTES / 1024 / 1024} MiB: give a PEM file`);
    return buffer.toString('utf8', 0, length);
  } catch (error) {
    if (error instanceof ProvisionError) throw error;
    throw refuse(`cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  } finally {
    closeSync(fd);
  }
}

/** The core's chain options from the command line (a provision key or secret, e.g. from the environment, is not used). */
export function toChainOptions(args: CliArguments, server: ServerOptions): ChainProvisionOptions {
  if (args.csrFile !== undefined && args.keyType !== undefined) {
    throw new ProvisionError('INVALID_INPUT', '--key-type does not apply with --csr: the device keeps the key of its CSR (see --help)', {
      field: 'key-type',
    });
  }
  return {
    server,
    credentialsType: 'X509_CERTIFICATE_CHAIN',
    signerCertificate: readFile(args.signerCertFile, '--signer-cert') ?? '',
    signerKey: readFile(args.signerKeyFile, '--signer-key') ?? '',
    chain: readFile(args.chainFile, '--chain'),
    csr: readFile(args.csrFile, '--csr'),
    deviceName: args.deviceName,
    commonName: args.commonName,
    certificateRegExPattern: args.regex,
    keyAlgorithm: args.keyType as KeyAlgorithm | undefined,
    verify: args.verify,
    storeDir: args.out,
  };
}
