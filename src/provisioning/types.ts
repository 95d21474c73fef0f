import type { KeyObject } from 'node:crypto';
import type { IClientOptions } from 'mqtt';

export type CredentialsType = 'X509_CERTIFICATE' | 'ACCESS_TOKEN' | 'MQTT_BASIC';
export type KeyAlgorithm = 'rsa2048' | 'rsa3072' | 'rsa4096' | 'p256' | 'p384';

/** Where and how to reach the GridLinks MQTT device API. */
export interface ServerOptions {
  host: string;
  port: number;
  /** MQTT over TLS (default true). */
  tls?: boolean;
  /** PEM CA certificate(s) to pin; absent = the system's CAs. */
  ca?: string;
  /** TLS SNI / name to check in the server certificate (default: host). */
  servername?: string;
  /** Default true. false = do not check the server certificate (insecure; reported in result.warnings). */
  rejectUnauthorized?: boolean;
  /** 4 = MQTT 3.1.1 (default), 5 = MQTT 5. */
  protocolVersion?: 4 | 5;
  /** TCP + TLS + CONNACK (default 10000 ms). */
  connectTimeoutMs?: number;
  /** From publishing the request to the answer (default 15000 ms; the server's own limit is 10 s). */
  answerTimeoutMs?: number;
  /** 'mqtt' (default) or 'http': POST /api/v1/provision on GridLinks' HTTP(S) port (HTTPS when `tls`). */
  transport?: 'mqtt' | 'http';
  /** transport 'http': the MQTT port the device (and --verify) connects to (default 8883 with TLS, 1883 without). */
  verifyPort?: number;
  /**
   * Largest answer read, in bytes (default 65536, GridLinks' own limit); over MQTT the whole packet, refused
   * as soon as its header arrives. A bigger one is BAD_RESPONSE.
   */
  maxAnswerBytes?: number;
}

export interface ProvisionOptions {
  server: ServerOptions;
  provisionDeviceKey: string;
  provisionDeviceSecret: string;
  /** Absent: the server generates a 20-character name (and does not tell it back). Given but blank: INVALID_INPUT. */
  deviceName?: string;
  /** Default X509_CERTIFICATE. */
  credentialsType?: CredentialsType;
  /** Create the device as a gateway. */
  gateway?: boolean;

  /** ACCESS_TOKEN: the token to use; absent = the server generates one. */
  token?: string;

  /** MQTT_BASIC fields; absent ones are omitted from the request. */
  clientId?: string;
  username?: string;
  password?: string;

  /** X509_CERTIFICATE: key algorithm for a generated key pair (default rsa2048). */
  keyAlgorithm?: KeyAlgorithm;
  /** X509_CERTIFICATE: key pairs made ahead of time (createKeyPool); used when its algorithm is keyAlgorithm. */
  keyPool?: KeyPool;
  /** X509_CERTIFICATE: bring your own certificate (PEM), sent as is. */
  certificate?: string;
  /**
   * X509_CERTIFICATE: the private key (PEM) that goes with `certificate`; given alone (RSA ≥ 2048 or
   * EC P-256/P-384), a self-signed certificate is made for it instead of a new key pair.
   */
  privateKey?: string;
  /** X509_CERTIFICATE: validity of a generated certificate in days (default 3650). */
  validityDays?: number;
  /** X509_CERTIFICATE: subject CN of a generated certificate (default deviceName). */
  commonName?: string;

  /** After SUCCESS, connect once with the new credentials and report whether the server accepts them. */
  verify?: boolean;
  /** Credential store folder: keys are written before the request and committed atomically on SUCCESS. */
  storeDir?: string;
  /** With a store: a device already committed there is answered from it, nothing sent ('reuse', the default), or refused with STORE ('fail'). */
  ifStored?: 'reuse' | 'fail';
}

export interface AccessTokenCredentials {
  accessToken: string;
}

export interface BasicCredentials {
  clientId?: string;
  userName?: string;
  password?: string;
}

export interface X509Credentials {
  /** PEM certificate. */
  certificate: string;
  /** PEM private key (PKCS#8); absent when a BYO certificate came without its key. */
  privateKey?: string;
  /** SHA3-256 hex of the trimmed certificate: the id the server stores. */
  credentialsId: string;
  /** X.509 chain provisioning: PEM of the signer and the certificates above it, presented after the leaf. */
  chain?: string;
}

export type DeviceCredentials = AccessTokenCredentials | BasicCredentials | X509Credentials;

export interface ProvisionedServer {
  host: string;
  port: number;
  tls: boolean;
  servername?: string;
}

export interface VerificationResult {
  accepted: boolean;
  /** CONNACK return/reason code when the server refused. */
  returnCode?: number;
  message?: string;
}

export interface ProvisionResult {
  /** The name sent; null when the server generated it (GridLinks does not return it). */
  deviceName: string | null;
  credentialsType: CredentialsType;
  credentials: DeviceCredentials;
  server: ProvisionedServer;
  /** mqtt.js options for the device's next connection (TLS material included for X.509). */
  connectOptions: IClientOptions;
  verification?: VerificationResult;
  /** Files committed in the credential store. */
  stored?: { dir: string; files: string[] };
  /** The device was already in the store (ifStored 'reuse'): read from there, nothing was sent. */
  fromStore?: true;
  /** Things the user should know that did not stop provisioning (e.g. server certificate not verified). */
  warnings: string[];
  /** X.509 chain provisioning only: whether GridLinks accepted the login (false for a CSR: not connected). */
  provisioned?: boolean;
  /** X.509 chain provisioning only: a certificate was issued here by the signer. */
  issued?: boolean;
  /** The device was created as a gateway (`gateway: true` in the request; kept in the store record). */
  gateway?: true;
}

/** Server options with every default filled in. */
export interface ResolvedServer {
  host: string;
  port: number;
  tls: boolean;
  ca?: string;
  servername?: string;
  rejectUnauthorized: boolean;
  protocolVersion: 4 | 5;
  connectTimeoutMs: number;
  answerTimeoutMs: number;
  transport: 'mqtt' | 'http';
  /** The MQTT port devices connect to: `port` for MQTT, `verifyPort` (or its default) for HTTP. */
  verifyPort: number;
  maxAnswerBytes: number;
}

/** ProvisionOptions after validation: defaults filled, empty strings dropped, device name trimmed. */
export interface ResolvedOptions {
  server: ResolvedServer;
  provisionDeviceKey: string;
  provisionDeviceSecret: string;
  deviceName?: string;
  credentialsType: CredentialsType;
  gateway: boolean;
  token?: string;
  clientId?: string;
  username?: string;
  password?: string;
  keyAlgorithm: KeyAlgorithm;
  /** BYO certificate re-encoded as canonical PEM (one certificate, 64-column lines). */
  certificate?: string;
  privateKey?: string;
  validityDays: number;
  commonName?: string;
  verify: boolean;
  storeDir?: string;
  ifStored: 'reuse' | 'fail';
}

export interface DeviceKeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

export interface KeyPoolOptions {
  algorithm: KeyAlgorithm;
  /** Keys kept ready: 1 to MAX_KEY_POOL_SIZE. */
  size: number;
}

export interface KeyPoolState {
  algorithm: KeyAlgorithm;
  size: number;
  /** Keys ready to be taken now. */
  ready: number;
  /** A key is being made (or waits for a spare CPU). */
  refilling: boolean;
  closed: boolean;
}

/**
 * Key pairs made ahead of time, in memory only, each handed out once. Refilled in the background at
 * low priority (see KeyPriority in key-pair.ts). Give it to provisionDevice as `keyPool`: a device
 * whose key algorithm matches takes a ready key, or gets a fresh one when the pool is empty.
 */
export interface KeyPool {
  readonly algorithm: KeyAlgorithm;
  readonly size: number;
  /** A ready key pair, removed from the pool for good, or undefined when none is ready. Starts a refill. */
  take(): DeviceKeyPair | undefined;
  state(): KeyPoolState;
  /** Called after every change of state (a key made or taken, closed); returns the unsubscribe function. */
  onChange(listener: (state: KeyPoolState) => void): () => void;
  /** Resolves when the pool holds `size` keys, when it is closed, or when making a key failed. */
  whenFull(): Promise<void>;
  /** Drops every ready key and stops refilling; resolves once no key generation of this pool is running. */
  close(): Promise<void>;
}
