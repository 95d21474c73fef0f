/** GridLinks' default limit on a packet's Remaining Length (`NETTY_MAX_PAYLOAD_SIZE`, protocol-more.md §3). */
export const DEFAULT_MAX_PACKET_BYTES = 65_536;

/** Remaining Length of a QoS 1 PUBLISH beside its payload: topic length field and topic, packet id, MQTT 5 properties length. */
export function publishOverhead(topic: string, protocolVersion: 4 | 5): number {
  return 2 + Buffer.byteLength(topic) + 2 + (protocolVersion === 5 ? 1 : 0);
}

/**
 * The Remaining Length of a QoS 1 PUBLISH of `body` on `topic` when it is over `limit` (what GridLinks
 * counts against its packet limit: topic, packet id, properties and payload, not the fixed header);
 * undefined when it fits. Most bodies need no byte count: a UTF-16 unit is at most 3 bytes of UTF-8.
 */
export function publishOverLimit(topic: string, body: string, protocolVersion: 4 | 5, limit: number): number | undefined {
  const overhead = publishOverhead(topic, protocolVersion);
  if (overhead + body.length * 3 <= limit) return undefined;
  const size = overhead + Buffer.byteLength(body);
  return size > limit ? size : undefined;
}
