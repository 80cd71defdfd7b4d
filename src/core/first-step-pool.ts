/**
 * The state of every (door, source) that has taken exactly one knock step: the state a flood of
 * spoofed first knocks creates, so it is built to cost O(1) per packet and little memory.
 *
 * Layout: a ring of slots in order of creation, held in typed arrays (within one door that is
 * also deadline order, since a door's timeout is fixed; eviction takes the oldest of all doors), plus one Map per door from source
 * address to slot. A slot removed out of order (its source took a second step, or knocked wrong)
 * is marked dead and skipped when the head reaches it; when dead slots fill the ring it is
 * compacted, so every operation is amortised O(1).
 *
 * Per entry: the Map's key and slot (~60-80 bytes, the key string is the packet's own) and
 * 33 bytes of ring; the ring grows by doubling, up to twice `limit` slots.
 *
 * Pure: no clock, no I/O.
 */

const INITIAL_SLOTS = 1024;

export class FirstStepPool {
  private readonly bySource = new Map<string, number>();
  private sources: (string | undefined)[];
  private deadlines: Float64Array;
  /** fingerprint (protocol, source port, destination port) and TCP sequence of the step taken. */
  private fingerprints: Float64Array;
  private seqs: Float64Array;
  private head = 0;
  /** Slots in use from head, live or dead. */
  private span = 0;
  private live = 0;

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
    const n = Math.min(INITIAL_SLOTS, limit);
    this.sources = new Array<string | undefined>(n).fill(undefined);
    this.deadlines = new Float64Array(n);
    this.fingerprints = new Float64Array(n);
    this.seqs = new Float64Array(n);
  }

  get size(): number {
    return this.live;
  }

  /** The slot of `src`, or -1. */
  find(src: string): number {
    return this.bySource.get(src) ?? -1;
  }

  /** Deadline of the oldest entry; Infinity when empty. */
  oldestDeadline(): number {
    this.advanceHead();
    return this.live === 0 ? Infinity : (this.deadlines[this.head] as number);
  }

  deadline(slot: number): number {
    return this.deadlines[slot] as number;
  }
  fingerprint(slot: number): number {
    return this.fingerprints[slot] as number;
  }
  seq(slot: number): number {
    return this.seqs[slot] as number;
  }

  /** Adds an entry. The caller keeps the count within `limit` (evictOldest first when full). */
  add(src: string, deadline: number, fingerprint: number, seq: number): void {
    if (this.live >= this.limit) throw new RangeError('first-step pool is full');
    if (this.span === this.sources.length) this.makeRoom();
    const slot = (this.head + this.span) % this.sources.length;
    this.sources[slot] = src;
    this.deadlines[slot] = deadline;
    this.fingerprints[slot] = fingerprint;
    this.seqs[slot] = seq;
    this.span++;
    this.live++;
    this.bySource.set(src, slot);
  }

  /** Removes the entry in `slot` (from find()). */
  remove(slot: number): void {
    const src = this.sources[slot];
    if (src === undefined) return;
    this.bySource.delete(src);
    this.sources[slot] = undefined;
    this.live--;
    this.advanceHead();
  }

  /** Removes the oldest entry; returns false when there is none. */
  evictOldest(): boolean {
    this.advanceHead();
    if (this.live === 0) return false;
    this.remove(this.head);
    return true;
  }

  /**
   * Removes entries whose deadline is at or before `nowMs`, oldest first, stopping at the first
   * that is still running (the rest are later still). Returns how many.
   */
  removeExpired(nowMs: number): number {
    let removed = 0;
    for (;;) {
      this.advanceHead();
      if (this.live === 0 || (this.deadlines[this.head] as number) > nowMs) return removed;
      this.remove(this.head);
      removed++;
    }
  }

  /** Removes every entry. Returns how many there were. */
  clear(): number {
    const n = this.live;
    this.bySource.clear();
    this.sources.fill(undefined);
    this.head = 0;
    this.span = 0;
    this.live = 0;
    return n;
  }

  /** Skips dead slots at the head. */
  private advanceHead(): void {
    while (this.span > 0 && this.sources[this.head] === undefined) {
      this.head = (this.head + 1) % this.sources.length;
      this.span--;
    }
    if (this.span === 0) this.head = 0;
  }

  /**
   * Ring full of live and dead slots: compact when at least half are dead, else grow (to at most
   * twice `limit`, where at least half are necessarily dead since live < limit). Either way the
   * O(n) copy is paid for by n/2 earlier operations: amortised O(1), whatever order of removals
   * a hostile sender provokes.
   */
  private makeRoom(): void {
    const old = this.sources.length;
    const target = (old - this.live) * 2 >= old ? old : Math.min(old * 2, this.limit * 2);
    const sources = new Array<string | undefined>(target).fill(undefined);
    const deadlines = new Float64Array(target);
    const fingerprints = new Float64Array(target);
    const seqs = new Float64Array(target);
    let n = 0;
    for (let i = 0; i < this.span; i++) {
      const from = (this.head + i) % old;
      const src = this.sources[from];
      if (src === undefined) continue;
      sources[n] = src;
      deadlines[n] = this.deadlines[from] as number;
      fingerprints[n] = this.fingerprints[from] as number;
      seqs[n] = this.seqs[from] as number;
      this.bySource.set(src, n);
      n++;
    }
    this.sources = sources;
    this.deadlines = deadlines;
    this.fingerprints = fingerprints;
    this.seqs = seqs;
    this.head = 0;
    this.span = n;
  }
}
