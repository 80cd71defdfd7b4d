/**
 * Source addresses that have recently proven a key (a packet from them authenticated), so that
 * when the daemon sheds unauthenticated work under a flood (WorkBudget), they are still served.
 *
 * Why this is a per-source limit a spoofer cannot turn against a legitimate client: a source gets
 * here only through a packet that authenticated, which a spoofer cannot make; spoofing a known
 * source buys the spoofer nothing but being tried, and costs the real owner nothing. What a
 * spoofer with the server's public key can still do is use up the shared budget, and then a
 * client the daemon has not seen recently waits for it to refill (docs/benchmarks.md).
 *
 * Bounded: at most `capacity` sources, least recently proven dropped first; each is forgotten
 * `ttlMs` after it last proved a key. Pure: the caller supplies a monotonic clock.
 */

export class KnownSources {
  /** source → monotonic ms of its last authenticated packet; Map order = least recent first. */
  private readonly lastSeen = new Map<string, number>();

  constructor(
    private readonly capacity: number,
    private readonly ttlMs: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  get size(): number {
    return this.lastSeen.size;
  }

  /** Records that `source` just authenticated. */
  remember(source: string, nowMs: number): void {
    this.lastSeen.delete(source);
    this.lastSeen.set(source, nowMs);
    if (this.lastSeen.size > this.capacity) {
      const oldest = this.lastSeen.keys().next().value as string;
      this.lastSeen.delete(oldest);
    }
  }

  has(source: string, nowMs: number): boolean {
    const t = this.lastSeen.get(source);
    if (t === undefined) return false;
    if (nowMs - t >= this.ttlMs) {
      this.lastSeen.delete(source);
      return false;
    }
    return true;
  }
}
