import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ProvisionError } from '../provisioning/errors';
import { CREDENTIALS_FILE, entryNameForDevice } from '../provisioning/store';
import { identityFromMessage, type DeviceIdentity } from './device-identity';

const MAX_FILE_BYTES = 1024 * 1024;

function storeError(deviceName: string, message: string, reason?: string): ProvisionError {
  return new ProvisionError('STORE', message, { deviceName, ...(reason ? { reason } : {}) });
}

async function readSmall(file: string): Promise<string> {
  const handle = await fs.open(file, 'r');
  try {
    if ((await handle.stat()).size > MAX_FILE_BYTES) throw Object.assign(new Error('too large'), { code: 'EFBIG' });
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** A file named in credentials.json, read from the device's folder (a bare file name only, never a path out of it). */
async function readNamedFile(deviceDir: string, name: unknown): Promise<string | undefined> {
  if (typeof name !== 'string' || name === '' || path.basename(name) !== name) return undefined;
  return readSmall(path.join(deviceDir, name));
}

/**
 * The device `deviceName` as the credential store holds it (the layout of provisioning/store.ts:
 * `<entry>/credentials.json`, and for X.509 the certificate, key and optional chain files it names).
 */
export async function readStoredDevice(storeDir: string, deviceName: string): Promise<DeviceIdentity> {
  const deviceDir = path.resolve(storeDir, entryNameForDevice(deviceName));
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(await readSmall(path.join(deviceDir, CREDENTIALS_FILE))) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw storeError(
        deviceName,
        `The store folder ${path.resolve(storeDir)} holds no device "${deviceName}": provision it with this store folder first, or check the name.`,
        code,
      );
    }
    throw storeError(
      deviceName,
      `The stored credentials of device "${deviceName}" in ${deviceDir} cannot be read${code ? ` (${code})` : ' (not JSON)'}.`,
      code,
    );
  }
  const stored = (typeof record.credentials === 'object' && record.credentials !== null ? record.credentials : {}) as Record<string, unknown>;
  let credentials: Record<string, unknown> = stored;
  if (record.credentialsType === 'X509_CERTIFICATE') {
    try {
      const [certificate, privateKey, chain] = await Promise.all([
        readNamedFile(deviceDir, stored.certificateFile),
        readNamedFile(deviceDir, stored.privateKeyFile),
        readNamedFile(deviceDir, stored.chainFile),
      ]);
      credentials = { ...stored, certificate, privateKey, chain };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw storeError(deviceName, `The certificate or key files of device "${deviceName}" in ${deviceDir} cannot be read (${code ?? 'error'}).`, code);
    }
    if (credentials.privateKey === undefined) {
      throw storeError(
        deviceName,
        `The store holds no private key for device "${deviceName}" (${deviceDir}): it cannot log in with its certificate from here.`,
      );
    }
  }
  try {
    return identityFromMessage({ deviceName, credentialsType: record.credentialsType, credentials });
  } catch (error) {
    throw storeError(deviceName, `The stored credentials of device "${deviceName}" in ${deviceDir} are incomplete: ${(error as Error).message}`);
  }
}
