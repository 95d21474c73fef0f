import { generateDeviceKeyPair, KEY_ALGORITHMS } from '../provisioning/key-pair';
import type { KeyAlgorithm } from '../provisioning/types';
import type { CliArguments } from './args';

const DEFAULT_KEY_ALGORITHM: KeyAlgorithm = 'rsa2048';

/**
 * Starts making the device's key pair at once, so that loading the MQTT and ASN.1 modules (and any
 * prompts) overlaps it: for one RSA device per process, that is most of the start-up time. Resolves
 * with the PKCS#8 PEM, or undefined when this run makes no key here (another credentials type, a
 * certificate or key given, or a --key-type the core will report as invalid).
 */
export function startDeviceKey(args: CliArguments): Promise<string | undefined> {
  const algorithm = (args.keyType ?? DEFAULT_KEY_ALGORITHM) as KeyAlgorithm;
  const makesKey =
    args.credentialsType === 'X509_CERTIFICATE' && args.certFile === undefined && args.privateKeyFile === undefined && KEY_ALGORITHMS.includes(algorithm);
  if (!makesKey) return Promise.resolve(undefined);
  return generateDeviceKeyPair(algorithm).then(
    ({ privateKey }) => privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    () => undefined,
  );
}
