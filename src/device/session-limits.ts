import { DEFAULT_MAX_PACKET_BYTES } from './packet-size';
import { RPC_RESPONSE_PREFIX } from './topics';

/** A session's limits as GridLinks answers getSessionLimits (protocol-more.md §7); rate limits as `capacity:seconds` pairs, null = none. */
export interface SessionLimits {
  maxPayloadSize: number;
  maxInflightMessages: number;
  rateLimits: RateLimitTexts;
  /** A gateway session's: each child's limits (the answer's `rateLimits`, its own being `gatewayRateLimits`); null for a device. */
  childRateLimits: RateLimitTexts | null;
}

export interface RateLimitTexts {
  messages: string | null;
  telemetryMessages: string | null;
  telemetryDataPoints: string | null;
}

/** The platform's defaults: what a session keeps to until (or unless) the server answers. */
export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  maxPayloadSize: DEFAULT_MAX_PACKET_BYTES,
  maxInflightMessages: 100,
  rateLimits: { messages: null, telemetryMessages: null, telemetryDataPoints: null },
  childRateLimits: null,
};

/** Client-side RPC ids of the limits request: far above the ids of the server's RPCs answered on the same topics. */
export const LIMITS_REQUEST_ID = 1_000_000_001;
export const LIMITS_REQUEST_TOPIC = `v1/devices/me/rpc/request/${LIMITS_REQUEST_ID}`;
export const LIMITS_RESPONSE_TOPIC = `${RPC_RESPONSE_PREFIX}${LIMITS_REQUEST_ID}`;
export const LIMITS_RESPONSE_SUBSCRIPTION = `${RPC_RESPONSE_PREFIX}+`;
export const LIMITS_REQUEST_BODY = '{"method":"getSessionLimits","params":{}}';

function positive(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

function rates(value: unknown): RateLimitTexts | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const text = (key: string): string | null => (typeof record[key] === 'string' && record[key].trim() !== '' ? record[key] : null);
  return { messages: text('messages'), telemetryMessages: text('telemetryMessages'), telemetryDataPoints: text('telemetryDataPoints') };
}

/**
 * The answer to getSessionLimits: for a gateway session its own limits are `gatewayRateLimits` (its
 * `rateLimits` are each child's); anything missing or malformed keeps the default.
 */
export function readSessionLimits(answer: unknown): SessionLimits {
  const record = (typeof answer === 'object' && answer !== null ? answer : {}) as Record<string, unknown>;
  const gateway = rates(record.gatewayRateLimits);
  const rateLimits = rates(record.rateLimits);
  return {
    maxPayloadSize: positive(record.maxPayloadSize, DEFAULT_SESSION_LIMITS.maxPayloadSize),
    maxInflightMessages: positive(record.maxInflightMessages, DEFAULT_SESSION_LIMITS.maxInflightMessages),
    rateLimits: gateway ?? rateLimits ?? DEFAULT_SESSION_LIMITS.rateLimits,
    childRateLimits: gateway ? (rateLimits ?? DEFAULT_SESSION_LIMITS.rateLimits) : null,
  };
}
