import * as path from 'node:path';
import { ProvisionError } from '../provisioning/errors';
import { entryNameForDevice, readStoredEntry, renewalUnderWay } from '../provisioning/store';
import { credentialsProblem } from './credential-check';
import { identityFromMessage, type DeviceIdentity } from './device-identity';

function storeError(deviceName: string, message: string): ProvisionError {
  return new ProvisionError('STORE', message, { deviceName });
}

/**
 * The device `deviceName` as the credential store holds it, read by the store's one reader
 * (`<entry>/credentials.json`, and for X.509 the certificate, key and optional chain files it names).
 */
export async function readStoredDevice(storeDir: string, deviceName: string): Promise<DeviceIdentity> {
  const deviceDir = path.resolve(storeDir, entryNameForDevice(deviceName));
  const entry = await readStoredEntry(deviceDir, deviceName);
  if (entry === undefined) {
    throw new ProvisionError(
      'STORE',
      `The store folder ${path.resolve(storeDir)} holds no device "${deviceName}": provision it with this store folder first, or check the name.`,
      { deviceName, reason: 'ENOENT' },
    );
  }
  if (entry.credentialsType === 'X509_CERTIFICATE' && entry.credentials.privateKey === undefined) {
    throw storeError(deviceName, `The store holds no private key for device "${deviceName}" (${deviceDir}): it cannot log in with its certificate from here.`);
  }
  try {
    return identityFromMessage({ deviceName, credentialsType: entry.credentialsType, credentials: entry.credentials });
  } catch (error) {
    throw storeError(deviceName, `The stored credentials of device "${deviceName}" in ${deviceDir} are incomplete: ${(error as Error).message}`);
  }
}

/**
 * The stored device read again before a login (a renewal, in this process or another, may have replaced
 * its certificate). Undefined while a renewal is under way in its folder (GridLinks may hold the next
 * certificate already, the files are swapped next): the caller tries again shortly. STORE when the files
 * read cannot log in (a key that does not belong to the certificate: a swap cut by a crash, or an edit).
 */
export async function rereadStoredDevice(storeDir: string, deviceName: string): Promise<DeviceIdentity | undefined> {
  const deviceDir = path.resolve(storeDir, entryNameForDevice(deviceName));
  if (await renewalUnderWay(deviceDir)) return undefined;
  const identity = await readStoredDevice(storeDir, deviceName);
  // A renewal that began while the files were read: they may be the certificate GridLinks just replaced.
  if (await renewalUnderWay(deviceDir)) return undefined;
  const problem = credentialsProblem(identity);
  if (problem) throw storeError(deviceName, `The stored credentials of device "${deviceName}" in ${deviceDir} cannot be used: ${problem.message}`);
  return identity;
}
