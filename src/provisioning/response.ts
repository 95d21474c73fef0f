import { ProvisionError } from './errors';
import { certificateCredentialsId, trimCertificate } from './credential-hash';
import type { BasicCredentials, CredentialsType, DeviceCredentials } from './types';

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

/** A short, safe rendering of a value parsed from the answer (never calls the value's own toString). */
function describeJson(value: unknown): string {
  return (JSON.stringify(value) ?? String(typeof value)).slice(0, 40);
}

function badResponse(message: string): ProvisionError {
  return new ProvisionError('BAD_RESPONSE', `${message} The device may have been created; check it in GridLinks before retrying.`, {
    requestSent: true,
  });
}

/** Parses and checks GridLinks' answer (protocol.md §3); throws ProvisionError for every refusal or oddity. */
export function acceptAnswer(payload: Buffer, context: AnswerContext): AcceptedAnswer {
  let answer: unknown;
  try {
    answer = JSON.parse(payload.toString('utf8'));
  } catch {
    throw badResponse(`GridLinks answered with ${payload.length} bytes that are not JSON.`);
  }
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
    throw badResponse('GridLinks answered with JSON that is not an object.');
  }
  const fields = answer as Record<string, unknown>;
  const status = fields.status ?? fields.provisionDeviceStatus;
  const serverMessage = typeof fields.errorMsg === 'string' ? fields.errorMsg : undefined;
  const said = serverMessage ? ` (GridLinks said: "${serverMessage}")` : '';

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
  const credentials: BasicCredentials = {};
  if (typeof clientId === 'string' && clientId !== '') credentials.clientId = clientId;
  if (typeof userName === 'string' && userName !== '') credentials.userName = userName;
  if (typeof password === 'string' && password !== '') credentials.password = password;
  if (!credentials.clientId && !credentials.userName) {
    throw badResponse('GridLinks answered SUCCESS with MQTT_BASIC credentials that have neither a client id nor a user name.');
  }
  return credentials;
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
