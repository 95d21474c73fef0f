/** Stable error codes. Node-RED users branch on these in Catch nodes; the CLI maps them to exit codes. */
export const ERROR_CODES = [
  'INVALID_INPUT',
  'NOT_FOUND',
  'FAILURE',
  'CONNECTION_CLOSED',
  'TIMEOUT',
  'UNREACHABLE',
  'TLS',
  'CONNECT_REFUSED',
  'BAD_RESPONSE',
  'CREDENTIAL_MISMATCH',
  'OUTCOME_UNKNOWN',
  'STORE',
  'ABORTED',
  'CHAIN_REFUSED',
  /** Renewal: the device was not made by chain provisioning (key/secret X.509, token, basic), so no client can replace its credential. */
  'NOT_RENEWABLE',
  /** gridlinks-device only: a device's queue of messages waiting for its connection is full. */
  'QUEUE_FULL',
  /** gridlinks-gateway only: the device is not a gateway (its v1/gateway/* publishes get no PUBACK). */
  'NOT_GATEWAY',
  /** gridlinks-device and gridlinks-gateway: another session of the same device keeps taking the session over, or its credentials were updated. */
  'SESSION_TAKEN_OVER',
  /** gridlinks-device and gridlinks-gateway: the server closed the session over its rate limits. */
  'RATE_LIMITED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ProvisionErrorDetails {
  /** errorMsg as the server sent it (NOT_FOUND / FAILURE). */
  serverMessage?: string;
  /** CONNACK return code (3.1.1) or reason code (5) for CONNECT_REFUSED and CHAIN_REFUSED; the DISCONNECT reason code (5) for SESSION_TAKEN_OVER. */
  returnCode?: number;
  /** Underlying TLS / socket error code, e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE, ECONNREFUSED. */
  reason?: string;
  /** Whether the provision request had been published when the error happened. */
  requestSent?: boolean;
  /** OUTCOME_UNKNOWN with a store: where the pending private key was kept. */
  pendingKeyPath?: string;
  /** With a store: the pending record (certificate, chosen credentials, server) kept for a resume. */
  pendingPath?: string;
  /** INVALID_INPUT: the offending option/field name. */
  field?: string;
  /** transport 'http': the HTTP status of an answer that was not 200. */
  httpStatus?: number;
  /** gridlinks-device: the device the failing message was for; gridlinks-gateway: the child. */
  deviceName?: string;
  /** gridlinks-gateway: the gateway device whose session carried the message. */
  gatewayName?: string;
}

/**
 * The one error type the core throws. `message` tells the user what to do next and never
 * contains a secret (provision secret, password, private key).
 */
export class ProvisionError extends Error {
  readonly code: ErrorCode;
  readonly details: ProvisionErrorDetails;

  constructor(code: ErrorCode, message: string, details: ProvisionErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProvisionError';
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string; details: ProvisionErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isProvisionError(value: unknown): value is ProvisionError {
  return value instanceof ProvisionError;
}

/** A thrown value as an Error: promise rejections and `throw` can carry anything. */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
