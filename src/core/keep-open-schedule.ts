/**
 * When `knockgate keep-open` knocks: pure arithmetic on milliseconds, no clock of its own.
 *
 * A knock asks for a grant of `durationS`; the server's grant starts when the datagram arrives,
 * which is no earlier than when the knock started. Knocking again `refreshIntervalMs` after the
 * start of the last knock that was sent therefore leaves at least `refreshMarginMs` of the old
 * grant for the new datagram to arrive and extend it (the daemon extends a grant in place: the
 * later expiry wins). The margin is max(3 s, 25 %) of the grant, capped at half of it, so that a
 * short grant is still refreshed before it ends and a long one is not knocked every few seconds.
 *
 * A knock that could not be sent is retried after 1 s, 2 s, 4 s, ... capped at 60 s and at the
 * refresh interval (at least 1 s): never more than once a second, and never waiting longer than a
 * working client would, so that after a short outage a knock still comes before the last grant ends.
 */

import {
  KEEP_OPEN_MARGIN_PERCENT,
  KEEP_OPEN_MIN_DURATION_S,
  KEEP_OPEN_MIN_MARGIN_MS,
  KEEP_OPEN_RETRY_BASE_MS,
  KEEP_OPEN_RETRY_MAX_MS,
  MAX_GRANT_DURATION_S,
} from './limits.js';

/** Null when keep-open can keep a grant of `durationS` open; else why not. */
export function keepOpenDurationProblem(durationS: number): string | null {
  if (!Number.isInteger(durationS) || durationS < KEEP_OPEN_MIN_DURATION_S || durationS > MAX_GRANT_DURATION_S)
    return `keep-open needs a grant of whole seconds from ${KEEP_OPEN_MIN_DURATION_S}s to ${MAX_GRANT_DURATION_S}s, got ${durationS}s`;
  return null;
}

function checked(durationS: number): number {
  const problem = keepOpenDurationProblem(durationS);
  if (problem !== null) throw new RangeError(problem);
  return durationS * 1000;
}

/** How long before a grant of `durationS` ends keep-open knocks again. */
export function refreshMarginMs(durationS: number): number {
  const ms = checked(durationS);
  const wanted = Math.max(KEEP_OPEN_MIN_MARGIN_MS, Math.ceil((ms * KEEP_OPEN_MARGIN_PERCENT) / 100));
  return Math.min(wanted, Math.floor(ms / 2));
}

/** From the start of one knock that was sent to the start of the next. */
export function refreshIntervalMs(durationS: number): number {
  return checked(durationS) - refreshMarginMs(durationS);
}

/** The wait after the `failures`-th failed knock in a row (1, 2, ...). */
export function retryDelayMs(failures: number, durationS: number): number {
  if (!Number.isInteger(failures) || failures < 1) throw new RangeError('failures counts from 1');
  const doubled = KEEP_OPEN_RETRY_BASE_MS * 2 ** Math.min(failures - 1, 30);
  const cap = Math.max(KEEP_OPEN_RETRY_BASE_MS, Math.min(KEEP_OPEN_RETRY_MAX_MS, refreshIntervalMs(durationS)));
  return Math.min(doubled, cap);
}

/**
 * The wait before the next knock, given when the last one started and whether it was sent: a sent
 * knock is followed one refresh interval after its start (less the time it took, never below 0);
 * a failed one by the backoff of the failures so far.
 */
export function nextKnockDelayMs(o: {
  readonly durationS: number;
  readonly lastStartMs: number;
  readonly nowMs: number;
  /** Failed knocks in a row, the last one included; 0 after a knock that was sent. */
  readonly failures: number;
}): number {
  if (o.failures > 0) return retryDelayMs(o.failures, o.durationS);
  return Math.max(0, o.lastStartMs + refreshIntervalMs(o.durationS) - o.nowMs);
}
