import { ProvisionError } from '../provisioning/errors';
import type { ResolvedServer } from '../provisioning/types';

/** The device's v1/gateway/* publishes are not acknowledged: GridLinks drops them for a device that is not a gateway. */
export function notGateway(server: ResolvedServer, gatewayName: string): ProvisionError {
  return new ProvisionError(
    'NOT_GATEWAY',
    `Device "${gatewayName}" is not a gateway on GridLinks at ${server.host}:${server.port}: its session is up, but its first messages on v1/gateway/* were not acknowledged within ${server.answerTimeoutMs} ms (GridLinks drops them for an ordinary device). Provision a device with "Create as gateway" (msg.payload.gateway = true, CLI --gateway), or tick "Is gateway" on the device in GridLinks, then redeploy. Nothing sent through this session is known to have arrived.`,
    { deviceName: gatewayName, gatewayName, requestSent: true },
  );
}

/** A session error (which names the gateway as a device) as the error of a child's message. */
export function forChild(error: ProvisionError, child: string, gatewayName: string): ProvisionError {
  const details = { ...error.details, deviceName: child, gatewayName };
  // Errors about the child's message (INVALID_INPUT) or about the gateway as such (NOT_GATEWAY, SESSION_TAKEN_OVER) keep their text.
  if (error.details.deviceName !== gatewayName || error.code === 'NOT_GATEWAY' || error.code === 'SESSION_TAKEN_OVER')
    return new ProvisionError(error.code, error.message, details);
  const named = `child "${child}" of gateway "${gatewayName}"`;
  const message = error.message.replace(`device "${gatewayName}"`, named).replace(`Device "${gatewayName}"`, `For ${named}`);
  return new ProvisionError(error.code, message, details, { cause: error });
}
