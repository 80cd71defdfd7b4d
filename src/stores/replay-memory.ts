/**
 * A ReplayStore held in memory only: the same window (core/replay-window.ts), capacity, per-owner
 * quota and high-water marks as the journal, and nothing on disk. A packet accepted is never
 * accepted again while the process lives, and is forgotten when it ends: for unit tests that drive
 * the daemon's handlers in process and for --dry-run, never for a daemon that grants.
 *
 * admit() answers on a later microtask, as a store that must wait for a disk or the network does,
 * so callers cannot come to depend on a synchronous answer. After close() every admit() is refused
 * (KG_STATE_WRITE_FAILED): the caller must then refuse the packet, as with a journal that cannot
 * write.
 */

import { KnockgateError } from '../core/errors.js';
import { ReplayWindow, type ReplayOwner, type ReplayVerdict } from '../core/replay-window.js';
import type { LocalReplayCache, ReplayStore } from '../ports/replay-store.js';

export class MemoryReplayStore implements ReplayStore {
  private readonly window: ReplayWindow;
  private closed = false;
  readonly local: LocalReplayCache = { seen: (key) => this.window.has(key, this.nowMs()) };

  /** `nowMs`: wall-clock Unix milliseconds, the clock expiries are in. */
  constructor(
    capacity: number,
    private readonly nowMs: () => number,
    perOwnerCapacity: number = capacity,
  ) {
    this.window = new ReplayWindow(capacity, perOwnerCapacity);
  }

  /** Keys held, live or kept for an owner's high-water mark. */
  get size(): number {
    return this.window.size;
  }

  get capacity(): number {
    return this.window.capacity;
  }

  async admit(key: string, expiresAtMs: number, owner?: ReplayOwner): Promise<ReplayVerdict> {
    await Promise.resolve();
    if (this.closed) throw new KnockgateError('KG_STATE_WRITE_FAILED', 'the in-memory replay store is closed');
    return this.window.admit(key, expiresAtMs, this.nowMs(), owner);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
