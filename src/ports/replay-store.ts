/**
 * Where accepted SPA packets are remembered so that none is accepted twice, across restarts and
 * crashes. The local default is a journal file (stores/replay-journal.ts); stores/replay-memory.ts
 * keeps them for the life of the process only (tests, --dry-run); a shared store for a fleet of
 * gateways (Redis/Valkey) will implement the same interface.
 *
 * The authoritative operations are asynchronous, because a network store cannot answer
 * synchronously. Beside them each store offers a local, synchronous cache (`local`) that may
 * only ever say "recorded": the fwknop door consults it before any HMAC, so that a flood of one
 * captured packet costs one SHA-256 and no round trip. Why a split rather than an async lookup:
 * that early check is a flood defence, and a defence that must wait for the network (or even a
 * turn of the event loop per datagram) before shedding a packet is no defence; the durable
 * check-and-record (admit) stays the one that decides.
 */

import type { ReplayOwner, ReplayVerdict } from '../core/replay-window.js';

/**
 * What this process knows is recorded. seen(key) is true only when `key` is recorded and has not
 * expired, so refusing the packet is right; false means "not known here" (a fleet store may hold
 * it): never a reason to grant, only to go on to the ladder and admit().
 */
export interface LocalReplayCache {
  seen(key: string): boolean;
}

export interface ReplayStore {
  /**
   * Atomically checks and records `key`. Resolves 'fresh' only once the record is durable (a grant
   * may then be made), 'replayed' if the key was recorded before and has not expired, 'full' if
   * the store is at capacity. Rejects (KG_STATE_WRITE_FAILED) if the record could not be made
   * durable: the caller must then refuse the packet. With `owner` (who authenticated the packet,
   * and its timestamp), 'behind-high-water' if that owner has had a packet accepted that is newer
   * by the window or more: the owner's high-water mark must be as durable as the records;
   * 'owner-full' if that owner holds its quota of live records (others are still admitted).
   */
  admit(key: string, expiresAtMs: number, owner?: ReplayOwner): Promise<ReplayVerdict>;
  /** The cheap early check, recording nothing; admit() is still the authoritative check-and-record. */
  readonly local: LocalReplayCache;
  /** Records this process holds (for `knockgate status`; a shared store may hold more). */
  readonly size: number;
  /** Records this process may hold at most (spa.max_replay_entries). */
  readonly capacity: number;
  close(): Promise<void>;
}
