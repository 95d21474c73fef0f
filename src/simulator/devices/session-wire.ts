import type { Socket } from 'node:net';
import { writePacket, type ProtocolVersion } from '../packets';

/**
 * The raw connection under a device session, for what aedes (MQTT 3.1.1 only) cannot say: MQTT 5 reason
 * codes in a PUBACK or a server DISCONNECT, written straight to the client's socket, then the close.
 * MQTT 3.1.1 has no way to say why: the connection is just closed.
 */
export class SessionWire {
  private closingFlag = false;

  constructor(
    private readonly socket: Socket,
    readonly version: ProtocolVersion,
  ) {}

  /** Set once the server decided to close this session: later publishes are not handled. */
  get closing(): boolean {
    return this.closingFlag || this.socket.destroyed;
  }

  /** MQTT 5 only: a PUBACK with this reason code; the session goes on. */
  acknowledge(messageId: number, reasonCode: number): void {
    if (this.version === 5 && !this.closing) writePacket(this.socket, { cmd: 'puback', messageId, reasonCode }, 5);
  }

  /** MQTT 5: PUBACK with this reason (DISCONNECT with it for QoS 0), then close; 3.1.1: close. */
  refusePublish(messageId: number | undefined, reasonCode: number): void {
    if (this.version === 5 && messageId !== undefined && !this.closing) {
      writePacket(this.socket, { cmd: 'puback', messageId, reasonCode }, 5);
      this.close();
    } else {
      this.disconnect(reasonCode);
    }
  }

  /** MQTT 5: DISCONNECT with this reason, then close; 3.1.1: close. */
  disconnect(reasonCode: number): void {
    if (this.version === 5 && !this.closing) writePacket(this.socket, { cmd: 'disconnect', reasonCode }, 5);
    this.close();
  }

  private close(): void {
    if (this.closingFlag) return;
    this.closingFlag = true;
    if (this.version === 5 && !this.socket.destroyed) this.socket.end(() => this.socket.destroy());
    else this.socket.destroy();
  }
}
