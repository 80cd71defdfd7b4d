/**
 * Source addresses that have recently proven a key (a packet from them authenticated), so that
 * when the daemon sheds unauthenticated work under a flood (WorkBudget), they are still served.
 *
 * Why this is a per-source limit a spoofer cannot turn against a legitimate client: a source gets
 * here only through a packet that authenticated, which a spoofer cannot make. Being known buys a
 * source an allowance of its own (a token bucket per source: `ratePerS`, `burst` at once), not
 * unlimited work: a client that knocked once, or anyone spoofing its address, gets no more than
 * that allowance, then takes from the shared budget like any unknown source. So no single source,
 * known or not, takes more than its share, and one known source flooding does not stop another
 * known source from being served. What a spoofer with the server's public key can still do is use
 * up the shared budget, and then a client the daemon has not seen recently waits for it to refill
 * (docs/benchmarks.md).
 *
 * Bounded: at most `capacity` sources (each with its bucket), least recently proven dropped first;
 * each is forgotten `ttlMs` after it last proved a key. Pure: the caller supplies a monotonic clock.
 */

import { KNOWN_SPA_SOURCE_WORK_BURST, KNOWN_SPA_SOURCE_WORK_PER_S } from './limits.js';
import { WorkBudget } from './work-budget.js';

interface Entry {
  /** Monotonic ms of the source's last authenticated packet. */
  seenMs: number;
  /** Its own allowance. */
  readonly allowance: WorkBudget;
}

export class KnownSources {
  /** source → its entry; Map order = least recently proven first. */
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly capacity: number,
    private readonly ttlMs: number,
    private readonly ratePerS: number = KNOWN_SPA_SOURCE_WORK_PER_S,
    private readonly burst: number = KNOWN_SPA_SOURCE_WORK_BURST,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    if (!(ratePerS > 0) || !(burst >= 1)) throw new RangeError('rate and burst must be positive');
  }

  get size(): number {
    return this.entries.size;
  }

  /** Records that `source` just authenticated. Its allowance carries over: proving a key again does not refill it. */
  remember(source: string, nowMs: number): void {
    const e = this.entries.get(source);
    this.entries.delete(source);
    if (e !== undefined) {
      e.seenMs = nowMs;
      this.entries.set(source, e);
    } else {
      this.entries.set(source, { seenMs: nowMs, allowance: new WorkBudget(this.ratePerS, this.burst) });
    }
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  has(source: string, nowMs: number): boolean {
    return this.live(source, nowMs) !== undefined;
  }

  /** True when `source` is known and its own allowance has a token left (which this takes). */
  admit(source: string, nowMs: number): boolean {
    return this.live(source, nowMs)?.allowance.take(nowMs) ?? false;
  }

  private live(source: string, nowMs: number): Entry | undefined {
    const e = this.entries.get(source);
    if (e === undefined) return undefined;
    if (nowMs - e.seenMs >= this.ttlMs) {
      this.entries.delete(source);
      return undefined;
    }
    return e;
  }
}
