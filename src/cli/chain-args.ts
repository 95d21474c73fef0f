import { ProvisionError } from '../provisioning/errors';
import type { ChainProvisionOptions } from '../provisioning/chain';
import type { KeyAlgorithm, ServerOptions } from '../provisioning/types';
import type { CliArguments } from './args';
import { readPemFile } from './pem-file';

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
    signerCertificate: readPemFile(args.signerCertFile, '--signer-cert') ?? '',
    signerKey: readPemFile(args.signerKeyFile, '--signer-key') ?? '',
    chain: readPemFile(args.chainFile, '--chain'),
    csr: readPemFile(args.csrFile, '--csr'),
    deviceName: args.deviceName,
    commonName: args.commonName,
    certificateRegExPattern: args.regex,
    keyAlgorithm: args.keyType as KeyAlgorithm | undefined,
    verify: args.verify,
    storeDir: args.out,
  };
}
