/**
 * Follows MQTT packet boundaries in a byte stream from the fixed headers alone (type byte and
 * Remaining Length, MQTT 3.1.1 §2.2 / MQTT 5 §2.1), so that a packet's whole size is known as soon as
 * its header arrives, before its body is read. mqtt-packet's parser (used by mqtt.js and aedes) buffers
 * a packet whole before it looks at its size, and mqtt.js checks MQTT 5's maximumPacketSize only
 * after that; this guard runs on the raw bytes first, so memory stays bounded by the limit.
 */
export class PacketSizeGuard {
  /** Body bytes of the current packet still to pass. */
  private bodyLeft = 0;
  /** Fixed-header bytes of the next packet read so far (type byte + up to 4 length bytes). */
  private readonly header: number[] = [];
  /** A Remaining Length longer than 4 bytes: the parser reports it; there is nothing left to follow. */
  private lost = false;

  /**
   * `counting: 'remainingLength'` bounds the Remaining Length only (the fixed header not counted), as GridLinks'
   * decoder (Netty's MqttDecoder) does; the default bounds the whole packet.
   */
  constructor(
    readonly maxPacketBytes: number,
    private readonly counting: 'packet' | 'remainingLength' = 'packet',
  ) {}

  /** Bytes in, in order. Returns the size a packet announces (as counted) when it is over the limit. */
  check(chunk: Buffer): number | undefined {
    let offset = 0;
    while (offset < chunk.length && !this.lost) {
      if (this.bodyLeft > 0) {
        const passed = Math.min(this.bodyLeft, chunk.length - offset);
        this.bodyLeft -= passed;
        offset += passed;
        continue;
      }
      const byte = chunk[offset++];
      this.header.push(byte);
      if (this.header.length === 1 || byte & 0x80) {
        if (this.header.length === 5) this.lost = true;
        continue;
      }
      let remainingLength = 0;
      for (let index = this.header.length - 1; index >= 1; index--) remainingLength = remainingLength * 128 + (this.header[index] & 0x7f);
      const packetBytes = this.counting === 'packet' ? this.header.length + remainingLength : remainingLength;
      this.header.length = 0;
      if (packetBytes > this.maxPacketBytes) return packetBytes;
      this.bodyLeft = remainingLength;
    }
    return undefined;
  }
}
