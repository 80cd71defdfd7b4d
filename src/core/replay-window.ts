/**
 * The set of SPA packets seen within the freshness window, in memory. A key is remembered until its
 * expiry (the packet's timestamp + the freshness window): after that the packet is stale anyway
 * and rung 7 of the ladder rejects it, so the set is bounded by the window, and by `capacity`
 * besides. Pure: times are arguments (Unix milliseconds).
 *
 * The wall clock alone is not enough: stepped forward, it lets a prune (or a restart) forget keys
 * that, once it is stepped back, are fresh again. So a key may carry its owner (the client, or the
 * fwknop stanza, that authenticated it) and the packet's timestamp, and each owner has a
 * high-water mark: the newest timestamp accepted from it. A packet of an owner whose expiry is at
 * or below that mark (timestamp <= high-water - window, the window counting the retention margin)
 * is refused ('behind-high-water'), whatever the clock says. An owned key is forgotten only when
 * both its expiry has passed and that rule refuses its copies, so the key that holds an owner's
 * mark is never forgotten: the mark needs no record of its own and survives any prune, restart
 * or compaction that keeps the retained keys. The price: one key per owner is kept for good.
 *
 * Capacity is shared, so each owner also has a quota (`ownerCapacity` keys): one client spraying
 * fresh packets (valid, or refused later by policy: they are recorded too) fills its own quota
 * ('owner-full') and never the window that every other client needs.
 */

export type ReplayVerdict = 'fresh' | 'replayed' | 'full' | 'behind-high-water' | 'owner-full';

/** Who authenticated a packet, and the timestamp it carries. */
export interface ReplayOwner {
  /** Lower-case hex, 1-128 characters: native SPA's client id, or a digest naming an fwknop stanza. */
  readonly id: string;
  readonly timestampMs: number;
}

/** One retained key, as entries() yields it (owner and timestamp only for owned keys). */
export type ReplayEntry = [key: string, expiresAtMs: number, owner?: string, timestampMs?: number];

interface Entry {
  expiresAtMs: number;
  owner: string | undefined;
  timestampMs: number;
}

export class ReplayWindow {
  private readonly keys = new Map<string, Entry>();
  /** Per owner: the newest timestamp accepted. */
  private readonly highWater = new Map<string, number>();
  /** Per owner: how many keys it holds. */
  private readonly held = new Map<string, number>();
  /** When an owner at its quota last made the window prune (at most once a second). */
  private quotaPrunedAtMs = -Infinity;

  constructor(
    /** Keys it may hold at most. */
    readonly capacity: number,
    private readonly ownerCapacity: number = capacity,
  ) {}

  get size(): number {
    return this.keys.size;
  }

  /** The newest timestamp accepted from `owner`, if any. */
  highWaterOf(owner: string): number | undefined {
    return this.highWater.get(owner);
  }

  /**
   * Records `key` unless it is present and unexpired. 'full' when the window already holds
   * `capacity` keys it must keep: the caller must refuse the packet (fail closed), not forget
   * them. 'behind-high-water' when `owner` has had a packet accepted that is newer than this one
   * by its whole window or more.
   */
  admit(key: string, expiresAtMs: number, nowMs: number, owner?: ReplayOwner): ReplayVerdict {
    const seen = this.keys.get(key);
    if (seen !== undefined && seen.expiresAtMs > nowMs) return 'replayed';
    if (owner !== undefined) {
      const mark = this.highWater.get(owner.id);
      if (mark !== undefined && expiresAtMs <= mark) return 'behind-high-water';
    }
    if (
      owner !== undefined &&
      (seen === undefined || seen.owner !== owner.id) &&
      (this.held.get(owner.id) ?? 0) >= this.ownerCapacity
    ) {
      // Pruning walks every key: an owner spraying at its quota gets it at most once a second.
      if (Math.abs(nowMs - this.quotaPrunedAtMs) < 1000) return 'owner-full';
      this.quotaPrunedAtMs = nowMs;
      // The packet is authenticated: its timestamp may raise the mark even if it is refused, or
      // an owner whose quota is all records above its mark could never get a record back.
      this.highWater.set(owner.id, Math.max(owner.timestampMs, this.highWater.get(owner.id) ?? -Infinity));
      this.prune(nowMs);
      if ((this.held.get(owner.id) ?? 0) >= this.ownerCapacity) return 'owner-full';
    }
    if (seen === undefined && this.keys.size >= this.capacity) {
      this.prune(nowMs);
      if (this.keys.size >= this.capacity) return 'full';
    }
    this.put(key, expiresAtMs, owner?.id, owner?.timestampMs ?? 0);
    return 'fresh';
  }

  /** Whether `key` is recorded and unexpired, without recording anything. */
  has(key: string, nowMs: number): boolean {
    const seen = this.keys.get(key);
    return seen !== undefined && seen.expiresAtMs > nowMs;
  }

  /**
   * Loads a key from persistent storage (no verdict). An unowned key is skipped once expired; an
   * owned one is always loaded (it may hold its owner's high-water mark): call prune() once all
   * are loaded.
   */
  restore(key: string, expiresAtMs: number, nowMs: number, owner?: ReplayOwner): void {
    if (owner === undefined && expiresAtMs <= nowMs) return;
    const seen = this.keys.get(key);
    if (seen !== undefined && seen.expiresAtMs >= expiresAtMs) return;
    this.put(key, expiresAtMs, owner?.id, owner?.timestampMs ?? 0);
  }

  /** Forgets the keys it may (expired, and for an owned key: behind its owner's mark); returns how many. */
  prune(nowMs: number): number {
    let removed = 0;
    for (const [key, e] of this.keys) {
      if (!this.retained(e, nowMs)) {
        this.remove(key, e);
        removed++;
      }
    }
    return removed;
  }

  /** The keys that must be kept, for compacting the journal. */
  *entries(nowMs: number): Iterable<ReplayEntry> {
    for (const [key, e] of this.keys) {
      if (!this.retained(e, nowMs)) continue;
      yield e.owner === undefined ? [key, e.expiresAtMs] : [key, e.expiresAtMs, e.owner, e.timestampMs];
    }
  }

  private retained(e: Entry, nowMs: number): boolean {
    if (e.expiresAtMs > nowMs) return true;
    if (e.owner === undefined) return false;
    return e.expiresAtMs > (this.highWater.get(e.owner) ?? -Infinity);
  }

  private put(key: string, expiresAtMs: number, owner: string | undefined, timestampMs: number): void {
    const old = this.keys.get(key);
    if (old !== undefined) this.remove(key, old);
    this.keys.set(key, { expiresAtMs, owner, timestampMs });
    if (owner !== undefined) {
      this.highWater.set(owner, Math.max(timestampMs, this.highWater.get(owner) ?? -Infinity));
      this.held.set(owner, (this.held.get(owner) ?? 0) + 1);
    }
  }

  private remove(key: string, e: Entry): void {
    this.keys.delete(key);
    if (e.owner !== undefined) this.held.set(e.owner, (this.held.get(e.owner) ?? 1) - 1);
  }
}
