interface Child {
  type: string;
  lastUsed: number;
  /** The session generation it was last announced in (0: never). */
  announced: number;
}

/**
 * The children a gateway speaks for: their type, when they were last used, and whether they were
 * announced (`v1/gateway/connect`) for the session their next message goes out in. The generation
 * moves on whenever a session ends or an attempt fails: what was announced for it is gone, and every
 * known child is announced again when the next session is up.
 */
export class Children {
  private readonly known = new Map<string, Child>();
  private generation = 1;

  get size(): number {
    return this.known.size;
  }

  /** Notes a use of `child`; true when it still has to be announced for the coming session (the caller announces it). */
  use(child: string, type: string, now: number): boolean {
    const entry = this.known.get(child);
    if (!entry) {
      this.known.set(child, { type, lastUsed: now, announced: this.generation });
      return true;
    }
    entry.lastUsed = now;
    if (entry.announced === this.generation) return false;
    entry.announced = this.generation;
    return true;
  }

  /** An explicit connect: announced now, with this type. */
  announced(child: string, type: string, now: number): void {
    this.known.set(child, { type, lastUsed: now, announced: this.generation });
  }

  forget(child: string): void {
    this.known.delete(child);
  }

  /** The session ended (or an attempt failed): nothing is announced for the next one yet. */
  sessionEnded(): void {
    this.generation += 1;
  }

  /** The children not yet announced for the session now up, marked announced (the caller announces them). */
  toAnnounce(): Array<[string, string]> {
    const due: Array<[string, string]> = [];
    for (const [name, entry] of this.known) {
      if (entry.announced === this.generation) continue;
      entry.announced = this.generation;
      due.push([name, entry.type]);
    }
    return due;
  }

  /** Removes and returns the children unused since `before`. */
  idleSince(before: number): string[] {
    const idle: string[] = [];
    for (const [name, entry] of this.known) if (entry.lastUsed < before) idle.push(name);
    for (const name of idle) this.known.delete(name);
    return idle;
  }
}
