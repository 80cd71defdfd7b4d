/**
 * When an SPA packet's timestamp is fresh, and how long its replay record must live: one rule for
 * native SPA and fwknop, so the two checks can never disagree.
 *
 * Contract: a packet is fresh when |now - timestamp| < window (strictly). Its replay record
 * expires at timestamp + window + REPLAY_RETENTION_MARGIN_MS. So for every instant at which the
 * packet is fresh, its record is still live (now < timestamp + window < expiry): there is no
 * millisecond where a copy is fresh while the original's record has lapsed. The margin also
 * absorbs a clock read a little later than the one the freshness check used. Pure: times are
 * arguments (Unix milliseconds).
 */

import { REPLAY_RETENTION_MARGIN_MS } from './limits.js';

export interface Freshness {
  readonly fresh: boolean;
  /** now - timestamp: positive when the packet is from the past. */
  readonly skewMs: number;
}

export function checkFreshness(timestampMs: number, nowMs: number, windowMs: number): Freshness {
  const skewMs = nowMs - timestampMs;
  return { fresh: Math.abs(skewMs) < windowMs, skewMs };
}

/** When the replay record of a packet with this timestamp may be forgotten. */
export function replayExpiryMs(timestampMs: number, windowMs: number): number {
  return timestampMs + windowMs + REPLAY_RETENTION_MARGIN_MS;
}

/**
 * A stale packet's skew in words whose sign cannot be misread: "client clock 600 s ahead" (its
 * timestamp is in this server's future) or "client clock 600 s behind" (in its past; also what an
 * old, replayed or long-delayed packet looks like).
 */
export function describeSkew(skewMs: number): string {
  const s = Math.round(Math.abs(skewMs) / 1000);
  if (skewMs < 0) return `client clock ${s} s ahead of this server's`;
  return `client clock ${s} s behind this server's (or the packet is that old)`;
}
