import { ProvisionError } from '../errors';
import { certificateCredentialsId, trimCertificate } from '../x509';
import { displayText } from '../display-text';
import type { BasicCredentials, CredentialsType, DeviceCredentials } from '../types';

export interface AnswerContext {
  /** The credentialsType that was asked for. */
  requested: CredentialsType;
  /** ACCESS_TOKEN: the token that was asked for, if any. */
  requestedToken?: string;
  /** X509_CERTIFICATE: the PEM sent as `hash`, and its key when we hold it. */
  certificate?: string;
  privateKey?: string;
}

export interface AcceptedAnswer {
  credentialsType: CredentialsType;
  credentials: DeviceCredentials;
  warnings: string[];
}

const NOT_FOUND_ADVICE =
  'Check the provision device key and secret (device profile > Device provisioning) and that the profile\'s provisioning strategy is not "Disabled".';
const FAILURE_ADVICE =
  'Usual causes: a device with this name already exists (pick another name, or delete that device); the profile only allows ' +
  'pre-provisioned devices and this one does not exist in that profile or was already provisioned; or the token, client id/username ' +
  'or certificate is already used by another device.';

/** Longest credential value (token, client id, user name, password) taken from an answer. */
const MAX_CREDENTIAL_LENGTH = 4096;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A short, safe rendering of a value parsed from the answer (no recursion into objects, nothing raw). */
function describeJson(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `"${displayText(value, 40)}"`;
  return JSON.stringify(value) ?? 'undefined';
}

function badResponse(message: string): ProvisionError {
  return new ProvisionError('BAD_RESPONSE', `${message} The device may have been created; check it in GridLinks before retrying.`, {
    requestSent: true,
  });
}

/** Parses and checks GridLinks' answer (protocol.md §3); throws ProvisionError for every refusal or oddity. */
export function acceptAnswer(payload: Buffer, context: AnswerContext): AcceptedAnswer {
  try {
    return readAnswer(payload, context);
  } catch (error) {
    if (error instanceof ProvisionError) throw error;
    // Whatever the answer's shape, a surprise in reading it is the answer's fault, never an internal error.
    throw badResponse(`GridLinks answered with ${payload.length} bytes this client cannot read (${(error as Error)?.name ?? 'error'}).`);
  }
}

function readAnswer(payload: Buffer, context: AnswerContext): AcceptedAnswer {
  let text: string;
  try {
    text = UTF8.decode(payload);
  } catch {
    throw badResponse(`GridLinks answered with ${payload.length} bytes that are not UTF-8 text.`);
  }
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    throw badResponse(`GridLinks answered with ${payload.length} bytes that are not JSON.`);
  }
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
    throw badResponse('GridLinks answered with JSON that is not an object.');
  }
  const fields = answer as Record<string, unknown>;
  const status = fields.status ?? fields.provisionDeviceStatus;
  if (fields.errorMsg !== undefined && fields.errorMsg !== null && typeof fields.errorMsg !== 'string') {
    throw badResponse(`GridLinks answered with an errorMsg that is ${describeJson(fields.errorMsg)}, not text.`);
  }
  const serverMessage = typeof fields.errorMsg === 'string' ? fields.errorMsg : undefined;
  const said = serverMessage ? ` (GridLinks said: "${displayText(serverMessage, 200)}")` : '';

  switch (status) {
    case 'NOT_FOUND':
      throw new ProvisionError('NOT_FOUND', `GridLinks found no provisioning profile for this key and secret${said}. ${NOT_FOUND_ADVICE}`, {
        serverMessage,
        requestSent: true,
      });
    case 'FAILURE':
      throw new ProvisionError('FAILURE', `GridLinks refused to provision the device${said}. ${FAILURE_ADVICE}`, {
        serverMessage,
        requestSent: true,
      });
    case 'SUCCESS':
      return acceptCredentials(fields, context);
    case undefined:
      throw badResponse('GridLinks answered without a status.');
    default:
      throw badResponse(`GridLinks answered with an unknown status ${describeJson(status)}.`);
  }
}

function acceptCredentials(fields: Record<string, unknown>, context: AnswerContext): AcceptedAnswer {
  const returned = fields.credentialsType;
  const value = fields.credentialsValue;
  const warnings: string[] = [];
  if (returned !== context.requested && (returned === 'ACCESS_TOKEN' || returned === 'MQTT_BASIC')) {
    warnings.push(
      `Asked for ${context.requested} credentials but GridLinks returned ${returned} (a pre-provisioned device keeps its existing ` +
        'credentials, and a request without credential fields falls back to an access token). The returned credentials are the ones to use.',
    );
  }
  switch (returned) {
    case 'ACCESS_TOKEN': {
      if (typeof value !== 'string' || value === '') throw badResponse('GridLinks answered SUCCESS without an access token.');
      usableCredential(value, 'access token');
      if (context.requested === 'ACCESS_TOKEN' && context.requestedToken !== undefined && value !== context.requestedToken) {
        warnings.push('GridLinks returned a different access token than the one asked for (a pre-provisioned device keeps its token). Use the returned one.');
      }
      return { credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: value }, warnings };
    }
    case 'MQTT_BASIC':
      return { credentialsType: 'MQTT_BASIC', credentials: basicCredentials(value), warnings };
    case 'X509_CERTIFICATE':
      return { credentialsType: 'X509_CERTIFICATE', credentials: x509Credentials(value, context), warnings };
    default:
      throw badResponse(`GridLinks answered SUCCESS with credentials of an unsupported type ${describeJson(returned)}.`);
  }
}

function basicCredentials(value: unknown): BasicCredentials {
  let object = value;
  if (typeof value === 'string') {
    try {
      object = JSON.parse(value);
    } catch {
      object = undefined;
    }
  }
  if (typeof object !== 'object' || object === null) throw badResponse('GridLinks answered SUCCESS with MQTT_BASIC credentials that are not an object.');
  const { clientId, userName, password } = object as Record<string, unknown>;
  for (const [field, text] of Object.entries({ clientId, userName, password })) if (typeof text === 'string') usableCredential(text, field);
  const credentials: BasicCredentials = {};
  if (typeof clientId === 'string' && clientId !== '') credentials.clientId = clientId;
  if (typeof userName === 'string' && userName !== '') credentials.userName = userName;
  if (typeof password === 'string' && password !== '') credentials.password = password;
  if (!credentials.clientId && !credentials.userName) {
    throw badResponse('GridLinks answered SUCCESS with MQTT_BASIC credentials that have neither a client id nor a user name.');
  }
  return credentials;
}

/** GridLinks never issues credentials with control characters or of this length: such an answer is not usable. */
function usableCredential(value: string, what: string): void {
  if (value.length > MAX_CREDENTIAL_LENGTH) {
    throw badResponse(`GridLinks answered SUCCESS with a ${what} of ${value.length} characters (more than ${MAX_CREDENTIAL_LENGTH}); no device can use it.`);
  }
  if (CONTROL_CHARACTERS.test(value)) throw badResponse(`GridLinks answered SUCCESS with a ${what} that contains control characters; no device can use it.`);
}

function x509Credentials(value: unknown, context: AnswerContext) {
  if (typeof value !== 'string' || value === '') throw badResponse('GridLinks answered SUCCESS without the certificate.');
  if (context.certificate === undefined) {
    throw new ProvisionError(
      'CREDENTIAL_MISMATCH',
      `Asked for ${context.requested} credentials but GridLinks returned an X.509 certificate that this client holds no private key for ` +
        '(the device was pre-provisioned with a certificate). Connect the device with the key its certificate was issued for, or ask for X509_CERTIFICATE.',
      { requestSent: true },
    );
  }
  if (value !== trimCertificate(context.certificate)) {
    throw new ProvisionError(
      'CREDENTIAL_MISMATCH',
      'GridLinks returned a different certificate than the one sent: the device exists but holds other credentials ' +
        '(e.g. a pre-provisioned device with its own certificate). The generated key will not work for it; check the device in GridLinks.',
      { requestSent: true },
    );
  }
  return {
    certificate: context.certificate,
    ...(context.privateKey !== undefined ? { privateKey: context.privateKey } : {}),
    credentialsId: certificateCredentialsId(context.certificate),
  };
}
