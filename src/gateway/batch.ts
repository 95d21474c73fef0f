import type { Settled } from '../device';

/**
 * One `v1/gateway/telemetry` or `v1/gateway/attributes` publish being filled: the parts of many
 * children (`{"Meter 1":[...],"Meter 2":[...]}` or `{"Meter 1":{...},...}`), its payload size kept
 * as parts are added, and the messages that are settled by its PUBACK.
 */
export class Batch {
  /** The flow messages in it, settled together. */
  readonly members: Settled[] = [];
  /** Payload bytes of body(): `{}` to start with. */
  bytes = 2;
  private readonly parts = new Map<string, string[]>();
  private readonly telemetry: boolean;

  constructor(readonly kind: 'telemetry' | 'attributes') {
    this.telemetry = kind === 'telemetry';
  }

  get children(): number {
    return this.parts.size;
  }

  has(child: string): boolean {
    return this.parts.has(child);
  }

  /** Telemetry entries of a child join its array; a second attributes object of the same child needs a publish of its own. */
  accepts(child: string): boolean {
    return this.telemetry || !this.parts.has(child);
  }

  /** The payload size with this part added. */
  sizeWith(child: string, part: string): number {
    const partBytes = Buffer.byteLength(part);
    if (this.parts.has(child)) return this.bytes + 1 + partBytes;
    return this.bytes + (this.parts.size > 0 ? 1 : 0) + Buffer.byteLength(JSON.stringify(child)) + 1 + partBytes + (this.telemetry ? 2 : 0);
  }

  /** `bytes`: sizeWith(child, part), when the caller has it already. */
  add(child: string, part: string, settled: Settled, bytes = this.sizeWith(child, part)): void {
    this.bytes = bytes;
    const parts = this.parts.get(child);
    if (parts) parts.push(part);
    else this.parts.set(child, [part]);
    this.members.push(settled);
  }

  body(): string {
    const entries: string[] = [];
    for (const [child, parts] of this.parts) {
      entries.push(`${JSON.stringify(child)}:${this.telemetry ? `[${parts.join(',')}]` : parts[0]}`);
    }
    return `{${entries.join(',')}}`;
  }
}
