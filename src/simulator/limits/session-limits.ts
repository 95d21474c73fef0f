import { RateLimit } from './rate-limit';
import type { RateLimitsConfig, SessionLimitsConfig } from '../types';

export const DEFAULT_MAX_PAYLOAD_SIZE = 65536;
export const DEFAULT_MAX_INFLIGHT_MESSAGES = 100;

const RATE_KEYS = ['messages', 'telemetryMessages', 'telemetryDataPoints'] as const;
type RateKey = (typeof RATE_KEYS)[number];

/** What one publish costs against a set of rate limits. */
export interface PublishCost {
  telemetry: boolean;
  dataPoints: number;
}

/** GridLinks' answer to the client-side RPC getSessionLimits (`MqttTransportHandler.onGetSessionLimitsRpc`). */
export function sessionLimitsAnswer(config: SessionLimitsConfig, gateway: boolean): Record<string, unknown> {
  const rates = (limits: RateLimitsConfig | undefined): Record<RateKey, string | null> => ({
    messages: limits?.messages || null,
    telemetryMessages: limits?.telemetryMessages || null,
    telemetryDataPoints: limits?.telemetryDataPoints || null,
  });
  return {
    maxPayloadSize: config.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE,
    maxInflightMessages: config.maxInflightMessages ?? DEFAULT_MAX_INFLIGHT_MESSAGES,
    rateLimits: rates(config.rateLimits),
    ...(gateway ? { gatewayRateLimits: rates(config.gatewayRateLimits) } : {}),
  };
}

/** Data points of a telemetry body: the keys of each `{k: v}` or `{"ts","values"}` entry, arrays summed. */
export function countDataPoints(body: unknown): number {
  if (Array.isArray(body)) return body.reduce((sum: number, entry: unknown) => sum + countDataPoints(entry), 0);
  if (typeof body !== 'object' || body === null) return 0;
  const entry = body as Record<string, unknown>;
  if ('ts' in entry && typeof entry.values === 'object' && entry.values !== null) return Object.keys(entry.values).length;
  return Object.keys(entry).length;
}

/** Checks the config's rate limit strings at start, so a typo fails startSimulator, not the first publish. */
export function validateSessionLimits(config: SessionLimitsConfig): void {
  RateLimit.parse(config.connections);
  for (const limits of [config.rateLimits, config.gatewayRateLimits]) for (const key of RATE_KEYS) RateLimit.parse(limits?.[key]);
}

/**
 * The configured rate limits, one set of buckets per device (or child) and per gateway, as the platform keeps
 * them (`DefaultTransportService.checkLimits`, `GatewaySessionLimits`). Each check answers the name of the
 * limit that refused, or null.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, RateLimit | null>();

  constructor(private readonly config: SessionLimitsConfig) {}

  connect(deviceName: string): string | null {
    return this.take(`connect\0${deviceName}`, this.config.connections, 1) ? null : 'connections';
  }

  /** A device's own publish (a gateway's device-topic publishes too). */
  devicePublish(deviceName: string, cost: PublishCost): string | null {
    return this.admit(`device\0${deviceName}`, this.config.rateLimits, cost);
  }

  /** One gateway publish: its own limits over the whole, then each child's limits over the child's part. */
  gatewayPublish(gatewayName: string, telemetry: boolean, dataPointsByChild: Map<string, number>): string | null {
    const total = [...dataPointsByChild.values()].reduce((sum, count) => sum + count, 0);
    const own = this.admit(`gateway\0${gatewayName}`, this.config.gatewayRateLimits, { telemetry, dataPoints: total });
    if (own) return `gateway ${own}`;
    for (const [child, dataPoints] of dataPointsByChild) {
      const refused = this.admit(`device\0${child}`, this.config.rateLimits, { telemetry, dataPoints });
      if (refused) return `${refused} of ${child}`;
    }
    return null;
  }

  private admit(key: string, limits: RateLimitsConfig | undefined, cost: PublishCost): string | null {
    if (!this.take(`${key}\0messages`, limits?.messages, 1)) return 'messages';
    if (!cost.telemetry) return null;
    if (!this.take(`${key}\0telemetryMessages`, limits?.telemetryMessages, 1)) return 'telemetryMessages';
    if (!this.take(`${key}\0telemetryDataPoints`, limits?.telemetryDataPoints, cost.dataPoints)) return 'telemetryDataPoints';
    return null;
  }

  private take(key: string, text: string | null | undefined, count: number): boolean {
    if (!text) return true;
    let limit = this.buckets.get(key);
    if (limit === undefined) this.buckets.set(key, (limit = RateLimit.parse(text)));
    return limit === null || limit.tryConsume(count);
  }
}
