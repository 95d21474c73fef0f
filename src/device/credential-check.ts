import { ProvisionError } from '../provisioning/errors';
import { loginCredentialsProblem } from '../provisioning/net';
import type { DeviceIdentity } from './device-identity';

/**
 * What would make a session of `identity` fail before a byte is sent (the core's login check):
 * checked before the device takes a place or a connect slot. Undefined when there is nothing to say.
 */
export function credentialsProblem(identity: DeviceIdentity): ProvisionError | undefined {
  const problem = loginCredentialsProblem(identity.credentialsType, identity.credentials);
  if (problem === undefined) return undefined;
  return new ProvisionError(
    'INVALID_INPUT',
    `The credentials of device "${identity.deviceName}" cannot be used: ${problem.message}. No session was opened and nothing was sent.`,
    { field: 'device', deviceName: identity.deviceName, reason: problem.reason },
  );
}
