import { DISCONNECT_REASON } from './device-errors';

/** Takeovers in a row after which a session stops reconnecting (SESSION_TAKEN_OVER). */
export const TAKEOVERS_BEFORE_STOP = 3;

/**
 * Counts the takeovers of one device's session in a row (protocol-more.md §4: GridLinks keeps one
 * session per device and the newer evicts the older). MQTT 5 says so (DISCONNECT 0x8E); MQTT 3.1.1 only
 * closes the connection, so there a session closed by the server within `windowMs` of its login counts.
 * Any other end (a session that stayed up, another reason code) starts the count again.
 */
export class TakeoverWatch {
  private inARow = 0;

  constructor(
    private readonly protocolVersion: 4 | 5,
    private readonly windowMs: number,
  ) {}

  /** A session that was up `upForMs` ended, with the DISCONNECT reason code if the server sent one: the takeovers in a row now (0: not one). */
  sessionEnded(upForMs: number, reasonCode: number | undefined): number {
    const takenOver = reasonCode === DISCONNECT_REASON.sessionTakenOver || (this.protocolVersion === 4 && reasonCode === undefined && upForMs < this.windowMs);
    this.inARow = takenOver ? this.inARow + 1 : 0;
    return this.inARow;
  }

  get shouldStop(): boolean {
    return this.inARow >= TAKEOVERS_BEFORE_STOP;
  }
}
