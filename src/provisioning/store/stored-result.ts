import { deviceConnectOptions } from '../net';
import { ProvisionError } from '../errors';
import type { DeviceCredentials, ProvisionResult, ResolvedServer } from '../types';
import { readStoredEntry } from './stored-entry';

/**
 * A committed device read back from its store folder as a result (`fromStore: true`), with
 * connection options for `server`; undefined when the folder does not exist. STORE when it exists
 * but cannot be read: it is never replaced, so provisioning again is no way out.
 */
export async function readStoredResult(deviceDir: string, server: ResolvedServer, deviceName: string | null = null): Promise<ProvisionResult | undefined> {
  let entry;
  try {
    entry = await readStoredEntry(deviceDir, deviceName);
  } catch (error) {
    if (!(error instanceof ProvisionError)) throw error;
    throw new ProvisionError(error.code, `${error.message} Nothing was sent.`, { ...error.details, requestSent: false });
  }
  if (entry === undefined) return undefined;
  const credentials = entry.credentials as unknown as DeviceCredentials;
  const warnings: string[] = [];
  if (entry.server && (entry.server.host !== server.host || entry.server.port !== server.port)) {
    warnings.push(`These stored credentials were provisioned on ${entry.server.host}:${entry.server.port}, not on ${server.host}:${server.port}.`);
  }
  return {
    deviceName: entry.deviceName,
    credentialsType: entry.credentialsType,
    credentials,
    server: entry.server!,
    connectOptions: deviceConnectOptions(server, entry.credentialsType, credentials),
    stored: { dir: deviceDir, files: entry.files },
    fromStore: true,
    warnings,
    ...(entry.gateway ? { gateway: true as const } : {}),
  };
}
