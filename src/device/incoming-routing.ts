import { LIMITS_RESPONSE_SUBSCRIPTION, LIMITS_RESPONSE_TOPIC } from './session-limits';
import { ATTRIBUTES_RESPONSE_SUBSCRIPTION, RECEIVE_SUBSCRIPTIONS, parseIncoming, type IncomingMessage } from './topics';

/** What a session subscribes to: its own topics (a gateway's v1/gateway/*), or the device API's; always the answer to getSessionLimits. */
export function sessionSubscriptions(settings: { subscriptions?: string[]; receive: boolean }): string[] {
  const own = settings.subscriptions ?? (settings.receive ? [...RECEIVE_SUBSCRIPTIONS, ATTRIBUTES_RESPONSE_SUBSCRIPTION] : [ATTRIBUTES_RESPONSE_SUBSCRIPTION]);
  return [...own, LIMITS_RESPONSE_SUBSCRIPTION];
}

/** Where the server's PUBLISHes to a session go. */
export interface IncomingTargets {
  /** The answer to getSessionLimits. */
  limits(payload: Buffer): void;
  /** The answer to an attribute request of this session. */
  answer(requestId: number, payload: unknown): void;
  /** Anything else the session reads (server RPCs, shared-attribute updates; a gateway's for its children). */
  message(message: IncomingMessage): void;
}

/** Routes one PUBLISH of the server, read with `parse` (the device API's, or a gateway session's); what it cannot read is dropped. */
export function routeIncoming(
  topic: string,
  payload: Buffer,
  parse: ((topic: string, payload: Buffer) => IncomingMessage | null) | undefined,
  targets: IncomingTargets,
): void {
  if (topic === LIMITS_RESPONSE_TOPIC) return targets.limits(payload);
  const message = (parse ?? parseIncoming)(topic, payload);
  if (!message) return;
  if (message.kind === 'attributes/response') {
    if (message.requestId !== undefined) targets.answer(message.requestId, message.payload);
    return;
  }
  targets.message(message);
}
