import type { ChainProvisionOptions } from '../provisioning/chain';
import type { KeyAlgorithm, ServerOptions } from '../provisioning/types';
import { KEY_ALGORITHMS } from '../provisioning/keys';
import { emptySourceText, invalidField, readPropertySource, type EvaluateProperty } from './property-source';

export const CHAIN_TYPE = 'X509_CERTIFICATE_CHAIN';
/** TypedInput type meaning "use the node's own credential" (as in message-options.ts). */

/** The chain settings of the gridlinks-provision node, as they appear in the flow JSON. */
export interface ChainNodeProperties {
  credentialsType?: string;
  keyAlgorithm?: string;
  deviceName?: string;
  deviceNameType?: string;
  signerCert?: string;
  signerCertType?: string;
  signerKey?: string;
  signerKeyType?: string;
  certificateRegExPattern?: string;
  verify?: boolean | string;
  storeDir?: string;
  ifStored?: string;
}

/** Node credentials: kept by Node-RED, never exported. */
export interface ChainNodeCredentials {
  signerCertificate?: string;
  signerPrivateKey?: string;
}

/** Longest accepted text per field (characters). */
const MAX_LENGTH: Record<string, number> = { deviceName: 255, commonName: 64 * 4, csr: 65536, signerCertificate: 262144, signerKey: 65536 };
/** What msg.payload may set for a chain device (the signer comes from the node's configured sources). */
const PAYLOAD_FIELDS = ['deviceName', 'commonName', 'csr'] as const;

function text(field: string, value: unknown, origin: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalidField(field, `${origin} ${field} must be a string.`);
  if (value.length > MAX_LENGTH[field]) throw invalidField(field, `${origin} ${field} is longer than ${MAX_LENGTH[field]} characters.`);
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** Whether this message provisions by certificate chain: msg.payload.credentialsType, else the node's choice. */
export function wantsChain(props: { credentialsType?: string }, payload: unknown): boolean {
  const asked = isPlainObject(payload) && Object.prototype.hasOwnProperty.call(payload, 'credentialsType') ? payload.credentialsType : undefined;
  return (asked ?? props.credentialsType) === CHAIN_TYPE;
}

function fromWhere(value: string | undefined, type: string | undefined): string {
  const source = emptySourceText(value, type);
  return source === undefined ? '' : ` the node takes it from ${source};`;
}

async function fromSource(
  field: 'signerCertificate' | 'signerKey',
  value: string | undefined,
  type: string | undefined,
  credential: string | undefined,
  evaluate: EvaluateProperty,
): Promise<string | undefined> {
  return text(field, await readPropertySource(field, value, type, credential, evaluate), 'The configured source of');
}

export async function buildChainOptions(
  props: ChainNodeProperties,
  credentials: ChainNodeCredentials,
  payload: unknown,
  server: ServerOptions,
  evaluate: EvaluateProperty,
): Promise<ChainProvisionOptions> {
  const input = isPlainObject(payload) ? payload : {};
  const signerCertificate = await fromSource('signerCertificate', props.signerCert, props.signerCertType, credentials.signerCertificate, evaluate);
  if (!signerCertificate)
    throw invalidField(
      'signerCertificate',
      `No signer certificate:${fromWhere(props.signerCert, props.signerCertType)} paste the device profile's CA certificate on the node, or point its source at one.`,
    );
  const signerKey = await fromSource('signerKey', props.signerKey, props.signerKeyType, credentials.signerPrivateKey, evaluate);
  if (!signerKey) {
    throw invalidField(
      'signerKey',
      `No signer key:${fromWhere(props.signerKey, props.signerKeyType)} paste the private key of the signer certificate on the node, or point its source at one.`,
    );
  }

  const options: ChainProvisionOptions = { server, credentialsType: CHAIN_TYPE, signerCertificate, signerKey };
  const nameType = props.deviceNameType || 'msg';
  const configuredName = nameType === 'str' ? props.deviceName : await evaluate(props.deviceName ?? '', nameType).catch(() => undefined);
  const name = text('deviceName', configuredName, 'The configured source of');
  if (name !== undefined) options.deviceName = name;
  for (const field of PAYLOAD_FIELDS) {
    const value = text(field, input[field], 'msg.payload.');
    if (value !== undefined) options[field] = value;
  }
  const keyAlgorithm = input.keyAlgorithm ?? props.keyAlgorithm;
  if (keyAlgorithm !== undefined && keyAlgorithm !== '') {
    if (!(KEY_ALGORITHMS as readonly unknown[]).includes(keyAlgorithm))
      throw invalidField('keyAlgorithm', `keyAlgorithm must be one of ${KEY_ALGORITHMS.join(', ')}.`);
    options.keyAlgorithm = keyAlgorithm as KeyAlgorithm;
  }
  if (props.certificateRegExPattern) options.certificateRegExPattern = props.certificateRegExPattern;
  if (props.verify === true || props.verify === 'true') options.verify = true;
  if (props.storeDir && props.storeDir.trim()) options.storeDir = props.storeDir.trim();
  if (props.ifStored === 'fail') options.ifStored = 'fail';
  return options;
}
