import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { deviceConnectOptions } from '../net';
import type { ResolvedServer } from '../types';
import { verifyCredentials } from '../mqtt';
import { certificateCredentialsId } from '../x509';
import { isInFlight } from '../in-flight';
import { processIsAlive } from './process-alive';
import { writtenInTheFuture } from './pending-record';
import { CHAIN_FILE } from './stored-files';
import { abandonRenewal, finishRenewal, readUnfinishedRenewal, type RenewalRecord } from './renewal-files';

/** CONNACK "not authorized" (3.1.1 code 5, MQTT 5 0x87): GridLinks did not take the next certificate. */
const REFUSED = new Set([5, 0x87]);
/** A renewal record older than this is not a live run's, whatever its pid. */
const LIVE_RENEWAL_MS = 20 * 60_000;

/**
 * none        no renewal was cut here
 * finished    the next certificate logs in (with the chain: GridLinks holds it now): the files are swapped
 * abandoned   GridLinks refused it: the next files are removed, the current certificate stays
 * in-progress a run that still goes is renewing this device
 * unknown     no answer: the files stay as they are (both certificates kept)
 */
export type RenewalSettlement = 'none' | 'finished' | 'abandoned' | 'in-progress' | 'unknown';

/** A run that still goes (this process, or a live one that began within LIVE_RENEWAL_MS) renews the certificate in `deviceDir`. */
function isLive(deviceDir: string, record: RenewalRecord | undefined): boolean {
  return (
    isInFlight(deviceDir) ||
    (record !== undefined &&
      record.pid !== process.pid &&
      !writtenInTheFuture(record.createdAt) &&
      processIsAlive(record.pid) &&
      Date.now() - Date.parse(record.createdAt) < LIVE_RENEWAL_MS)
  );
}

/**
 * A renewal of `deviceDir` is under way: between its next certificate's login (GridLinks may hold it
 * already) and the swap of the files, the current certificate with its chain would rotate it back.
 */
export async function renewalUnderWay(deviceDir: string): Promise<boolean> {
  const unfinished = await readUnfinishedRenewal(deviceDir);
  return unfinished !== undefined && isLive(deviceDir, unfinished.record);
}

/** Settles a renewal a killed run left in `deviceDir`: one login with the next certificate and the chain. */
export async function settleRenewal(
  deviceDir: string,
  server: ResolvedServer,
  signal?: AbortSignal,
): Promise<{ outcome: RenewalSettlement; message?: string }> {
  const unfinished = await readUnfinishedRenewal(deviceDir);
  if (unfinished === undefined) return { outcome: 'none' };
  const record = unfinished.record;
  if (isLive(deviceDir, record)) return { outcome: 'in-progress', message: `A run that is still going is renewing the certificate in ${deviceDir}.` };
  // Over plain MQTT a certificate is never presented: a refusal there would say nothing about it.
  if (!server.tls)
    return { outcome: 'unknown', message: `A certificate can only log in over TLS: settle the cut renewal in ${deviceDir} against the TLS port.` };
  if (unfinished.privateKey === undefined) return { outcome: 'unknown', message: `No private key in ${deviceDir} belongs to the next certificate.` };
  const chain = await fs.readFile(path.join(deviceDir, CHAIN_FILE), 'utf8').catch(() => '');
  const credentials = {
    certificate: unfinished.certificate,
    privateKey: unfinished.privateKey,
    credentialsId: certificateCredentialsId(unfinished.certificate),
  };
  const options = deviceConnectOptions(server, 'X509_CERTIFICATE', credentials);
  options.cert = unfinished.certificate + chain;
  const login = await verifyCredentials(options, server.connectTimeoutMs, signal);
  const next = { certificate: unfinished.certificate, ...(record?.newKey ? { privateKey: unfinished.privateKey } : {}) };
  if (login.accepted) {
    await finishRenewal(deviceDir, next);
    return { outcome: 'finished', message: `A cut renewal in ${deviceDir} is finished: GridLinks accepts the new certificate.` };
  }
  if (login.returnCode !== undefined && REFUSED.has(login.returnCode)) {
    await abandonRenewal(deviceDir);
    return { outcome: 'abandoned', message: `GridLinks refused the certificate of a cut renewal in ${deviceDir}: it is removed, the current one stays.` };
  }
  return {
    outcome: 'unknown',
    message: `Could not tell whether GridLinks took the new certificate in ${deviceDir} (${login.message ?? 'no answer'}): both are kept.`,
  };
}
