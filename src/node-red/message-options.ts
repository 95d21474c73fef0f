import type { ProvisionError } from '../provisioning/errors';
import type { ProvisionOptions, ServerOptions } from '../provisioning/types';
import { CREDENTIALS_TYPES } from '../provisioning/validate';
import { KEY_ALGORITHMS } from '../provisioning/keys';
import type { ChainProvisionOptions } from '../provisioning/chain';
import { emptySourceText, invalidField, readPropertySource, type EvaluateProperty } from './property-source';
import { storeFolderOf } from './store-folder';
import { buildChainOptions, wantsChain, type ChainNodeCredentials, type ChainNodeProperties } from './chain-options';

/** The gridlinks-provision node's properties, as they appear in the flow JSON. */
export interface ProvisionNodeProperties extends ChainNodeProperties {
  credentialsType?: string;
  keyAlgorithm?: string;
  deviceName?: string;
  deviceNameType?: string;
  provisionKey?: string;
  provisionKeyType?: string;
  provisionSecret?: string;
  provisionSecretType?: string;
  verify?: boolean | string;
  /** A device without a name (none given) is created under a name GridLinks generates; otherwise INVALID_INPUT. */
  allowUnnamed?: boolean | string;
  /** Create the device as a gateway (msg.payload.gateway overrides it). */
  gateway?: boolean | string;
  storeDir?: string;
  /** 'reuse' (default) or 'fail': a device already in the store folder. */
  ifStored?: string;
  includePrivateKey?: boolean | string;
  maxParallel?: number | string;
  keyPool?: number | string;
  outputProperty?: string;
  /** Certificates ending within this many days are warned about at deploy (default 30). */
  expiryWarningDays?: number | string;
  /** Chain node with a signer: renew chain devices entering the warning window, checked daily. */
  autoRenew?: boolean | string;
}

export interface ProvisionNodeCredentials extends ChainNodeCredentials {
  provisionDeviceKey?: string;
  provisionDeviceSecret?: string;
}

export { CREDENTIAL_SOURCE, type EvaluateProperty } from './property-source';

/** Longest accepted value per msg.payload string field (characters). */
const MAX_LENGTH = {
  deviceName: 255,
  provisionDeviceKey: 1024,
  provisionDeviceSecret: 1024,
  token: 1024,
  clientId: 1024,
  username: 1024,
  password: 1024,
  certificate: 65536,
  privateKey: 65536,
} as const;
type StringField = keyof typeof MAX_LENGTH;

function checkString(field: StringField, value: unknown, origin: string): string {
  if (typeof value !== 'string') {
    throw invalidField(field, `${origin} ${field} must be a string, not ${value === null ? 'null' : typeof value}.`);
  }
  if (value.length > MAX_LENGTH[field]) {
    throw invalidField(field, `${origin} ${field} is longer than ${MAX_LENGTH[field]} characters.`);
  }
  return value;
}

function checkEnum<T extends string>(field: string, value: unknown, allowed: readonly T[], origin: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalidField(field, `${origin} ${field} must be one of ${allowed.join(', ')}.`);
  }
  return value as T;
}

/** No value for a required field: names the configured source that gave none, if any. */
function missing(field: 'provisionDeviceKey' | 'provisionDeviceSecret', what: string, source: string | undefined): ProvisionError {
  const where = source === undefined ? '' : ` The node takes it from ${source}.`;
  return invalidField(field, `No ${what}:${where} Set it on the node or in msg.payload.${field}.`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

function hasValue(record: Record<string, unknown>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(record, key) && record[key] !== undefined;
}

function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}

async function fromSource(
  field: StringField,
  value: string | undefined,
  type: string | undefined,
  credential: string | undefined,
  evaluate: EvaluateProperty,
): Promise<string | undefined> {
  return sourceText(field, await readPropertySource(field, value, type, credential, evaluate));
}

function sourceText(field: StringField, result: unknown): string | undefined {
  if (result === undefined || result === null || result === '') return undefined;
  return checkString(field, result, `The configured source of`);
}

/**
 * The device name from the node's source. A source that gives a blank name (a blank line of a bulk
 * list, say) is INVALID_INPUT: only a name that is absent may become a generated one.
 */
async function deviceNameFromSource(props: ProvisionNodeProperties, evaluate: EvaluateProperty): Promise<string | undefined> {
  const type = props.deviceNameType || 'msg';
  const result = await readPropertySource('deviceName', props.deviceName, type, undefined, evaluate);
  if (type !== 'str' && typeof result === 'string' && !result.trim()) {
    throw invalidField(
      'deviceName',
      `The device name from ${type}.${props.deviceName ?? ''} is empty: give a name (a blank name would create a device nobody can find).`,
    );
  }
  return sourceText('deviceName', result);
}

/**
 * Builds the core's options for one message: the node's configuration, with msg.payload fields
 * (named as GridLinks names them) taking precedence. Throws ProvisionError INVALID_INPUT naming the field.
 */
export async function buildProvisionOptions(
  props: ProvisionNodeProperties,
  credentials: ProvisionNodeCredentials,
  payload: unknown,
  server: ServerOptions,
  evaluate: EvaluateProperty,
): Promise<ProvisionOptions | ChainProvisionOptions> {
  if (wantsChain(props, payload)) return buildChainOptions(props, credentials, payload, server, evaluate);
  const input = isPlainObject(payload) ? payload : {};
  const fromMsg = 'msg.payload.';

  const options: ProvisionOptions = {
    server,
    provisionDeviceKey: '',
    provisionDeviceSecret: '',
    credentialsType: checkEnum('credentialsType', props.credentialsType || 'X509_CERTIFICATE', CREDENTIALS_TYPES, 'The node property'),
    keyAlgorithm: checkEnum('keyAlgorithm', props.keyAlgorithm || 'rsa2048', KEY_ALGORITHMS, 'The node property'),
  };
  if (isTrue(props.verify)) options.verify = true;
  if (isTrue(props.gateway)) options.gateway = true;
  const storeDir = storeFolderOf(props.storeDir);
  if (storeDir) options.storeDir = storeDir;
  if (props.ifStored === 'fail') options.ifStored = 'fail';

  const configured = {
    deviceName: await deviceNameFromSource(props, evaluate),
    provisionDeviceKey: await fromSource('provisionDeviceKey', props.provisionKey, props.provisionKeyType, credentials.provisionDeviceKey, evaluate),
    provisionDeviceSecret: await fromSource(
      'provisionDeviceSecret',
      props.provisionSecret,
      props.provisionSecretType,
      credentials.provisionDeviceSecret,
      evaluate,
    ),
  };

  const nameSourceType = props.deviceNameType || 'msg';
  if (hasValue(input, 'deviceName') && typeof input.deviceName === 'string' && !input.deviceName.trim()) {
    throw invalidField('deviceName', 'msg.payload.deviceName is empty: give a name (a blank name would create a device nobody can find).');
  }
  if (configured.deviceName === undefined && !hasValue(input, 'deviceName') && !isTrue(props.allowUnnamed)) {
    const where = nameSourceType === 'str' ? 'the node sets no device name' : `its source is ${emptySourceText(props.deviceName, nameSourceType)}`;
    throw invalidField('deviceName', `No device name: ${where}. To let GridLinks generate names, tick "Allow unnamed devices" on the node.`);
  }

  const stringFields: StringField[] = [
    'deviceName',
    'provisionDeviceKey',
    'provisionDeviceSecret',
    'token',
    'clientId',
    'username',
    'password',
    'certificate',
    'privateKey',
  ];
  for (const field of stringFields) {
    const value = hasValue(input, field) ? checkString(field, input[field], fromMsg) : (configured as Partial<Record<StringField, string>>)[field];
    if (value !== undefined && value !== '') options[field] = value;
  }
  if (hasValue(input, 'credentialsType')) options.credentialsType = checkEnum('credentialsType', input.credentialsType, CREDENTIALS_TYPES, fromMsg);
  if (hasValue(input, 'keyAlgorithm')) options.keyAlgorithm = checkEnum('keyAlgorithm', input.keyAlgorithm, KEY_ALGORITHMS, fromMsg);
  if (hasValue(input, 'gateway')) {
    if (typeof input.gateway !== 'boolean') throw invalidField('gateway', `${fromMsg}gateway must be true or false.`);
    options.gateway = input.gateway;
  }

  if (!options.provisionDeviceKey) throw missing('provisionDeviceKey', 'provision device key', emptySourceText(props.provisionKey, props.provisionKeyType));
  if (!options.provisionDeviceSecret) {
    throw missing('provisionDeviceSecret', 'provision device secret', emptySourceText(props.provisionSecret, props.provisionSecretType));
  }
  return options;
}
