import * as path from 'node:path';

/** What the claims ask of a node's outbox. */
export interface Claimant {
  /** The key is one this node sends (its link owns it). */
  owns(key: string): boolean;
  /** Keys of the folder were let go (their outbox closed): take on those this node owns and no one holds. */
  adopt(): void;
  /** Another outbox of the folder took `key` (the flow gave it a message for it): stop draining it; resolves once its drain has stopped. */
  lost(key: string): Promise<void>;
}

interface Folder {
  members: Set<Claimant>;
  holders: Map<string, Claimant>;
  /** Per key: the outboxes that found no target for it (e.g. a device of another store folder sharing an outbox folder). */
  unable: Map<string, Set<Claimant>>;
}

/** Per outbox folder of this process: the live outboxes on it and which of them drains each key. */
const folders = new Map<string, Folder>();

/**
 * One drainer per (outbox folder, key) in a process. Several nodes may share a folder (device nodes on
 * one store folder): each key's backlog is drained by the one that holds its claim, so two nodes never
 * send a device's records over sessions of their own (which would take each other over). A key is
 * claimed when no other live outbox of the folder holds it; a message the flow gives a node takes it;
 * an outbox that closes lets its keys go to the others.
 */
export class DrainClaims {
  private readonly folder: Folder;
  private readonly dir: string;
  private left = false;

  constructor(
    dir: string,
    private readonly member: Claimant,
  ) {
    this.dir = path.resolve(dir);
    let folder = folders.get(this.dir);
    if (!folder) {
      folder = { members: new Set(), holders: new Map(), unable: new Map() };
      folders.set(this.dir, folder);
    }
    folder.members.add(member);
    this.folder = folder;
  }

  /** This outbox drains `key`. */
  holds(key: string): boolean {
    return this.folder.holders.get(key) === this.member;
  }

  /** No other outbox of the folder drains `key`. */
  free(key: string): boolean {
    const holder = this.folder.holders.get(key);
    return holder === undefined || holder === this.member;
  }

  /** Claims `key` unless another outbox holds it; whether this one holds it now. */
  claim(key: string): boolean {
    if (this.left) return false;
    if (!this.folder.holders.has(key)) this.folder.holders.set(key, this.member);
    return this.holds(key);
  }

  /** Takes `key` from whoever holds it: undefined when no other did, else resolves once its drain has stopped. */
  take(key: string): Promise<void> | undefined {
    if (this.left) return undefined;
    const holder = this.folder.holders.get(key);
    this.folder.holders.set(key, this.member);
    this.folder.unable.delete(key);
    return holder !== undefined && holder !== this.member ? holder.lost(key) : undefined;
  }

  /**
   * This outbox holds `key` but cannot send it (no target known: e.g. a device of another store folder on a shared
   * outbox folder): hands it to an outbox of the folder that has not failed so too. Whether one took it (this one then
   * lets it be); false: none did, this one keeps it and tries again later.
   */
  passOn(key: string): boolean {
    if (this.left || !this.holds(key)) return false;
    const unable = this.folder.unable.get(key) ?? new Set<Claimant>();
    unable.add(this.member);
    this.folder.unable.set(key, unable);
    const others = [...this.folder.members].filter((other) => other !== this.member && !unable.has(other) && other.owns(key));
    if (others.length === 0) return false;
    this.folder.holders.delete(key);
    adoptAll(others);
    if (this.folder.holders.has(key)) return true;
    this.folder.holders.set(key, this.member);
    return false;
  }

  /** Lets go of every key this outbox holds and asks the folder's other outboxes to take them on. */
  leave(): void {
    if (this.left) return;
    this.left = true;
    this.folder.members.delete(this.member);
    for (const unable of this.folder.unable.values()) unable.delete(this.member);
    let released = 0;
    for (const [key, holder] of this.folder.holders) {
      if (holder !== this.member) continue;
      this.folder.holders.delete(key);
      released++;
    }
    if (this.folder.members.size === 0) {
      if (folders.get(this.dir) === this.folder) folders.delete(this.dir);
      return;
    }
    if (released === 0) return;
    adoptAll([...this.folder.members]);
  }
}

/** Asks each outbox to take on the keys it owns and no one holds; one outbox's failure must not keep them from the others. */
function adoptAll(outboxes: readonly Claimant[]): void {
  for (const outbox of outboxes) {
    try {
      outbox.adopt();
    } catch {
      // The next of them.
    }
  }
}
