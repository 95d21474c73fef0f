import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import * as path from 'node:path';
import { chainLogin } from './chain-login';
import { commonNameTextOfCertificate } from './cn-value';
import { validateChainOptions, type ResolvedChainOptions } from './chain-options';
import { ProvisionError } from '../errors';
import { invalid } from '../fields';
import { keyPairFor } from '../keys';
import { aborted, deviceConnectOptions } from '../net';
import { verifyCredentials } from '../mqtt';
import { certificateCredentialsId, certificateIssuer, issueLeafCertificate } from '../x509';
import { markInFlight } from '../in-flight';
import type { KeyAlgorithm, ServerOptions } from '../types';
import {
  abandonRenewal,
  beginRenewal,
  certificateNotAfter,
  dropPrevious,
  entryNameForDevice,
  finishRenewal,
  inspectStore,
  readStoredEntry,
  removeRenewalTemporaries,
  settleRenewal,
  type StoredEntry,
} from '../store';

export interface RenewOptions {
  server: ServerOptions;
  storeDir: string;
  deviceName: string;
  /** The profile's CA certificate (which signed the device's certificate) and its key. */
  signerCertificate: string;
  signerKey: string;
  chain?: string;
  /** Validity of the new certificate in days (default 3650, capped at the signer's end). */
  validityDays?: number;
  /** Algorithm of a new key (with newKey; default rsa2048). */
  keyAlgorithm?: KeyAlgorithm;
  /** Issue the new certificate for a new key (default: the device keeps its key). */
  newKey?: boolean;
}

export interface RenewResult {
  deviceName: string;
  deviceDir: string;
  credentialsId: string;
  notAfter: string;
  previousNotAfter?: string;
  newKey: boolean;
  /** The new certificate logged in once more after the swap (the previous one was then removed). */
  verified: boolean;
  renewed: true;
  warnings: string[];
}

/** Errors after which the next certificate stays on disk: GridLinks may hold it already. */
const MAY_HAVE_ROTATED = new Set(['OUTCOME_UNKNOWN', 'ABORTED']);

export function notRenewable(deviceName: string, why: string): ProvisionError {
  return new ProvisionError(
    'NOT_RENEWABLE',
    `Device "${deviceName}" cannot be renewed from here: ${why}. GridLinks lets a device client replace only a certificate made by chain provisioning. Have an administrator update its credentials in GridLinks, or provision it again under the chain profile. Nothing was sent.`,
    { deviceName, requestSent: false },
  );
}

/**
 * Renews a chain device's certificate: issues a new leaf for the same key (or a new one), saves it next
 * to the current one, logs in with it and the chain (GridLinks replaces the credential and closes the
 * device's sessions), swaps the stored files (the old kept as certificate.previous.pem), then logs in
 * once more and removes the previous files. A renewal an earlier run left unfinished is settled first.
 */
export async function renewCertificate(options: RenewOptions, signal?: AbortSignal): Promise<RenewResult> {
  const resolved = validateChainOptions({
    server: options.server,
    credentialsType: 'X509_CERTIFICATE_CHAIN',
    signerCertificate: options.signerCertificate,
    signerKey: options.signerKey,
    chain: options.chain,
    deviceName: options.deviceName,
    validityDays: options.validityDays,
    keyAlgorithm: options.keyAlgorithm,
  });
  if (typeof options.storeDir !== 'string' || options.storeDir === '')
    throw invalid('storeDir', 'renewCertificate needs storeDir, where the device is stored.');
  const deviceName = resolved.deviceName;
  if (deviceName === undefined) throw invalid('deviceName', 'renewCertificate needs the name of a stored device.');
  const { storeDir } = await inspectStore(options.storeDir);
  const deviceDir = path.join(storeDir, entryNameForDevice(deviceName));
  const warnings: string[] = [];
  const stored = await renewableEntry(deviceDir, deviceName);
  warnings.push(...(await removeRenewalTemporaries(deviceDir)));
  const settled = await settleRenewal(deviceDir, resolved.server, signal);
  if (settled.outcome === 'in-progress' || settled.outcome === 'unknown') {
    throw new ProvisionError('OUTCOME_UNKNOWN', `${settled.message} Nothing new was sent; renew again later.`, { deviceName, requestSent: false });
  }
  if (settled.message !== undefined) warnings.push(settled.message);
  // A renewal of this device in this process is left alone by a settle (see settleRenewal).
  const release = markInFlight(deviceDir);
  try {
    const current = settled.outcome === 'finished' ? await renewableEntry(deviceDir, deviceName) : stored;
    return await renew(resolved, current, options.newKey === true, warnings, signal);
  } finally {
    release();
  }
}

/** The stored device, or NOT_RENEWABLE / STORE saying why it cannot be renewed. */
async function renewableEntry(deviceDir: string, deviceName: string): Promise<StoredEntry> {
  const stored = await readStoredEntry(deviceDir, deviceName);
  if (stored === undefined)
    throw new ProvisionError('STORE', `The store holds no device "${deviceName}" (${deviceDir}). Nothing was sent.`, { deviceName, reason: 'ENOENT' });
  if (stored.credentialsType !== 'X509_CERTIFICATE') throw notRenewable(deviceName, `its credentials are ${stored.credentialsType}, not an X.509 certificate`);
  if (stored.credentials.chain === undefined)
    throw notRenewable(deviceName, 'its certificate was not made by chain provisioning (no chain.pem: a key/secret X.509 device)');
  if (stored.credentials.privateKey === undefined)
    throw notRenewable(deviceName, 'the store holds no private key for it (a CSR device keeps its own key: issue a new certificate for its CSR)');
  return stored;
}

async function renew(resolved: ResolvedChainOptions, stored: StoredEntry, newKey: boolean, warnings: string[], signal?: AbortSignal): Promise<RenewResult> {
  const deviceName = resolved.deviceName!;
  const oldCertificate = new X509Certificate(stored.credentials.certificate as string);
  if (!oldCertificate.checkIssued(resolved.signerCertificate) || !oldCertificate.verify(resolved.signerCertificate.publicKey)) {
    throw invalid(
      'signerCertificate',
      `The certificate of device "${deviceName}" was not issued by this signer (${resolved.signerCertificate.subject}): give the chain profile's CA that signed it.`,
    );
  }
  const previousNotAfter = stored.notAfter ?? certificateNotAfter(stored.credentials.certificate as string);
  // Node's subject text is escaped (CN=meter\,7): the new leaf must carry the CN as written, or GridLinks reads another name.
  const commonName = commonNameTextOfCertificate(oldCertificate.raw) ?? deviceName;
  if (signal?.aborted) throw aborted(false);
  let privateKey = stored.credentials.privateKey as string;
  let publicKey = createPublicKey(createPrivateKey(privateKey));
  if (newKey) {
    const pair = await keyPairFor(resolved.keyAlgorithm, undefined);
    privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    publicKey = pair.publicKey;
  }
  const certificate = await issueLeafCertificate(
    { publicKey, commonName, validityDays: resolved.validityDays },
    certificateIssuer(resolved.signerCertificate, resolved.signerKey),
  );
  const next = { certificate, ...(newKey ? { privateKey } : {}) };
  await beginRenewal(stored.deviceDir, next);
  try {
    await chainLogin(resolved.server, { certificateChain: certificate + resolved.chainPem, privateKey }, signal);
  } catch (error) {
    if (error instanceof ProvisionError && MAY_HAVE_ROTATED.has(error.code) && error.details.requestSent === true) {
      throw new ProvisionError(
        error.code,
        `${error.message} The new certificate is kept at ${stored.deviceDir} next to the current one; renew again to settle it (the one GridLinks holds is kept).`,
        { ...error.details, deviceName },
        { cause: error },
      );
    }
    await abandonRenewal(stored.deviceDir);
    throw error;
  }
  await finishRenewal(stored.deviceDir, next);
  const credentials = { certificate, privateKey, credentialsId: certificateCredentialsId(certificate) };
  const connectOptions = deviceConnectOptions(resolved.server, 'X509_CERTIFICATE', credentials);
  connectOptions.cert = certificate + resolved.chainPem;
  const verification = await verifyCredentials(connectOptions, resolved.server.connectTimeoutMs, signal);
  if (verification.accepted) await dropPrevious(stored.deviceDir);
  else
    warnings.push(
      `The new certificate did not log in again (${verification.message ?? 'refused'}): the previous one is kept at ${stored.deviceDir}/certificate.previous.pem.`,
    );
  return {
    deviceName,
    deviceDir: stored.deviceDir,
    credentialsId: credentials.credentialsId,
    notAfter: certificateNotAfter(certificate)!,
    ...(previousNotAfter !== undefined ? { previousNotAfter } : {}),
    newKey,
    verified: verification.accepted,
    renewed: true,
    warnings,
  };
}
