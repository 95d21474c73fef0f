/**
 * The door of the limits room: session limits as GridLinks tells them (getSessionLimits) and rate limits
 * (`capacity:seconds` token buckets) per device, per gateway and per child.
 */
export { RateLimit } from './rate-limit';
export {
  countDataPoints,
  DEFAULT_MAX_INFLIGHT_MESSAGES,
  DEFAULT_MAX_PAYLOAD_SIZE,
  RateLimiter,
  sessionLimitsAnswer,
  validateSessionLimits,
  type PublishCost,
} from './session-limits';
