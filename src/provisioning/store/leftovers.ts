import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parsePendingRecord } from './pending-record';
import { listPendingNames } from './pending-entries';
import { listStoredDevices, type StoredDeviceSummary } from './stored-devices';
import {
  CERTIFICATE_FILE,
  CREDENTIALS_FILE,
  PENDING_KEY_SUFFIX,
  PRIVATE_KEY_FILE,
  discardPending,
  exists,
  fsyncDirectory,
  pendingPaths,
  writeFileOnce,
} from './store';
import { ensureSafeStore } from './store-safety';
import { removeRenewalTemporaries, staleTemporary } from './stale-temporaries';

/** Where a leftover key goes when its pending name is taken by other content. */
const RECOVERED_DIR = '.recovered';

export interface StoreInspection {
  storeDir: string;
  /** Entries waiting in `.pending/` (resume them). */
  pending: string[];
  /** What the leftover recovery did (empty when there was nothing, or it ran earlier in this process). */
  warnings: string[];
  /** Every device of the store, committed and pending, with its type and (X.509) end of validity. */
  devices: StoredDeviceSummary[];
}

const recoveries = new Map<string, Promise<string[]>>();

/**
 * Checks the store folder is safe (store-safety.ts), then, once per folder and process, finds what a
 * killed run left (`.tmp-*`): a temporary commit folder that is complete is finished (renamed into
 * place); any other complete private key is put back in `.pending/` (it may belong to a device the
 * server created); then the temporary is removed. Each step is a warning; nothing is deleted silently.
 */
export async function openStore(storeDir: string): Promise<{ storeDir: string; pendingDir: string; warnings: string[] }> {
  const safe = await ensureSafeStore(storeDir);
  let recovery = recoveries.get(safe.storeDir);
  const first = recovery === undefined;
  if (recovery === undefined) {
    recovery = recoverLeftovers(safe.storeDir, safe.pendingDir);
    recoveries.set(safe.storeDir, recovery);
    recovery.catch(() => recoveries.delete(safe.storeDir));
  }
  const warnings = await recovery;
  return { ...safe, warnings: first ? warnings : [] };
}

/** For the node at deploy and the CLI: open the store and count what waits in `.pending/`. */
export async function inspectStore(storeDir: string): Promise<StoreInspection> {
  const opened = await openStore(storeDir);
  return {
    storeDir: opened.storeDir,
    pending: await listPendingNames(opened.storeDir),
    warnings: opened.warnings,
    devices: await listStoredDevices(opened.storeDir),
  };
}

async function recoverLeftovers(storeDir: string, pendingDir: string): Promise<string[]> {
  const warnings: string[] = [];
  for (const name of await fs.readdir(storeDir)) {
    const leftover = await staleTemporary(storeDir, name);
    if (leftover) warnings.push(await recoverCommitFolder(storeDir, path.join(storeDir, name), leftover.target));
  }
  for (const name of await fs.readdir(pendingDir)) {
    const leftover = await staleTemporary(pendingDir, name);
    if (leftover) warnings.push(await recoverPendingFile(pendingDir, path.join(pendingDir, name), leftover.target));
  }
  for (const item of await fs.readdir(storeDir, { withFileTypes: true })) {
    if (item.isDirectory() && !item.name.startsWith('.')) warnings.push(...(await removeRenewalTemporaries(path.join(storeDir, item.name))));
  }
  return warnings;
}

/** A commit folder of a run killed after SUCCESS: finish it when complete, else keep its key. */
async function recoverCommitFolder(storeDir: string, folder: string, entryName: string): Promise<string> {
  const read = (file: string) => fs.readFile(path.join(folder, file), 'utf8').catch(() => undefined);
  const [credentials, certificate, privateKey] = await Promise.all([read(CREDENTIALS_FILE), read(CERTIFICATE_FILE), read(PRIVATE_KEY_FILE)]);
  const keyComplete = privateKey !== undefined && isPrivateKey(privateKey);
  const record = credentials === undefined ? undefined : parseJson(credentials);
  const wantsCertificate = typeof record?.credentials?.certificateFile === 'string';
  const wantsKey = typeof record?.credentials?.privateKeyFile === 'string';
  const complete = record !== undefined && (!wantsCertificate || (certificate !== undefined && isCertificate(certificate))) && (!wantsKey || keyComplete);
  const deviceDir = path.join(storeDir, entryName);
  if (complete && !(await exists(deviceDir))) {
    await fs.rename(folder, deviceDir);
    await fsyncDirectory(storeDir);
    const { keyPath, recordPath } = pendingPaths(storeDir, entryName);
    await discardPending({ storeDir, name: entryName, deviceDir, pendingKeyPath: keyPath, pendingPath: recordPath });
    return `A run stopped while saving the credentials of "${entryName}" (the server had accepted them): the save is finished now, at ${deviceDir}.`;
  }
  const kept = keyComplete ? await keepKey(storeDir, entryName, privateKey, deviceDir) : undefined;
  await fs.rm(folder, { recursive: true, force: true });
  return kept
    ? `A run stopped while saving the credentials of "${entryName}": its private key is ${kept}; removed the temporary folder ${folder}.`
    : `A run stopped while saving the credentials of "${entryName}": removed the temporary folder ${folder}, which held no complete private key.`;
}

/** A pending file whose temp + link was cut: put it in place when complete and its place is free. */
async function recoverPendingFile(pendingDir: string, file: string, target: string): Promise<string> {
  const content = await fs.readFile(file, 'utf8').catch(() => '');
  const complete = target.endsWith(PENDING_KEY_SUFFIX) ? isPrivateKey(content) : parsePendingRecord(content) !== undefined;
  const targetPath = path.join(pendingDir, target);
  const existing = await fs.readFile(targetPath, 'utf8').catch(() => undefined);
  let outcome: string;
  if (existing === content) {
    outcome = `already at ${targetPath}`;
  } else if (!complete) {
    outcome = 'incomplete (no complete key or record in it)';
  } else if (existing === undefined) {
    await writeFileOnce(targetPath, content);
    outcome = `moved back to ${targetPath}`;
  } else {
    const aside = await keepAside(pendingDir, target, content);
    outcome = `kept at ${aside} (${targetPath} holds something else)`;
  }
  await fs.rm(file, { force: true });
  return `A run stopped while writing a pending file: ${path.basename(file)} was ${outcome}; the temporary file is removed.`;
}

/** Where a complete key from a leftover ends up: found where it already is, or written into `.pending/`. */
async function keepKey(storeDir: string, entryName: string, privateKey: string, deviceDir: string): Promise<string> {
  const { keyPath } = pendingPaths(storeDir, entryName);
  for (const place of [keyPath, path.join(deviceDir, PRIVATE_KEY_FILE)]) {
    if ((await fs.readFile(place, 'utf8').catch(() => undefined)) === privateKey) return `already at ${place}`;
  }
  if (!(await exists(keyPath))) {
    await writeFileOnce(keyPath, privateKey);
    return `moved back to ${keyPath}`;
  }
  return `kept at ${await keepAside(path.dirname(keyPath), `${entryName}${PENDING_KEY_SUFFIX}`, privateKey)}`;
}

async function keepAside(pendingDir: string, name: string, content: string): Promise<string> {
  const dir = path.join(pendingDir, RECOVERED_DIR);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${randomBytes(4).toString('hex')}-${name}`);
  await writeFileOnce(file, content);
  return file;
}

function isPrivateKey(pem: string): boolean {
  try {
    createPrivateKey(pem);
    return true;
  } catch {
    return false;
  }
}

function isCertificate(pem: string): boolean {
  try {
    new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}

function parseJson(text: string): { credentials?: { certificateFile?: unknown; privateKeyFile?: unknown } } | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}
