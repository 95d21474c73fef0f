import { ProvisionError } from '../provisioning/errors';

/** Reads a TypedInput value (msg/flow/global/env/str) for one message. */
export type EvaluateProperty = (value: string, type: string) => Promise<unknown>;

/** TypedInput type meaning "use the node's own credential". */
export const CREDENTIAL_SOURCE = 'cred';

export function invalidField(field: string, message: string): ProvisionError {
  return new ProvisionError('INVALID_INPUT', message, { field });
}

/**
 * A node property's value for one message: the node's credential, or what its TypedInput source
 * gives (unchecked: callers check the type). INVALID_INPUT naming the field when the source cannot be read.
 */
export async function readPropertySource(
  field: string,
  value: string | undefined,
  type: string | undefined,
  credential: string | undefined,
  evaluate: EvaluateProperty,
): Promise<unknown> {
  const sourceType = type || CREDENTIAL_SOURCE;
  if (sourceType === CREDENTIAL_SOURCE) return credential || undefined;
  try {
    return await evaluate(value ?? '', sourceType);
  } catch {
    throw invalidField(field, `The configured source of ${field} (${sourceType}) could not be read.`);
  }
}

/**
 * Where an empty configured source pointed, in words ("the environment variable X, which is not set
 * for the Node-RED process"), for the message that asks for the value; undefined for the node's credential.
 */
export function emptySourceText(value: string | undefined, type: string | undefined): string | undefined {
  const sourceType = type || CREDENTIAL_SOURCE;
  const name = value ?? '';
  switch (sourceType) {
    case CREDENTIAL_SOURCE:
      return undefined;
    case 'env':
      return `the environment variable ${name}, which is not set (or empty) for the Node-RED process`;
    case 'flow':
    case 'global':
      return `${sourceType} context "${name}", which is empty`;
    case 'msg':
      return `msg.${name}, which the message does not have`;
    default:
      return `${sourceType} "${name}", which gave nothing`;
  }
}
