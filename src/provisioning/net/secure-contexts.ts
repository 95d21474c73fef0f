import { createSecureContext, type SecureContext } from 'node:tls';

/** Most CA sets kept (one per distinct `server.ca` in use); the oldest is dropped beyond that. */
const MAX_CONTEXTS = 16;
const contexts = new Map<string, SecureContext>();

/**
 * The TLS context for sessions that trust `ca` (undefined: Node's default roots) and show no client
 * certificate (provisioning sessions, token and basic devices), made once and shared. Building one
 * parses every CA certificate (1–2 ms on the event loop) and holds its own copy of them; every session
 * to the same server would otherwise build its own.
 */
export function trustOnlySecureContext(ca: string | undefined): SecureContext {
  const key = ca ?? '';
  let context = contexts.get(key);
  if (context === undefined) {
    context = createSecureContext(ca === undefined ? {} : { ca });
    if (contexts.size >= MAX_CONTEXTS) contexts.delete(contexts.keys().next().value as string);
  } else {
    contexts.delete(key);
  }
  contexts.set(key, context);
  return context;
}
