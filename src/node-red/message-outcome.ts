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

/**
 * A message of a device or gateway node succeeded: it leaves output 1 and is done. Called from a
 * session's PUBACK handling, so whatever Node-RED throws is logged and never reaches mqtt.js.
 */
export function completeMessage<M extends object>(
  msg: M,
  send: (msgs: Array<M | null>) => void,
  done: () => void,
  logError: (error: unknown, msg: M) => void,
): void {
  try {
    send([msg, null]);
    done();
  } catch (thrown) {
    logError(thrown, msg);
  }
}
