import type { ErrorCode } from '../provisioning/errors';

/** One exit code per error family; documented in --help and docs/cli.md. */
export const EXIT = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  REFUSED: 3,
  NETWORK: 4,
  OUTCOME_UNKNOWN: 5,
  PROTOCOL: 6,
  STORE: 7,
  VERIFY_REFUSED: 8,
  INTERRUPTED: 130,
} as const;

const BY_CODE: Record<ErrorCode, number> = {
  INVALID_INPUT: EXIT.USAGE,
  NOT_FOUND: EXIT.REFUSED,
  FAILURE: EXIT.REFUSED,
  TIMEOUT: EXIT.NETWORK,
  UNREACHABLE: EXIT.NETWORK,
  TLS: EXIT.NETWORK,
  CONNECT_REFUSED: EXIT.NETWORK,
  OUTCOME_UNKNOWN: EXIT.OUTCOME_UNKNOWN,
  BAD_RESPONSE: EXIT.PROTOCOL,
  CREDENTIAL_MISMATCH: EXIT.PROTOCOL,
  CONNECTION_CLOSED: EXIT.PROTOCOL,
  STORE: EXIT.STORE,
  ABORTED: EXIT.INTERRUPTED,
  CHAIN_REFUSED: EXIT.REFUSED,
  NOT_RENEWABLE: EXIT.REFUSED,
  // Never produced by the CLI (gridlinks-device and gridlinks-gateway only).
  QUEUE_FULL: EXIT.INTERNAL,
  NOT_GATEWAY: EXIT.INTERNAL,
  SESSION_TAKEN_OVER: EXIT.INTERNAL,
  RATE_LIMITED: EXIT.INTERNAL,
};

export function exitCodeFor(code: ErrorCode): number {
  return BY_CODE[code] ?? EXIT.INTERNAL;
}

export const EXIT_CODES_HELP = `Exit codes:
  0    provisioned (with --verify: and the server accepted the new credentials)
  1    unexpected internal error
  2    INVALID_INPUT: bad or missing option, or no --out while stdout is closed (nothing was sent)
  3    NOT_FOUND, FAILURE: GridLinks refused (wrong key/secret; name taken, not pre-provisioned, credentials in use);
       CHAIN_REFUSED: GridLinks refused the certificate chain (profile CA, CN regex, "allow create");
       NOT_RENEWABLE: --renew of a device not made by chain provisioning (nothing was sent)
  4    TIMEOUT, UNREACHABLE, TLS, CONNECT_REFUSED: could not talk to the server (nothing was sent; safe to retry);
       TLS also when --no-tls is used on a TLS port
  5    OUTCOME_UNKNOWN: the request was sent but no answer came; the device may exist (a kept key's path is printed)
  6    BAD_RESPONSE, CREDENTIAL_MISMATCH, CONNECTION_CLOSED: the server answered wrongly or dropped the request
  7    STORE: the --out folder cannot be written, or already holds this device (nothing was sent);
       or the device was provisioned but its files could not be saved, or stdout broke (EPIPE) without
       --out (the credentials are printed, on stderr if stdout broke)
  8    provisioned, but --verify: the server refused a connection with the new credentials
  130  ABORTED: interrupted by Ctrl-C / SIGINT (143 for SIGTERM); if the request was already sent the
       device may exist, and a saved key is kept`;
