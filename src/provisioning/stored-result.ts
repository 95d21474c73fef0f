import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { deviceConnectOptions } from './connect-options';
import { ProvisionError } from './errors';
import { CREDENTIALS_FILE } from './store';
import type { ResolvedServer } from './validate';
import type { CredentialsType, DeviceCredentials, ProvisionResult, ProvisionedServer } from './types';

interface StoredRecord {
  deviceName: string | null;
  credentialsType: CredentialsType;
  credentials: Record<string, unknown>;
  server: ProvisionedServer;
}

/**
 * A committed device read back from its store folder as a result (`fromStore: true`), with
 * connection options for `server`; undefined when the folder does not exist. STORE when it exists
 * but cannot be read: it is never replaced, so provisioning again is no way out.
 */
export async function readStoredResult(deviceDir: string, server: ResolvedServer): Promise<ProvisionResult | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(deviceDir, CREDENTIALS_FILE), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !(await folderExists(deviceDir))) return undefined;
    throw unreadable(deviceDir, code);
  }
  let record: StoredRecord;
  const files: string[] = [path.join(deviceDir, CREDENTIALS_FILE)];
  let credentials: DeviceCredentials;
  try {
    record = JSON.parse(text) as StoredRecord;
    const stored = record.credentials;
    if (typeof stored !== 'object' || stored === null || typeof record.credentialsType !== 'string') throw new Error('incomplete');
    if (typeof stored.certificateFile === 'string') {
      const certificateFile = path.join(deviceDir, path.basename(stored.certificateFile));
      files.unshift(certificateFile);
      const x509: Record<string, unknown> = { certificate: await fs.readFile(certificateFile, 'utf8') };
      if (typeof stored.privateKeyFile === 'string') {
        const keyFile = path.join(deviceDir, path.basename(stored.privateKeyFile));
        files.splice(1, 0, keyFile);
        x509.privateKey = await fs.readFile(keyFile, 'utf8');
      }
      if (typeof stored.chainFile === 'string') {
        const chainFile = path.join(deviceDir, path.basename(stored.chainFile));
        files.push(chainFile);
        x509.chain = await fs.readFile(chainFile, 'utf8');
      }
      x509.credentialsId = stored.credentialsId;
      credentials = x509;
    } else {
      credentials = { ...stored };
    }
  } catch (error) {
    throw unreadable(deviceDir, (error as NodeJS.ErrnoException).code ?? 'not a complete credentials.json');
  }
  const warnings: string[] = [];
  if (record.server && (record.server.host !== server.host || record.server.port !== server.port)) {
    warnings.push(`These stored credentials were provisioned on ${record.server.host}:${record.server.port}, not on ${server.host}:${server.port}.`);
  }
  return {
    deviceName: record.deviceName ?? null,
    credentialsType: record.credentialsType,
    credentials,
    server: record.server,
    connectOptions: deviceConnectOptions(server, record.credentialsType, credentials),
    stored: { dir: deviceDir, files },
    fromStore: true,
    warnings,
  };
}

async function folderExists(dir: string): Promise<boolean> {
  return fs.lstat(dir).then(
    () => true,
    () => false,
  );
}

function unreadable(deviceDir: string, reason: string | undefined): ProvisionError {
  return new ProvisionError(
    'STORE',
    `The credential store holds a folder for this device at ${deviceDir}, but its credentials cannot be read (${reason ?? 'error'}): repair or move that folder away. Nothing was sent.`,
    { requestSent: false, ...(reason ? { reason } : {}) },
  );
}
