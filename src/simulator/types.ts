export type ProvisionStrategy = 'ALLOW_CREATE_NEW_DEVICES' | 'CHECK_PRE_PROVISIONED_DEVICES' | 'DISABLED' | 'X509_CERTIFICATE_CHAIN';
export type SimCredentialsType = 'ACCESS_TOKEN' | 'MQTT_BASIC' | 'X509_CERTIFICATE';

export interface ProfileConfig {
  name?: string;
  /** Key/secret strategies; for X509_CERTIFICATE_CHAIN both are derived from caCertificate. */
  provisionDeviceKey?: string;
  provisionDeviceSecret?: string;
  strategy?: ProvisionStrategy;
  /** X509_CERTIFICATE_CHAIN: the profile's CA certificate, PEM text or a file name. */
  caCertificate?: string;
  /** X509_CERTIFICATE_CHAIN: device name = group(1) of this pattern found in the leaf CN (default "(.*)"). */
  certificateRegExPattern?: string;
  /** X509_CERTIFICATE_CHAIN: create devices that do not exist yet (default true). */
  allowCreateNewDevices?: boolean;
}

/** Stored credentials, the way GridLinks stores them (credentialsValue / credentialsId rules of protocol.md §4). */
export interface DeviceCredentialsRecord {
  credentialsType: SimCredentialsType;
  /** ACCESS_TOKEN: the token; X509: trimmed certificate; MQTT_BASIC: {clientId,userName,password} JSON string. */
  credentialsValue: string;
  credentialsId: string;
}

export interface DeviceRecord {
  name: string;
  profile: string;
  gateway: boolean;
  /** undefined = never provisioned (pre-provisioned device), 'provisioned' after a successful provisioning. */
  provisionState?: string;
  credentials: DeviceCredentialsRecord;
  createdTime: number;
  /** A gateway's child: the type the gateway gave it (GridLinks: its device profile, so `profile` holds it too). */
  type?: string;
  /** A gateway's child: the gateway that last named it (where its RPCs and attribute updates go). */
  gatewayName?: string;
}

/** A device listed in a profiles file before any provisioning (CHECK_PRE_PROVISIONED_DEVICES). */
export interface PreProvisionedDevice {
  name: string;
  profile: string;
  credentialsType: SimCredentialsType;
  /** ACCESS_TOKEN token, X509 PEM or trimmed cert; MQTT_BASIC uses the three fields below. */
  credentialsValue?: string;
  clientId?: string;
  userName?: string;
  password?: string;
  provisionState?: string;
  /** A gateway device (may act for child devices on v1/gateway/*). Default false. */
  gateway?: boolean;
}

export interface FaultSwitches {
  /** Decide, but never send PUBACK or answer. */
  noAnswer?: boolean;
  /** Answer with bytes that are not JSON. */
  garbageAnswer?: boolean;
  /** Answer with exactly these bytes (fuzzing). */
  rawAnswer?: Buffer | string;
  /** Never send SUBACK in provisioning sessions (GridLinks/ThingsBoard before 3.9). */
  noSuback?: boolean;
  /** Wait this long before PUBACK + answer. */
  answerDelayMs?: number;
  /** Close the connection as soon as a request arrives (no PUBACK, no answer, no decision). */
  closeAfterRequest?: boolean;
  /** Core error: PUBACK (v5 0x83) then close, no answer (no decision made). */
  closeAfterPuback?: boolean;
  /** Refuse every CONNECT with this CONNACK return code. */
  refuseConnect?: number;
  /** CHECK_PRE_PROVISIONED_DEVICES as before 4.2.1.1: absent or 'provisioned' ⇒ SUCCESS again and again. */
  checkPreRepeatable?: boolean;
  /** Device sessions: publishes are taken but never acknowledged (no PUBACK) nor answered. */
  deviceSilent?: boolean;
}

/** Rate limits as GridLinks writes them: `capacity:seconds` pairs, comma-separated ("100:1,3000:60"); null or "" = no limit. */
export interface RateLimitsConfig {
  /** Every publish. */
  messages?: string | null;
  /** Telemetry publishes. */
  telemetryMessages?: string | null;
  /** Data points (keys) in telemetry. */
  telemetryDataPoints?: string | null;
}

/** What getSessionLimits answers and, for rate limits, what is enforced (protocol-more.md §7). */
export interface SessionLimitsConfig {
  /** Remaining Length limit of a packet; default 65536. */
  maxPayloadSize?: number;
  /** Answered only (every login completes at once here); default 100. */
  maxInflightMessages?: number;
  /** A device's limits; for a gateway, the limits of each child. Default: none. */
  rateLimits?: RateLimitsConfig;
  /** A gateway's own limits over its v1/gateway/* publishes. Default: none. */
  gatewayRateLimits?: RateLimitsConfig;
  /** CONNECTs of one device ("capacity:seconds" pairs): more get CONNACK 0x9F (3.1.1: 3). Default: none. */
  connections?: string | null;
}

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Plain MQTT port; 0 = any free port; null = off. Default 0. */
  mqttPort?: number | null;
  /** MQTT over TLS port; 0 = any free port; null = off. Default 0. */
  mqttsPort?: number | null;
  /** HTTP provisioning (POST /api/v1/provision) port; 0 = any free port; null = off. Default off. */
  httpPort?: number | null;
  /** The same over HTTPS (the TLS listener's certificate); 0 = any free port; null = off. Default off. */
  httpsPort?: number | null;
  /** Server certificate and key (PEM). Absent: a throw-away CA + server cert for localhost/127.0.0.1 in the data folder. */
  cert?: string;
  key?: string;
  /** Registry file and generated CA live here; absent = registry in memory, CA in a temp folder. */
  dataDir?: string;
  profiles?: ProfileConfig[];
  devices?: PreProvisionedDevice[];
  /** Provisioning session is closed this long after the answer (default 60000). */
  sessionCloseAfterAnswerMs?: number;
  faults?: FaultSwitches;
  /** Shared attributes the devices start with, by device name (answered to attribute requests). */
  sharedAttributes?: Record<string, Record<string, unknown>>;
  /** Human-readable log lines (never secrets). */
  log?: (line: string) => void;
  /** Session limits answered to getSessionLimits and enforced (rate limits off by default). */
  sessionLimits?: SessionLimitsConfig;
  /** Open sessions per device; a newer one evicts the oldest (MQTT 5: DISCONNECT 0x8E). 0 = any number. Default 1. */
  maxSessionsPerDevice?: number;
  /**
   * Close a session silent for 1.5 × its keepalive, as the MQTT standard asks of a server (default false):
   * GridLinks' MQTT transport has no idle check of its own; its sessions expire after 600 s of silence.
   */
  keepaliveClose?: boolean;
}

export interface TelemetryRecord {
  device: string;
  /** For a gateway's child: the device topic its part means (its part of v1/gateway/telemetry or attributes). */
  topic: 'v1/devices/me/telemetry' | 'v1/devices/me/attributes';
  /** A child's part: its array of entries (telemetry) or its object (attributes). */
  payload: unknown;
  ts: number;
  /** Set when a gateway sent it for its child `device`. */
  gateway?: string;
}

/** The server side of a gateway's children (v1/gateway/*). */
export interface GatewayControls {
  /** Sends `{"device","data":{"id","method","params"}}` on v1/gateway/rpc to the child's gateway session; resolves with the reply's `data`. */
  sendChildRpc(childName: string, request: { method: string; params?: unknown }, timeoutMs?: number): Promise<unknown>;
  /** Stores shared attributes of a child and pushes `{"device","data"[,"deleted"]}` on v1/gateway/attributes; returns how many sessions got it. */
  setChildSharedAttributes(childName: string, values: Record<string, unknown>, deleted?: string[]): number;
  /** Sends `{"device","reason"}` on v1/gateway/disconnect and forgets the child in that session; returns how many sessions. */
  disconnectChild(childName: string, reason?: number): number;
  /** Children online through a gateway session (named by connect or by a message), by gateway name. */
  connectedChildren(): Record<string, string[]>;
}

export interface SimulatorHandle extends GatewayControls {
  host: string;
  mqttPort: number | null;
  mqttsPort: number | null;
  httpPort: number | null;
  httpsPort: number | null;
  /** PEM of the CA that signed the server certificate (generated or given); null when cert/key were given without a CA. */
  caPem: string | null;
  caFile: string | null;
  devices(): DeviceRecord[];
  telemetry(deviceName?: string): TelemetryRecord[];
  addProfile(profile: ProfileConfig): void;
  setFaults(faults: FaultSwitches): void;
  stop(): Promise<void>;
  /** Device sessions, server side (device-control.ts): RPCs, shared attributes, what devices reported. */
  sendRpc(deviceName: string, request: { method: string; params?: unknown }, timeoutMs?: number): Promise<unknown>;
  /** `deleted`: shared keys removed, sent as `"deleted": [...]` in the update. */
  setSharedAttributes(deviceName: string, values: Record<string, unknown>, deleted?: string[]): number;
  clientAttributes(deviceName: string): Record<string, unknown>;
  connectedDevices(): string[];
  isSubscribedToRpc(deviceName: string): boolean;
  /** Closes the device's sessions from the server side; returns how many. */
  disconnectDevice(deviceName: string): number;
  /** Takes the server down: listeners closed, every connection dropped; registry and telemetry kept. */
  pause(): Promise<void>;
  /** Listens again on the same ports. */
  resume(): Promise<void>;
  /** pause() then resume(). */
  restart(): Promise<void>;
}
