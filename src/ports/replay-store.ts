/**
 * Where accepted SPA packets are remembered so that none is accepted twice, across restarts and
 * crashes. The local default is a journal file (stores/replay-journal.ts); a shared store for a
 * fleet of gateways (Redis/Valkey) will implement the same interface.
 */

import type { ReplayOwner, ReplayVerdict } from '../core/replay-window.js';

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
  /**
   * Whether `key` was recorded and has not expired, recording nothing: the cheap early check
   * (fwknop packets are looked up by digest before any decryption). admit() is still the
   * authoritative check-and-record.
   */
  seen(key: string): boolean;
  close(): Promise<void>;
}
