import { DEFAULT_KEY_ALGORITHM, KEY_ALGORITHMS, prefetchDeviceKeyPair } from '../provisioning/key-pair';
import type { KeyAlgorithm } from '../provisioning/types';
import type { CliArguments } from './args';

/**
 * Starts making the device's key pair at once, so that loading the MQTT and ASN.1 modules, any
 * prompts and the connection set-up overlap it: for one RSA device per process, that is most of the
 * run. Nothing happens when this run makes no key (another credentials type, a certificate or key
 * given, or a --key-type the core will report as invalid).
 */
export function startDeviceKey(args: CliArguments): void {
  const algorithm = (args.keyType ?? DEFAULT_KEY_ALGORITHM) as KeyAlgorithm;
  const makesKey =
    ((args.credentialsType === 'X509_CERTIFICATE' && args.certFile === undefined && args.privateKeyFile === undefined) ||
      (args.credentialsType === 'X509_CERTIFICATE_CHAIN' && args.csrFile === undefined)) &&
    KEY_ALGORITHMS.includes(algorithm);
  if (makesKey) prefetchDeviceKeyPair(algorithm);
}
