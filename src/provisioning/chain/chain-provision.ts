import type { KeyObject } from 'node:crypto';
import { chainLogin } from './chain-login';
import { deviceNameFromCn, predictDeviceName } from './chain-name';
import { escapedCnWarning, randomNameWarning } from './chain-warnings';
import { rfc4514Value } from './cn-value';
import { validateChainOptions, type ResolvedChainOptions } from './chain-options';
import type { ChainProvisionOptions } from './chain-types';
import { certificateCredentialsId, readCertificateSigningRequest, certificateIssuer, issueLeafCertificate, leafValidityWarning } from '../x509';
import { aborted, deviceConnectOptions } from '../net';
import { invalid, noControlCharacters } from '../fields';
import { checkKeyPool, keyPairFor } from '../keys';
import type { KeyPool, ResolvedOptions, ProvisionResult, X509Credentials } from '../types';
import { entryNameForDevice, entryNameForUnnamed, prepareEntry, type StoreEntry, newPendingRecord, serverOf, openStoreFor } from '../store';
import { markInFlight } from '../in-flight';
import { verifyCredentials } from '../mqtt';

/** The steps the chain path shares with the key/secret path, so that the store and pending-key rules are the same code. */
export interface SharedSteps {
  afterFailure(error: unknown, entry: StoreEntry | undefined): Promise<unknown>;
  storeResult(resolved: { storeDir?: string }, result: ProvisionResult, entry: StoreEntry | undefined): Promise<void>;
}

const INSECURE_WARNING = 'The server certificate was not verified (insecure): anyone between this machine and the server could pose as GridLinks.';

interface DeviceKey {
  publicKey: KeyObject;
  /** PKCS#8 PEM; absent when the device keeps its own key (CSR). */
  privateKeyPem?: string;
  csrCommonName?: string;
}

/**
 * X.509 chain provisioning: checks the signer and chain, predicts the device name, makes (or takes from
 * the CSR) the device key, issues its certificate, saves the key as pending, then logs in with leaf +
 * chain (skipped for a CSR: the device connects itself). Throws ProvisionError.
 */
export async function provisionByChain(options: ChainProvisionOptions, signal: AbortSignal | undefined, steps: SharedSteps): Promise<ProvisionResult> {
  const resolved = validateChainOptions(options);
  const keyPool = checkKeyPool(options.keyPool);
  const warnings = resolved.server.rejectUnauthorized ? [...resolved.warnings] : [INSECURE_WARNING, ...resolved.warnings];
  if (signal?.aborted) throw aborted(false);

  const csr = resolved.csr === undefined ? undefined : await readCertificateSigningRequest(resolved.csr);
  const commonName = resolved.commonName ?? csr?.commonName ?? resolved.deviceName;
  if (commonName === undefined) throw invalid('commonName', 'Give a device name or a commonName: GridLinks names a chain device from its certificate CN.');
  noControlCharacters(commonName, 'commonName');
  if (commonName.length > 64)
    throw invalid('commonName', `The certificate CN "${commonName.slice(0, 20)}…" is longer than 64 characters: give a shorter commonName.`);
  const deviceName = expectedDeviceName(resolved, commonName, warnings);
  if (resolved.storeDir !== undefined && deviceName !== null) {
    // The same store rules as the key/secret path: a stored device is reused (or refused), a waiting attempt refused.
    const store = await openStoreFor({ storeDir: resolved.storeDir, deviceName, ifStored: resolved.ifStored, server: resolved.server } as ResolvedOptions);
    warnings.push(...store.warnings);
    if (store.fromStore !== undefined) return { ...store.fromStore, warnings: [...warnings, ...store.fromStore.warnings] };
  }

  const key: DeviceKey = csr ?? (await newDeviceKey(resolved, keyPool));
  const certificate = await issueLeafCertificate(
    { publicKey: key.publicKey, commonName, validityDays: resolved.validityDays },
    certificateIssuer(resolved.signerCertificate, resolved.signerKey),
  );
  const shortened = leafValidityWarning(resolved.signerCertificate, resolved.validityDays);
  if (shortened !== undefined) warnings.push(shortened);
  const credentials: X509Credentials = {
    certificate,
    ...(key.privateKeyPem !== undefined ? { privateKey: key.privateKeyPem } : {}),
    credentialsId: certificateCredentialsId(certificate),
    chain: resolved.chainPem,
  };
  if (signal?.aborted) throw aborted(false);
  const entry =
    resolved.storeDir === undefined
      ? undefined
      : await prepareEntry(
          resolved.storeDir,
          deviceName === null ? entryNameForUnnamed('x509', credentials.credentialsId) : entryNameForDevice(deviceName),
          key.privateKeyPem,
          pendingRecord(resolved, deviceName, certificate, key),
        );

  if (csr === undefined) {
    const release = entry === undefined ? undefined : markInFlight(entry.deviceDir);
    try {
      await chainLogin(resolved.server, { certificateChain: certificate + resolved.chainPem, privateKey: key.privateKeyPem! }, signal);
    } catch (error) {
      throw await steps.afterFailure(error, entry);
    } finally {
      release?.();
    }
  }

  const connectOptions = deviceConnectOptions(resolved.server, 'X509_CERTIFICATE', credentials);
  connectOptions.cert = certificate + resolved.chainPem;
  const server = resolved.server;
  const result: ProvisionResult = {
    deviceName,
    credentialsType: 'X509_CERTIFICATE',
    credentials,
    server: { host: server.host, port: server.port, tls: server.tls, ...(server.servername !== undefined ? { servername: server.servername } : {}) },
    connectOptions,
    warnings,
    provisioned: csr === undefined,
    issued: true,
  };
  if (resolved.certificateRegExPattern === undefined) {
    warnings.push(
      `GridLinks names the device from the CN "${commonName}" with the profile's CN regular expression; "${deviceName}" assumes it keeps the whole CN ((.*)). Give certificateRegExPattern to check the name.`,
    );
  }
  if (csr !== undefined) {
    warnings.push(
      `Certificate issued for the CSR; nothing was sent to GridLinks. The device ${deviceName === null ? '(under a random name)' : `"${deviceName}"`} is created when it first connects with this certificate and the chain.`,
    );
  }
  if (resolved.storeDir !== undefined) await steps.storeResult(resolved, result, entry);
  if (resolved.verify && csr !== undefined) {
    result.warnings.push('Not verified: the device holds the private key of a CSR certificate, so it cannot be used to connect from here.');
  } else if (resolved.verify) {
    result.verification = await verifyCredentials(result.connectOptions, server.connectTimeoutMs, signal);
  }
  return result;
}

/**
 * For a later resume: the leaf alone logs in once GridLinks holds it as the device's credential, and is
 * refused (not created) otherwise, since without the chain it reaches no profile CA. The chain is kept
 * to be stored with the device. Nothing for a CSR.
 */
function pendingRecord(resolved: ResolvedChainOptions, deviceName: string | null, certificate: string, key: DeviceKey) {
  if (key.privateKeyPem === undefined) return undefined;
  const settleWithinMs = resolved.server.connectTimeoutMs + 30_000;
  return newPendingRecord(
    { deviceName, credentialsType: 'X509_CERTIFICATE', server: serverOf(resolved.server), certificate, chain: resolved.chainPem, privateKeyFile: true },
    settleWithinMs,
  );
}

/**
 * What GridLinks will call the device: the CN as it reads it (an RFC 4514 value: `meter,7` is `meter\,7`), then
 * group(1) of the profile pattern; without a pattern, the given name (else that CN value, as `(.*)` gives it).
 * null: GridLinks picks a random 20-character name (group 1 empty or absent). Warns when the name is not the CN.
 */
function expectedDeviceName(resolved: ResolvedChainOptions, commonName: string, warnings: string[]): string | null {
  const cnValue = rfc4514Value(commonName);
  if (cnValue !== commonName) warnings.push(escapedCnWarning(commonName, cnValue));
  if (resolved.certificateRegExPattern === undefined)
    return resolved.deviceName !== undefined && resolved.deviceName !== commonName ? resolved.deviceName : cnValue;
  const predicted = predictDeviceName(cnValue, resolved.certificateRegExPattern);
  if (predicted.kind === 'random') {
    const warning = randomNameWarning(commonName, resolved.certificateRegExPattern);
    if (!warnings.includes(warning)) warnings.push(warning);
    return null;
  }
  // A name that differs only by GridLinks' escaping is the device meant: the result names it as GridLinks does.
  const unescaped = deviceNameFromCn(commonName, resolved.certificateRegExPattern);
  const meant = unescaped.kind === 'named' && unescaped.name === resolved.deviceName;
  if (resolved.deviceName !== undefined && resolved.deviceName !== predicted.name && !meant) {
    throw invalid(
      'deviceName',
      `With the CN "${commonName}" and the pattern ${resolved.certificateRegExPattern}, GridLinks would name the device "${predicted.name}", not "${resolved.deviceName}": set commonName so that group 1 is the device name.`,
    );
  }
  return predicted.name;
}

async function newDeviceKey(resolved: ResolvedChainOptions, keyPool: KeyPool | undefined): Promise<DeviceKey> {
  const { publicKey, privateKey } = await keyPairFor(resolved.keyAlgorithm, keyPool);
  return { publicKey, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}
