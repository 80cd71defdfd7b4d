/**
 * The set of SPA packets seen within the freshness window, in memory. A key is remembered until its
 * expiry (the packet's timestamp + the freshness window): after that the packet is stale anyway
 * and rung 7 of the ladder rejects it, so the set is bounded by the window, and by `capacity`
 * besides. Pure: times are arguments (Unix milliseconds).
 */

export type ReplayVerdict = 'fresh' | 'replayed' | 'full';

export class ReplayWindow {
  private readonly expiries = new Map<string, number>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.expiries.size;
  }

  /**
   * Records `key` unless it is present and unexpired. 'full' when the window already holds
   * `capacity` live keys: the caller must refuse the packet (fail closed), not forget old keys.
   */
  admit(key: string, expiresAtMs: number, nowMs: number): ReplayVerdict {
    const seen = this.expiries.get(key);
    if (seen !== undefined && seen > nowMs) return 'replayed';
    if (seen === undefined && this.expiries.size >= this.capacity) {
      this.prune(nowMs);
      if (this.expiries.size >= this.capacity) return 'full';
    }
    this.expiries.set(key, expiresAtMs);
    return 'fresh';
  }

  /** Whether `key` is recorded and unexpired, without recording anything. */
  has(key: string, nowMs: number): boolean {
    const seen = this.expiries.get(key);
    return seen !== undefined && seen > nowMs;
  }

  /** Loads a key from persistent storage (no verdict; expired keys are skipped). */
  restore(key: string, expiresAtMs: number, nowMs: number): void {
    if (expiresAtMs > nowMs) this.expiries.set(key, Math.max(expiresAtMs, this.expiries.get(key) ?? 0));
  }

  /** Forgets expired keys; returns how many. */
  prune(nowMs: number): number {
    let removed = 0;
    for (const [key, expiry] of this.expiries) {
      if (expiry <= nowMs) {
        this.expiries.delete(key);
        removed++;
      }
    }
    return removed;
  }

  /** Live entries, for compacting the journal. */
  *entries(nowMs: number): Iterable<[string, number]> {
    for (const [key, expiry] of this.expiries) if (expiry > nowMs) yield [key, expiry];
  }
}
