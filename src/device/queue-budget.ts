/**
 * The bytes of payloads waiting for their session, counted across every device of a node: per-device
 * queues alone let thousands of devices hold gigabytes while the server is unreachable.
 */
export class QueueBudget {
  private used = 0;

  constructor(readonly limitBytes: number) {}

  get usedBytes(): number {
    return this.used;
  }

  /** Counts `bytes` against the budget; false (nothing counted) when they do not fit. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.limitBytes) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }
}
