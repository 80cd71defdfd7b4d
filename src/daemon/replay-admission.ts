/**
 * The replay rung as both SPA handlers (native and fwknop) take it: check-and-record durably, and
 * turn every way it can end into one outcome. A store that cannot write refuses the packet
 * (fail closed) and says so once in the log.
 */

import type { Logger } from '../ports/logger.js';
import type { ReplayStore } from '../ports/replay-store.js';
import type { ReplayOwner, ReplayVerdict } from '../core/replay-window.js';

export type ReplayAdmission = 'fresh' | 'replayed' | 'replay-store-full' | 'replay-store-failed' | 'replay-high-water' | 'replay-client-quota';

const ADMISSION: Readonly<Record<ReplayVerdict, ReplayAdmission>> = {
  fresh: 'fresh',
  replayed: 'replayed',
  full: 'replay-store-full',
  'behind-high-water': 'replay-high-water',
  'owner-full': 'replay-client-quota',
};

export async function admitReplay(replay: ReplayStore, key: string, expiresAtMs: number, log: Logger, owner?: ReplayOwner): Promise<ReplayAdmission> {
  try {
    return ADMISSION[await replay.admit(key, expiresAtMs, owner)];
  } catch (err) {
    log.error({ event: 'replay-store-failed', error: (err as Error).message }, 'replay store write failed; packet refused');
    return 'replay-store-failed';
  }
}
