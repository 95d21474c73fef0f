import { readFileSync } from 'node:fs';
import { ProvisionError } from '../provisioning/errors';
import type { ChainProvisionOptions } from '../provisioning/chain-types';
import type { KeyAlgorithm, ServerOptions } from '../provisioning/types';
import type { CliArguments } from './args';

export const CHAIN_USAGE = `X.509 certificate chain (--type x509-chain; the device profile's strategy "X.509 certificates chain"):
  --signer-cert FILE       PEM of the profile's CA certificate, which signs the device certificate
  --signer-key FILE        its private key (PEM, unencrypted; never printed)
  --chain FILE             PEM certificates above the signer (towards the root), presented too
  --csr FILE               a device's PKCS#10 request: its certificate is issued and printed, nothing is
                           sent (the device keeps its key and connects itself; no --key-type)
  --common-name CN         certificate CN (default: the CSR's CN, else --device-name)
  --regex PATTERN          the profile's CN regular expression, to check the name GridLinks will derive
  No --provision-key/--provision-secret: connecting with the new certificate creates the device (or
  replaces the certificate of an existing one).`;

function readFile(file: string | undefined, flag: string): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ProvisionError('INVALID_INPUT', `${flag}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}) (see --help)`, {
      field: flag.slice(2),
    });
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
