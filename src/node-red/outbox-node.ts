import type { PoolCounts } from '../device/connection-pool';
import type { OutboxCounts } from '../outbox';
import { statusText } from './device-status';
import type { ProvisionError } from '../provisioning/errors';
import { NodeOutbox, parseGatewayChildKey, type NodeOutboxSettings, type OutboxLink } from './node-outbox';

type Translate = (key: string, substitutions?: Record<string, string | number>) => string;

/** The device node's status with its backlog: "N connected, M queued, K waiting", or "offline, K waiting (oldest X min)". */
export function outboxLabel(counts: PoolCounts, backlog: OutboxCounts | undefined, translate: Translate): string {
  const base = statusText(translate, 'gridlinks-device.status.counts', { ...counts }, `${counts.connected} connected, ${counts.queued} queued`);
  return withBacklog('gridlinks-device', base, counts.connected > 0, backlog, translate, 'offline');
}

/**
 * A node's status text with what waits in its outbox: `<base>, K waiting` while a session is up, else
 * `<offline>, K waiting (oldest X min)` (keys `<type>.status.waiting` and `<type>.status.offline-waiting`).
 */
export function withBacklog(type: string, base: string, connected: boolean, backlog: OutboxCounts | undefined, translate: Translate, offline: string): string {
  if (!backlog || backlog.waiting === 0) return base;
  const waiting = backlog.waiting.toLocaleString('en-US');
  if (connected) return statusText(translate, `${type}.status.waiting`, { base, waiting }, `${base}, ${waiting} waiting`);
  const minutes = Math.floor(backlog.oldestAgeMs / 60_000);
  return statusText(translate, `${type}.status.offline-waiting`, { waiting, minutes }, `${offline}, ${waiting} waiting (oldest ${minutes} min)`);
}

/**
 * A warning about a key's stored messages (`<node type>.warnings.<warning>`), naming the device, or the child and its
 * gateway; `english(subject)` is the text without a message catalog.
 */
function keyWarning(
  translate: Translate,
  key: string,
  warning: string,
  substitutions: Record<string, string | number>,
  english: (subject: string) => string,
): string {
  const child = parseGatewayChildKey(key);
  if (child) {
    return statusText(
      translate,
      `gridlinks-gateway.warnings.${warning}`,
      { deviceName: child.child, gatewayName: child.gatewayName, ...substitutions },
      english(`child "${child.child}" (gateway "${child.gatewayName}")`),
    );
  }
  return statusText(translate, `gridlinks-device.warnings.${warning}`, { deviceName: key, ...substitutions }, english(`device "${key}"`));
}

/** The warning for records dropped unsent (drop-oldest, or older than the age bound). */
export function droppedWarning(translate: Translate, key: string, count: number, reason: string): string {
  return keyWarning(translate, key, 'dropped', { count, reason }, (subject) => `${count} stored message(s) of ${subject} dropped unsent (${reason})`);
}

/** The warning for a backlog that cannot be sent for a reason other than the link: it stays stored and is tried again. */
export function stuckWarning(translate: Translate, key: string, error: ProvisionError): string {
  const why = `${error.code}: ${error.message}`;
  return keyWarning(
    translate,
    key,
    'stuck',
    { why },
    (subject) =>
      `Stored messages of ${subject} cannot be sent (${why}). They stay stored and are tried again (at most once a minute) until Keep for ends; purge them with msg.action "purge".`,
  );
}

/** msg.action "flush" (send every backlog now) or "purge" (drop `deviceName`'s backlog, or all): what output 1 reports. */
export async function outboxAction(
  outbox: NodeOutbox<unknown>,
  action: 'flush' | 'purge',
  deviceName: string | undefined,
  /** Whether a key is `deviceName`'s (a device's name, a child's key). */
  named: (key: string, deviceName: string) => boolean,
): Promise<Record<string, unknown>> {
  if (action === 'flush') return { action, waiting: await outbox.flush() };
  if (deviceName === undefined) return { action, purged: await outbox.purge() };
  return { action, purged: await outbox.purge((key) => named(key, deviceName)), deviceName };
}

/** What a node gives its outbox: its warnings and errors, and its status (read when used: it may be made after the outbox). */
export interface OutboxNode {
  warn(text: string): void;
  error(text: string): void;
}

/** The node's outbox (undefined when off): drops said as warnings (not while closing), a folder that cannot be opened as an error and on the status. */
export function openNodeOutbox<Target>(
  settings: NodeOutboxSettings | undefined,
  link: OutboxLink<Target>,
  translate: Translate,
  node: OutboxNode,
  status: () => { changed(): void; failed(code: string): void },
  closing: () => boolean,
): NodeOutbox<Target> | undefined {
  if (!settings) return undefined;
  const outbox = new NodeOutbox(settings, link, {
    dropped: (key, count, reason) => {
      if (!closing()) node.warn(droppedWarning(translate, key, count, reason));
    },
    changed: () => status().changed(),
    stuck: (key, error) => {
      if (!closing()) node.warn(stuckWarning(translate, key, error));
    },
  });
  outbox.ready().catch((error: ProvisionError) => {
    status().failed(error.code);
    node.error(error.message);
  });
  return outbox;
}
