import { isProvisionError, ProvisionError, type ProvisionErrorDetails } from '../provisioning/errors';

/**
 * A message of a device or gateway node failed: the error as a ProvisionError (anything else is an
 * unexpected problem), kept on msg.gridlinksError and passed to done() so Catch nodes see it. A msg
 * without Object's prototype makes Node-RED's error routing throw: then it is logged rather than lost.
 */
export function failMessage(
  msg: { gridlinksError?: unknown },
  done: (error?: Error) => void,
  error: unknown,
  logError: (error: Error) => void,
  details: ProvisionErrorDetails = {},
): ProvisionError {
  const failure = isProvisionError(error)
    ? error
    : new ProvisionError('INVALID_INPUT', `Unexpected problem: ${(error as Error)?.message ?? String(error)}`, details);
  msg.gridlinksError = failure.toJSON();
  try {
    done(failure);
  } catch {
    logError(failure);
  }
  return failure;
}
