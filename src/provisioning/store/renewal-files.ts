import { createPrivateKey, X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { certificateCredentialsId } from '../x509';
import { CERTIFICATE_FILE, CREDENTIALS_FILE, PRIVATE_KEY_FILE, fsyncDirectory, temporaryName, writeFileOnce, writeNewFile } from './store';
import { NEXT_CERTIFICATE_FILE, NEXT_PRIVATE_KEY_FILE, PREVIOUS_CERTIFICATE_FILE, PREVIOUS_PRIVATE_KEY_FILE, certificateNotAfter } from './stored-files';

/**
 * A certificate renewal in a committed device folder (chain devices), crash-safe in the store's way:
 *
 *   1. begin:  `renewal.json` (pid, time), then `certificate.next.pem` (+ `private-key.next.pem` for a
 *              new key), each written complete or not at all (temp + fsync + link);
 *   2. the login with the next certificate and the chain (GridLinks replaces the credential);
 *   3. finish: the current pair copied to `*.previous.pem`, credentials.json rewritten (temp + rename),
 *              the next key renamed over `private-key.pem`, then the next certificate over
 *              `certificate.pem` (the commit point: once `certificate.next.pem` is gone the renewal is done);
 *   4. once the new certificate has logged in again, the previous files are removed.
 *
 * A kill leaves either the old pair alone, or the old pair and a complete next certificate: one of
 * the two logs in, and settling (logging in with the next one) finishes or abandons the renewal. A
 * next key left without its certificate is removed when the next renewal begins.
 */
export const RENEWAL_RECORD_FILE = 'renewal.json';

export interface RenewalRecord {
  version: 1;
  pid: number;
  createdAt: string;
  newKey: boolean;
}

export interface UnfinishedRenewal {
  deviceDir: string;
  record?: RenewalRecord;
  certificate: string;
  /** The key that belongs to the next certificate (the next key file, else the current one). */
  privateKey?: string;
}

const read = (file: string) => fs.readFile(file, 'utf8').catch(() => undefined);

/** Step 1: the record, then the next certificate (and key), each complete or absent. */
export async function beginRenewal(deviceDir: string, next: { certificate: string; privateKey?: string }): Promise<void> {
  const record: RenewalRecord = { version: 1, pid: process.pid, createdAt: new Date().toISOString(), newKey: next.privateKey !== undefined };
  await fs.rm(path.join(deviceDir, RENEWAL_RECORD_FILE), { force: true });
  // A run cut after its next key and before its next certificate: nothing of it reached GridLinks (the login uses the certificate).
  if ((await read(path.join(deviceDir, NEXT_CERTIFICATE_FILE))) === undefined) await fs.rm(path.join(deviceDir, NEXT_PRIVATE_KEY_FILE), { force: true });
  await writeFileOnce(path.join(deviceDir, RENEWAL_RECORD_FILE), `${JSON.stringify(record)}\n`);
  if (next.privateKey !== undefined) await writeFileOnce(path.join(deviceDir, NEXT_PRIVATE_KEY_FILE), next.privateKey);
  await writeFileOnce(path.join(deviceDir, NEXT_CERTIFICATE_FILE), next.certificate);
}

/** A renewal cut before its commit point, when `certificate.next.pem` is there. */
export async function readUnfinishedRenewal(deviceDir: string): Promise<UnfinishedRenewal | undefined> {
  const certificate = await read(path.join(deviceDir, NEXT_CERTIFICATE_FILE));
  if (certificate === undefined) return undefined;
  const recordText = await read(path.join(deviceDir, RENEWAL_RECORD_FILE));
  let record: RenewalRecord | undefined;
  try {
    record = recordText === undefined ? undefined : (JSON.parse(recordText) as RenewalRecord);
  } catch {
    record = undefined;
  }
  const candidates = [await read(path.join(deviceDir, NEXT_PRIVATE_KEY_FILE)), await read(path.join(deviceDir, PRIVATE_KEY_FILE))];
  const privateKey = candidates.find((key) => key !== undefined && keyBelongs(certificate, key));
  return { deviceDir, certificate, ...(record ? { record } : {}), ...(privateKey !== undefined ? { privateKey } : {}) };
}

/** Step 3 (idempotent, so that settling a cut renewal runs it again from the start). */
export async function finishRenewal(deviceDir: string, next: { certificate: string; privateKey?: string }): Promise<void> {
  const currentCertificate = await read(path.join(deviceDir, CERTIFICATE_FILE));
  const currentKey = await read(path.join(deviceDir, PRIVATE_KEY_FILE));
  // A consistent current pair is the old one; once the next key has replaced the key file it was copied already.
  if (currentCertificate !== undefined && currentKey !== undefined && keyBelongs(currentCertificate, currentKey) && currentCertificate !== next.certificate) {
    await replaceFile(path.join(deviceDir, PREVIOUS_CERTIFICATE_FILE), currentCertificate);
    if (next.privateKey !== undefined && next.privateKey !== currentKey) await replaceFile(path.join(deviceDir, PREVIOUS_PRIVATE_KEY_FILE), currentKey);
  }
  const record = JSON.parse((await read(path.join(deviceDir, CREDENTIALS_FILE))) ?? '{}') as Record<string, unknown> & {
    credentials?: Record<string, unknown>;
  };
  record.credentials = { ...record.credentials, credentialsId: certificateCredentialsId(next.certificate) };
  record.notAfter = certificateNotAfter(next.certificate);
  record.renewedAt = new Date().toISOString();
  await replaceFile(path.join(deviceDir, CREDENTIALS_FILE), `${JSON.stringify(record, null, 2)}\n`);
  if (next.privateKey !== undefined && (await read(path.join(deviceDir, NEXT_PRIVATE_KEY_FILE))) !== undefined) {
    await fs.rename(path.join(deviceDir, NEXT_PRIVATE_KEY_FILE), path.join(deviceDir, PRIVATE_KEY_FILE));
  }
  await fs.rename(path.join(deviceDir, NEXT_CERTIFICATE_FILE), path.join(deviceDir, CERTIFICATE_FILE));
  await fsyncDirectory(deviceDir);
  await fs.rm(path.join(deviceDir, RENEWAL_RECORD_FILE), { force: true });
}

/** The next certificate was refused: remove it (the current pair is still the device's). */
export async function abandonRenewal(deviceDir: string): Promise<void> {
  for (const file of [NEXT_CERTIFICATE_FILE, NEXT_PRIVATE_KEY_FILE, RENEWAL_RECORD_FILE]) await fs.rm(path.join(deviceDir, file), { force: true });
  await fsyncDirectory(deviceDir);
}

/** Step 4: the new certificate logged in again, the previous one is of no more use. */
export async function dropPrevious(deviceDir: string): Promise<void> {
  for (const file of [PREVIOUS_CERTIFICATE_FILE, PREVIOUS_PRIVATE_KEY_FILE]) await fs.rm(path.join(deviceDir, file), { force: true });
}

/** Writes `file` complete (temp + fsync + rename over it, then the folder's fsync). */
async function replaceFile(file: string, content: string): Promise<void> {
  const temporary = temporaryName(path.dirname(file), path.basename(file));
  try {
    await writeNewFile(temporary, content);
    await fs.rename(temporary, file);
  } finally {
    await fs.rm(temporary, { force: true });
  }
  await fsyncDirectory(path.dirname(file));
}

function keyBelongs(certificate: string, privateKey: string): boolean {
  try {
    return new X509Certificate(certificate).checkPrivateKey(createPrivateKey(privateKey));
  } catch {
    return false;
  }
}
