/**
 * The device API topics GridLinks' MQTT transport knows (ThingsBoard `MqttTopics`, `MqttTransportHandler.processPublish`
 * and `processSubscribe`), for what a device session may publish on and subscribe to. `v1/gateway/*` is the
 * gateway room's.
 */
const PUBLISH_EXACT = new Set(['v1/devices/me/telemetry', 'v1/devices/me/attributes', 'v1/devices/me/claim']);
const PUBLISH_PREFIXES = ['v1/devices/me/attributes/request/', 'v1/devices/me/rpc/response/', 'v1/devices/me/rpc/request/', 'v2/fw/request/', 'v2/sw/request/'];
const SUBSCRIPTIONS = new Set([
  'v1/devices/me/attributes',
  'v1/devices/me/attributes/response/+',
  'v1/devices/me/rpc/request/+',
  'v1/devices/me/rpc/response/+',
  'v2/fw/response/+/chunk/+',
  'v2/sw/response/+/chunk/+',
  'v1/gateway/rpc',
  'v1/gateway/attributes',
  'v1/gateway/attributes/response',
  'v1/gateway/disconnect',
]);
/** Topics whose body GridLinks parses as JSON (a body it cannot parse: PUBACK 0x99 / closed). */
const JSON_BODIES = new Set(['v1/devices/me/telemetry', 'v1/devices/me/attributes']);

export function isKnownPublishTopic(topic: string): boolean {
  return PUBLISH_EXACT.has(topic) || PUBLISH_PREFIXES.some((prefix) => topic.startsWith(prefix) && topic.length > prefix.length);
}

export function isSupportedSubscription(topicFilter: string): boolean {
  return SUBSCRIPTIONS.has(topicFilter);
}

/** A telemetry or attributes body that is not a JSON object or array (JsonConverter refuses it). */
export function isUnparseableBody(topic: string, payload: Buffer): boolean {
  if (!JSON_BODIES.has(topic)) return false;
  try {
    const value = JSON.parse(payload.toString('utf8')) as unknown;
    return typeof value !== 'object' || value === null;
  } catch {
    return true;
  }
}
