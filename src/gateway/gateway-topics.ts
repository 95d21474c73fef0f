import { decodePayload, type IncomingMessage } from '../device';

/** GridLinks' (ThingsBoard's) gateway API topics (protocol-more.md §5). */
export const GATEWAY_TOPICS = {
  connect: 'v1/gateway/connect',
  disconnect: 'v1/gateway/disconnect',
  telemetry: 'v1/gateway/telemetry',
  attributes: 'v1/gateway/attributes',
  attributesRequest: 'v1/gateway/attributes/request',
  attributesResponse: 'v1/gateway/attributes/response',
  rpc: 'v1/gateway/rpc',
  claim: 'v1/gateway/claim',
} as const;

/** What a gateway session subscribes to: RPCs and shared attributes for its children, attribute answers, children dropped. */
export const GATEWAY_SUBSCRIPTIONS = [GATEWAY_TOPICS.rpc, GATEWAY_TOPICS.attributes, GATEWAY_TOPICS.attributesResponse, GATEWAY_TOPICS.disconnect];

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function wholeNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/**
 * What a PUBLISH from the server to a gateway session means, with the child it is for:
 * `rpc/request` (`{"device","data":{"id","method","params"}}`: requestId = data.id, payload = data),
 * `attributes` (`{"device","data"}`: payload = data), `attributes/response` (`{"id","device",...}`:
 * requestId = id, payload = the whole answer), `disconnect` (`{"device","reason"}`). Null for anything else.
 */
export function parseGatewayIncoming(topic: string, payload: Buffer): IncomingMessage | null {
  const message = record(decodePayload(payload));
  const deviceName = typeof message?.device === 'string' && message.device !== '' ? message.device : undefined;
  if (!message || deviceName === undefined) return null;
  switch (topic) {
    case GATEWAY_TOPICS.rpc: {
      const data = record(message.data);
      const requestId = wholeNumber(data?.id);
      return data && requestId !== undefined ? { kind: 'rpc/request', deviceName, requestId, payload: data } : null;
    }
    case GATEWAY_TOPICS.attributes:
      return { kind: 'attributes', deviceName, payload: message.data ?? null };
    case GATEWAY_TOPICS.attributesResponse: {
      const requestId = wholeNumber(message.id);
      return requestId === undefined ? null : { kind: 'attributes/response', deviceName, requestId, payload: message };
    }
    case GATEWAY_TOPICS.disconnect:
      return { kind: 'disconnect', deviceName, payload: message.reason ?? null };
    default:
      return null;
  }
}
