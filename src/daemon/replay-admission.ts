/**
 * The replay rung's I/O, as both SPA handlers (native and fwknop) take it: the core's replay
 * check (core/spa/ladder-step.ts) checked and recorded durably in the store, and every way that
 * can end turned into one outcome for the core. A store that cannot write refuses the packet
 * (`store-failed`: fail closed) and says so in the log.
 */

import type { ReplayCheck, ReplayOutcome } from '../core/spa/ladder-step.js';
import type { Logger } from '../ports/logger.js';
import type { ReplayStore } from '../ports/replay-store.js';

export async function admitReplay(replay: ReplayStore, check: ReplayCheck, log: Logger): Promise<ReplayOutcome> {
  try {
    return await replay.admit(check.key, check.expiresAtMs, check.owner);
  } catch (err) {
    log.error(
      { event: 'replay-store-failed', error: (err as Error).message },
      'replay store write failed; packet refused',
    );
    return 'store-failed';
  }
}
