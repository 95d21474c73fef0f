import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { certificateCredentialsId } from '../x509';
import { deviceConnectOptions, deviceEndpoint, loginCredentialsProblem, validateServer } from '../net';
import { isInFlight } from '../in-flight';
import { openStore } from './leftovers';
import { NOT_CREATED_DIR, listPendingNames, moveAside, readPendingEntry, type PendingEntry } from './pending-entries';
import { CREDENTIALS_FILE, commitEntry, discardPending } from './store';
import { PENDING_DIR } from './store-safety';
import { storedFiles } from './stored-files';
import { serverOf, settleDeadline, writtenInTheFuture, type PendingRecord } from './pending-record';
import { readStoredResult } from './stored-result';
import type { ResolvedServer, CredentialsType, DeviceCredentials, ProvisionResult, ServerOptions, VerificationResult } from '../types';
import { verifyCredentials } from '../mqtt';
import { ProvisionError } from '../errors';
import { processIsAlive, processStartedAt } from './process-alive';
import { resumeRenewals } from './resume-renewals';

/**
 * provisioned    the server accepts the pending credentials: committed to the store (or found committed)
 * not-created    the server refused them as unknown, or the request was never sent: moved to `.pending/.not-created/`
 * unknown        anything else (no answer, TLS or network problem, another server): left pending
 * cannot-resume  nothing kept can prove it (server-generated credentials, no certificate kept): left pending
 * in-progress    a run that is still going is sending this request: left alone
 * settled-elsewhere  another process (a second resume, a retry) settled it while this run went through the list
 *
 * A renewal a killed run left in a committed folder (`certificate.next.pem`) is an entry too, settled as
 * the next renewal would settle it: renewal-finished (GridLinks holds the new certificate: swapped in),
 * renewal-abandoned (refused: removed, the current one stays), or in-progress / unknown (both kept).
 */
export type ResumeOutcome =
  'provisioned' | 'not-created' | 'unknown' | 'cannot-resume' | 'in-progress' | 'settled-elsewhere' | 'renewal-finished' | 'renewal-abandoned';

export interface ResumeReport {
  /** The entry's name in the store (the device name made filesystem-safe). */
  entry: string;
  deviceName: string | null;
  credentialsType?: string;
  outcome: ResumeOutcome;
  message: string;
  /** provisioned: the result, as a normal provisioning returns it (with `stored`). */
  result?: ProvisionResult;
  /** not-created: where the pending files went. */
  movedTo?: string[];
  /** The CONNACK code of a refused login. */
  returnCode?: number;
}

export interface ResumeOptions {
  server: ServerOptions;
  storeDir: string;
  signal?: AbortSignal;
}

export interface ResumeSummary {
  storeDir: string;
  entries: ResumeReport[];
  /** What the leftover recovery found (see leftovers.ts). */
  warnings: string[];
}

/** CONNACK codes meaning "no device has these credentials": 3.1.1 identifier rejected / bad user-password / not authorized, and their MQTT 5 twins. */
const UNKNOWN_CREDENTIALS = new Set([2, 4, 5, 0x85, 0x86, 0x87]);
const PARALLEL_LOGINS = 4;
/** /proc's start time is in ticks and the record's time in ms: a process started up to this much after its record is still its writer. */
const PID_START_SLACK_MS = 2_000;

/**
 * Settles every entry in `.pending/` of the store, then every renewal a killed run left: logs in to the device API once with its pending
 * credentials (TLS client certificate with the pending key, token, or basic credentials) and commits,
 * moves aside, or leaves it, as ResumeOutcome says. Never deletes a pending file it could not settle.
 */
export async function resumePending(options: ResumeOptions): Promise<ResumeSummary> {
  // Logins go to the device API (MQTT), also when the requests went out over HTTP.
  const server = deviceEndpoint(validateServer(options.server));
  const opened = await openStore(options.storeDir);
  const names = await listPendingNames(opened.storeDir);
  const entries = new Array<ResumeReport>(names.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const index = next++;
      entries[index] = await settleOnItsOwn(opened.storeDir, names[index], server, options.signal);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_LOGINS, names.length) }, worker));
  entries.push(...(await resumeRenewals(opened.storeDir, server, options.signal)));
  return { storeDir: opened.storeDir, entries, warnings: opened.warnings };
}

/** One entry's outcome, whatever happens while settling it: a failure leaves that entry `unknown`, never the others. */
async function settleOnItsOwn(storeDir: string, name: string, server: ResolvedServer, signal?: AbortSignal): Promise<ResumeReport> {
  let pending: PendingEntry | undefined;
  try {
    pending = await readPendingEntry(storeDir, name);
    if (pending.entry.pendingPath === undefined && pending.entry.pendingKeyPath === undefined) return settledElsewhere(pending);
    return await resumeEntry(pending, server, signal);
  } catch (error) {
    if (pending !== undefined && (error as NodeJS.ErrnoException).code === 'ENOENT') {
      const now = await readPendingEntry(storeDir, name).catch(() => undefined);
      if (now !== undefined && now.entry.pendingPath === undefined && now.entry.pendingKeyPath === undefined) return settledElsewhere(pending);
    }
    const reason =
      error instanceof ProvisionError ? error.message : `${(error as Error).name ?? 'Error'}: ${String((error as Error).message ?? error).slice(0, 200)}`;
    return {
      entry: name,
      deviceName: pending?.record?.deviceName ?? null,
      ...(pending?.record ? { credentialsType: pending.record.credentialsType } : {}),
      outcome: 'unknown',
      message: `This entry could not be settled (${reason}); its pending files are kept in ${path.join(storeDir, PENDING_DIR)}.`,
    };
  }
}

/** The entry's pending files went away after this run listed it: another process settled it. */
async function settledElsewhere(pending: PendingEntry): Promise<ResumeReport> {
  const { entry, record } = pending;
  const committed = await fs.stat(path.join(entry.deviceDir, CREDENTIALS_FILE)).then(
    () => true,
    () => false,
  );
  return {
    entry: entry.name,
    deviceName: record?.deviceName ?? null,
    ...(record ? { credentialsType: record.credentialsType } : {}),
    outcome: 'settled-elsewhere',
    message: committed
      ? `Another process settled this entry meanwhile: the device is committed at ${entry.deviceDir}.`
      : `Another process settled this entry meanwhile: its pending files are gone (moved to ${path.join(entry.storeDir, PENDING_DIR, NOT_CREATED_DIR)} if it found the device was never created).`,
  };
}

async function resumeEntry(pending: PendingEntry, server: ResolvedServer, signal?: AbortSignal): Promise<ResumeReport> {
  const { entry, record, privateKey } = pending;
  const base = { entry: entry.name, deviceName: record?.deviceName ?? null, ...(record ? { credentialsType: record.credentialsType } : {}) };
  const report = (outcome: ResumeOutcome, message: string, extra: Partial<ResumeReport> = {}): ResumeReport => ({ ...base, outcome, message, ...extra });
  const where = entry.pendingKeyPath ?? entry.pendingPath;

  if (isInFlight(entry.deviceDir) || (record !== undefined && sentByLiveRun(record))) {
    return report('in-progress', `A run that is still going is sending this request (${where}); resume again once it has finished.`);
  }
  const committed = await alreadyCommitted(pending, server);
  if (committed) return committed.result ? report('provisioned', committed.message, { result: committed.result }) : report('unknown', committed.message);
  if (record === undefined && entry.pendingPath !== undefined) {
    return report(
      'cannot-resume',
      `The pending record ${entry.pendingPath} cannot be read (it is not a complete record: damaged or edited)${entry.pendingKeyPath !== undefined ? `; the private key is at ${entry.pendingKeyPath}` : ''}: check in GridLinks whether the device exists, then move the files away.`,
    );
  }
  if (record === undefined) {
    return report(
      'cannot-resume',
      `Only a private key is kept (${where}), without the certificate that was sent: check in GridLinks whether the device exists, then move the file away.`,
    );
  }
  if (record.privateKeyFile && privateKey === undefined) {
    const movedTo = await moveAside(entry);
    return report('not-created', `The private key was never saved, so the request was never sent; moved to ${movedTo.join(', ')}.`, { movedTo });
  }
  const credentials = credentialsOf(record, privateKey);
  if (credentials === undefined) {
    return report(
      'cannot-resume',
      record.serverGenerated
        ? `GridLinks was asked to generate the credentials, and its answer never came: only GridLinks knows them. Check whether the device exists there, then move ${where} away.`
        : `Nothing kept at ${where} can log in (a certificate without its private key): check in GridLinks whether the device exists, then move it away.`,
    );
  }
  if (record.server.host.toLowerCase() !== server.host.toLowerCase()) {
    return report('unknown', `The request was sent to ${record.server.host}:${record.server.port}, not ${server.host}: resume against that server.`);
  }
  if (credentials.type === 'X509_CERTIFICATE' && !server.tls) {
    return report('unknown', 'A certificate can only log in over TLS: resume against the TLS port (usually 8883).');
  }

  const problem = loginCredentialsProblem(credentials.type, credentials.value);
  if (problem !== undefined) {
    return report(
      'unknown',
      `The pending credentials cannot log in: ${problem.message}. Still pending at ${where}: check in GridLinks whether the device exists.`,
    );
  }
  const connectOptions = deviceConnectOptions(server, credentials.type, credentials.value);
  const login: VerificationResult = await verifyCredentials(connectOptions, server.connectTimeoutMs, signal);
  if (login.accepted) return commitResumed(pending, server, credentials, report);
  if (login.returnCode !== undefined && UNKNOWN_CREDENTIALS.has(login.returnCode)) {
    const movedTo = await moveAside(entry);
    return report(
      'not-created',
      `GridLinks refused a login with the pending credentials (CONNACK ${login.returnCode}): it never created this device. Moved to ${movedTo.join(', ')}; provisioning it again is safe.`,
      { movedTo, returnCode: login.returnCode },
    );
  }
  return report('unknown', `Could not tell whether GridLinks created the device (${login.message ?? 'no answer'}); still pending at ${where}.`, {
    ...(login.returnCode !== undefined ? { returnCode: login.returnCode } : {}),
  });
}

/**
 * Whether the run that wrote the record may still be sending it: before its (bounded) settle time, its
 * pid runs, and (where the start time can be read) that process started before the record was written.
 */
function sentByLiveRun(record: PendingRecord): boolean {
  if (record.pid === process.pid || writtenInTheFuture(record.createdAt) || !(Date.now() < settleDeadline(record)) || !processIsAlive(record.pid)) return false;
  const started = processStartedAt(record.pid);
  return started === undefined || started <= Date.parse(record.createdAt) + PID_START_SLACK_MS;
}

interface LoginCredentials {
  type: CredentialsType;
  value: DeviceCredentials;
}

/** The credentials to log in with: certificate + pending key, or what the client chose. */
function credentialsOf(record: PendingEntry['record'] & object, privateKey?: string): LoginCredentials | undefined {
  if (record.certificate !== undefined) {
    if (privateKey === undefined) return undefined;
    const certificate = { certificate: record.certificate, privateKey, credentialsId: certificateCredentialsId(record.certificate) };
    return { type: 'X509_CERTIFICATE', value: record.chain === undefined ? certificate : { ...certificate, chain: record.chain } };
  }
  const chosen = record.credentials;
  if (chosen?.accessToken !== undefined) return { type: 'ACCESS_TOKEN', value: { accessToken: chosen.accessToken } };
  if (chosen !== undefined && (chosen.clientId ?? chosen.userName ?? chosen.password) !== undefined) return { type: 'MQTT_BASIC', value: { ...chosen } };
  return undefined;
}

/**
 * Whether the committed credentials are the pending ones. Pending files next to a committed folder come
 * from the same attempt (a new one is refused while either exists) unless the folder was made by
 * someone else meanwhile, so whatever is kept is compared; server-generated credentials cannot be.
 */
function samePendingCredentials(pending: PendingEntry, stored: ProvisionResult): boolean {
  const storedCredentials = stored.credentials as { privateKey?: string; certificate?: string };
  if (pending.privateKey !== undefined) return storedCredentials.privateKey === pending.privateKey;
  const record = pending.record;
  if (record === undefined) return false;
  if (record.certificate !== undefined) {
    return (
      storedCredentials.certificate !== undefined && certificateCredentialsId(storedCredentials.certificate) === certificateCredentialsId(record.certificate)
    );
  }
  if (record.serverGenerated) return true;
  return JSON.stringify(stored.credentials) === JSON.stringify(credentialsOf(record)?.value ?? null);
}

/** A run killed between the commit's rename and removing the pending files: the device folder is there. */
async function alreadyCommitted(pending: PendingEntry, server: ResolvedServer): Promise<{ result?: ProvisionResult; message: string } | undefined> {
  let stored: ProvisionResult | undefined;
  try {
    stored = await readStoredResult(pending.entry.deviceDir, server, pending.record?.deviceName ?? null);
  } catch (error) {
    return { message: error instanceof ProvisionError ? error.message : String(error) };
  }
  if (stored === undefined) return undefined;
  const same = samePendingCredentials(pending, stored);
  if (!same) {
    return {
      message: `The store already holds other credentials for this device at ${pending.entry.deviceDir}; the pending ones stay at ${pending.entry.pendingPath ?? pending.entry.pendingKeyPath}: check which the device uses in GridLinks.`,
    };
  }
  await discardPending(pending.entry);
  return { result: stored, message: `Already committed at ${pending.entry.deviceDir}; removed the pending copy.` };
}

async function commitResumed(
  pending: PendingEntry,
  server: ResolvedServer,
  credentials: LoginCredentials,
  report: (outcome: ResumeOutcome, message: string, extra?: Partial<ResumeReport>) => ResumeReport,
): Promise<ResumeReport> {
  const record = pending.record!;
  const result: ProvisionResult = {
    deviceName: record.deviceName,
    credentialsType: (record.credentialsType as CredentialsType) ?? credentials.type,
    credentials: credentials.value,
    server: serverOf(server),
    connectOptions: deviceConnectOptions(server, credentials.type, credentials.value),
    warnings: [],
    ...(record.gateway ? { gateway: true as const } : {}),
  };
  try {
    const files = await commitEntry(pending.entry, storedFiles(result));
    result.stored = { dir: pending.entry.deviceDir, files };
  } catch (error) {
    // A second resume (or a retry) that committed the same credentials first is not a failure to save.
    const committedMeanwhile = await readStoredResult(pending.entry.deviceDir, server, record.deviceName).catch(() => undefined);
    if (committedMeanwhile !== undefined && samePendingCredentials(pending, committedMeanwhile)) {
      return report('settled-elsewhere', `Another process committed this device meanwhile, with these credentials, at ${pending.entry.deviceDir}.`);
    }
    result.warnings.push(error instanceof ProvisionError ? error.message : String(error));
    return report('provisioned', `GridLinks accepts the pending credentials, but they could not be committed: ${result.warnings[0]}`, { result });
  }
  return report('provisioned', `GridLinks accepts the pending credentials: the device exists; committed to ${pending.entry.deviceDir}.`, { result });
}
