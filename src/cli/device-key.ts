import { DEFAULT_KEY_ALGORITHM, KEY_ALGORITHMS, prefetchDeviceKeyPair } from '../provisioning/keys';
import type { KeyAlgorithm } from '../provisioning/types';
import type { CliArguments } from './args';

/** Starts the key this run makes, if any (no MQTT module: the launcher starts it before the command is loaded). */
export function startKeyOnly(args: CliArguments): void {
  const algorithm = (args.keyType ?? DEFAULT_KEY_ALGORITHM) as KeyAlgorithm;
  const makesKey =
    ((args.credentialsType === 'X509_CERTIFICATE' && args.certFile === undefined && args.privateKeyFile === undefined) ||
      (args.credentialsType === 'X509_CERTIFICATE_CHAIN' && args.csrFile === undefined)) &&
    KEY_ALGORITHMS.includes(algorithm);
  if (makesKey) prefetchDeviceKeyPair(algorithm);
}
