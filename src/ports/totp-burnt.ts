/**
 * The burnt counters of time-based sequence doors: a (door, counter) pair whose sequence was
 * knocked once and must never open again, from any source, while it is still accepted (until the
 * end of the period after its own: core/totp-sequence.ts acceptedUntilMs). The local
 * implementation is a small append-only file (stores/totp-burnt-file.ts).
 *
 * Contract: burn() returns only once the pair is recorded durably, and throws when it could not be
 * (then no grant may be made); isBurnt() is true for every pair burn() returned for, at least
 * until its `untilUnixMs`.
 */

export interface BurntCounterStore {
  isBurnt(door: string, counter: number): boolean;
  /**
   * `untilUnixMs`: after that the record may be forgotten (the counter is no longer accepted);
   * records whose time has come by `nowUnixMs` may be forgotten now, so memory stays bounded by
   * the live ones (at most three per door).
   */
  burn(door: string, counter: number, untilUnixMs: number, nowUnixMs: number): void;
}

const key = (door: string, counter: number): string => `${door} ${counter}`;

/** Burnt counters in memory (unit tests, --dry-run); `failWrites` makes burn() fail as a full disk would. */
export class MemoryBurntCounters implements BurntCounterStore {
  failWrites = false;
  private readonly burnt = new Map<string, number>();

  isBurnt(door: string, counter: number): boolean {
    return this.burnt.has(key(door, counter));
  }

  burn(door: string, counter: number, untilUnixMs: number, nowUnixMs: number): void {
    if (this.failWrites) throw new Error('simulated write failure');
    for (const [k, until] of this.burnt) if (until <= nowUnixMs) this.burnt.delete(k);
    this.burnt.set(key(door, counter), untilUnixMs);
  }

  /** Records held (a test of the bound). */
  get size(): number {
    return this.burnt.size;
  }
}
