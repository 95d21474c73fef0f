import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { ProvisionError } from './errors';
import { createSelfSignedCertificate, certificateCredentialsId } from './x509';
import { checkKeyPool, keyPairFor } from './keys';
import type { KeyPool, ResolvedOptions, ProvisionOptions, ProvisionResult, X509Credentials } from './types';
import { deviceConnectOptions, aborted, deviceEndpoint } from './net';
import { exchangeFor } from './transport';
import { buildProvisionRequest, acceptAnswer } from './mqtt';
import {
  commitEntry,
  discardPending,
  entryNameForDevice,
  entryNameForUnnamed,
  prepareEntry,
  type StoreEntry,
  pendingRecordFor,
  openStoreFor,
  storedFiles,
} from './store';
import { markInFlight } from './in-flight';
import { nextStartTurn } from './start-turns';
import { validateOptions } from './validate';
import { phaseLaps, type PhaseLaps } from './timing';
import { isChainProvisionOptions, type ChainProvisionOptions, provisionByChain } from './chain';

export * from './errors';
export * from './types';
export { validateOptions, DEFAULTS, CREDENTIALS_TYPES } from './validate';
export { validateServer, deviceConnectOptions } from './net';
export { KEY_ALGORITHMS, createKeyPool, useSharedKeyPool, sharedKeyPool, MAX_KEY_POOL_SIZE, type SharedKeyPool } from './keys';
export { generateDeviceCertificate, trimCertificate, certificateCredentialsId, createFleetCa, type FleetCa, type FleetCaRequest } from './x509';
export { buildProvisionRequest, REQUEST_TOPIC, RESPONSE_TOPIC } from './mqtt';
export { isChainProvisionOptions, type ChainProvisionOptions, renewCertificate, type RenewOptions, type RenewResult } from './chain';
export { chainDevicesExpiring, expiringWithin, type StoredDeviceSummary } from './store';
export { entryNameForDevice, resumePending, inspectStore, type ResumeOptions, type ResumeReport, type ResumeOutcome, type StoreInspection } from './store';

const INSECURE_WARNING =
  'The server certificate was not verified (insecure): anyone between this machine and the server could read the provision secret and the new credentials.';

/** Error codes after which the pending key is kept: the server may have accepted it. */
/**
 * Failures after which the device may exist: the key stays pending for a resume. CHAIN_REFUSED too: GridLinks
 * creates or rotates a chain device during the TLS handshake and may refuse the CONNECT afterwards (validity dates).
 */
const KEEP_PENDING_KEY = new Set(['OUTCOME_UNKNOWN', 'BAD_RESPONSE', 'ABORTED', 'CHAIN_REFUSED']);

/**
 * Provisions one device: validates the options, makes the key pair and certificate if needed, saves
 * the key as pending (with a store), runs the MQTT exchange, checks the answer, commits the store,
 * optionally verifies the new credentials. Throws ProvisionError with a stable `code`.
 */
export async function provisionDevice(options: ProvisionOptions | ChainProvisionOptions, signal?: AbortSignal): Promise<ProvisionResult> {
  if (isChainProvisionOptions(options)) return provisionByChain(options, signal, { afterFailure, storeResult });
  const resolved = validateOptions(options);
  const keyPool = checkKeyPool(options.keyPool);
  const laps = phaseLaps();
  const warnings: string[] = [];
  if (resolved.server.tls && !resolved.server.rejectUnauthorized) warnings.push(INSECURE_WARNING);
  if (signal?.aborted) throw aborted(false);
  const store = await openStoreFor(resolved);
  warnings.push(...store.warnings);
  if (store.fromStore !== undefined) return { ...store.fromStore, warnings: [...warnings, ...store.fromStore.warnings] };
  await nextStartTurn();
  if (signal?.aborted) throw aborted(false);

  // The MQTT connection is set up while the key pair and certificate are made (an RSA key takes 0.1–1 s);
  // the request goes out once both are ready and, with a store, the private key is on disk.
  const preparing = prepareRequest(resolved, signal, laps, keyPool);
  const payload = preparing.then((prepared) => prepared.payload);
  let answer: Buffer;
  try {
    answer = await exchangeFor(resolved.server)(resolved.server, payload, signal, phaseLaps(), (note) => warnings.push(note));
  } catch (error) {
    const prepared = await preparing.catch(() => undefined);
    try {
      throw await afterFailure(error, prepared?.entry);
    } finally {
      prepared?.release?.();
    }
  }
  const { certificate, privateKey, entry, release } = await preparing;
  try {
    return await finishProvisioning(resolved, answer, { certificate, privateKey, entry }, warnings, signal);
  } finally {
    release?.();
  }
}

async function finishProvisioning(
  resolved: ResolvedOptions,
  answer: Buffer,
  { certificate, privateKey, entry }: Omit<PreparedRequest, 'payload' | 'release'>,
  warnings: string[],
  signal: AbortSignal | undefined,
): Promise<ProvisionResult> {
  let accepted;
  try {
    accepted = acceptAnswer(answer, {
      requested: resolved.credentialsType,
      requestedToken: resolved.token,
      certificate,
      privateKey,
    });
  } catch (error) {
    throw await afterFailure(error, entry);
  }

  const device = deviceEndpoint(resolved.server);
  const result: ProvisionResult = {
    deviceName: resolved.deviceName ?? null,
    credentialsType: accepted.credentialsType,
    credentials: accepted.credentials,
    server: {
      host: resolved.server.host,
      port: device.port,
      tls: resolved.server.tls,
      ...(resolved.server.servername !== undefined ? { servername: resolved.server.servername } : {}),
    },
    connectOptions: deviceConnectOptions(device, accepted.credentialsType, accepted.credentials),
    warnings: [...warnings, ...accepted.warnings],
    ...(resolved.gateway ? { gateway: true as const } : {}),
  };
  if (result.credentialsType === 'X509_CERTIFICATE' && !resolved.server.tls) {
    result.warnings.push('X.509 credentials only work over TLS: connect the device to the MQTT over TLS port (usually 8883), not this plain port.');
  }

  const unverifiable = resolved.verify && result.credentialsType === 'X509_CERTIFICATE' && result.connectOptions.key === undefined;
  // The login with the new credentials overlaps saving them; neither throws.
  const verifying = resolved.verify && !unverifiable ? startVerification(result.connectOptions, resolved.server.connectTimeoutMs, signal) : undefined;
  if (resolved.storeDir !== undefined) await storeResult(resolved, result, entry);
  if (unverifiable) result.warnings.push('Not verified: a certificate given without its private key cannot be used to connect from here.');
  if (verifying !== undefined) result.verification = await verifying;
  return result;
}

interface PreparedRequest {
  payload: string;
  certificate?: string;
  privateKey?: string;
  entry?: StoreEntry;
  /** Ends the entry's in-flight mark (a resume in this process leaves in-flight entries alone). */
  release?: () => void;
}

/** Certificate (X.509), pending key in the store, then the request JSON. */
async function prepareRequest(resolved: ResolvedOptions, signal: AbortSignal | undefined, laps?: PhaseLaps, keyPool?: KeyPool): Promise<PreparedRequest> {
  const { certificate, privateKey } = await deviceCertificate(resolved, laps, keyPool);
  if (signal?.aborted) throw aborted(false);
  let entry: StoreEntry | undefined;
  let release: (() => void) | undefined;
  if (resolved.storeDir !== undefined) {
    const name = storeEntryName(resolved, certificate);
    if (name !== undefined) {
      entry = await prepareEntry(resolved.storeDir, name, privateKey, pendingRecordFor(resolved, certificate, privateKey));
      release = markInFlight(entry.deviceDir);
    }
  }
  return { payload: JSON.stringify(buildProvisionRequest(resolved, certificate)), certificate, privateKey, entry, release };
}

async function deviceCertificate(resolved: ResolvedOptions, laps?: PhaseLaps, keyPool?: KeyPool): Promise<{ certificate?: string; privateKey?: string }> {
  if (resolved.credentialsType !== 'X509_CERTIFICATE') return {};
  if (resolved.certificate !== undefined) return { certificate: resolved.certificate, privateKey: resolved.privateKey };
  const commonName = resolved.commonName ?? resolved.deviceName?.slice(0, 64) ?? `device-${randomBytes(8).toString('hex')}`;
  const keyPair = resolved.privateKey !== undefined ? givenKeyPair(resolved.privateKey) : await keyPairFor(resolved.keyAlgorithm, keyPool);
  laps?.lap('keygen');
  const certificate = await createSelfSignedCertificate(keyPair.publicKey, keyPair.privateKey, { commonName, validityDays: resolved.validityDays });
  laps?.lap('certificate');
  return { certificate, privateKey: keyPair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

function givenKeyPair(pem: string): { publicKey: KeyObject; privateKey: KeyObject } {
  const privateKey = createPrivateKey(pem);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** Known before sending for a named device or an X.509 one; otherwise decided from the answer. */
function storeEntryName(resolved: ResolvedOptions, certificate?: string): string | undefined {
  if (resolved.deviceName !== undefined) return entryNameForDevice(resolved.deviceName);
  if (certificate !== undefined) return entryNameForUnnamed('x509', certificateCredentialsId(certificate));
  return undefined;
}

async function afterFailure(error: unknown, entry: StoreEntry | undefined): Promise<unknown> {
  if (!(error instanceof ProvisionError) || (entry?.pendingKeyPath === undefined && entry?.pendingPath === undefined)) return error;
  const sent = error.details.requestSent === true;
  if (sent && KEEP_PENDING_KEY.has(error.code)) {
    const kept = entry.pendingKeyPath !== undefined ? `The private key is kept at ${entry.pendingKeyPath}` : `What was sent is kept at ${entry.pendingPath}`;
    return new ProvisionError(
      error.code,
      `${error.message} ${kept}; settle it later with a resume (msg.action = "resume", or gridlinks-provision --resume --out ${entry.storeDir}), which commits it if GridLinks created the device.`,
      {
        ...error.details,
        ...(entry.pendingKeyPath !== undefined ? { pendingKeyPath: entry.pendingKeyPath } : {}),
        ...(entry.pendingPath !== undefined ? { pendingPath: entry.pendingPath } : {}),
      },
      { cause: error.cause },
    );
  }
  await discardPending(entry);
  return error;
}

function startVerification(...args: Parameters<typeof import('./mqtt').verifyCredentials>): ReturnType<typeof import('./mqtt').verifyCredentials> {
  const { verifyCredentials } = require('./mqtt') as typeof import('./mqtt'); // MQTT, loaded only to verify
  return verifyCredentials(...args);
}

async function storeResult(resolved: Pick<ResolvedOptions, 'storeDir'>, result: ProvisionResult, entry: StoreEntry | undefined): Promise<void> {
  try {
    if (entry === undefined) {
      // A server-named device without a pending key: its entry name comes from the credentials.
      const kind = result.credentialsType === 'ACCESS_TOKEN' ? 'token' : result.credentialsType === 'MQTT_BASIC' ? 'basic' : 'x509';
      entry = await prepareEntry(resolved.storeDir!, entryNameForUnnamed(kind, credentialsIdOf(result)));
    }
    const files = await commitEntry(entry, storedFiles(result));
    result.stored = { dir: entry.deviceDir, files };
  } catch (error) {
    // The device exists now: losing its credentials over a disk problem would be worse than a warning.
    result.warnings.push(error instanceof ProvisionError ? error.message : `The credentials could not be saved: ${String(error)}`);
  }
}

function credentialsIdOf(result: ProvisionResult): string {
  const credentials = result.credentials as Partial<X509Credentials> & { accessToken?: string; clientId?: string; userName?: string };
  if (credentials.credentialsId) return credentials.credentialsId;
  if (credentials.accessToken) return credentials.accessToken;
  return [credentials.clientId, credentials.userName].filter(Boolean).join('|');
}
