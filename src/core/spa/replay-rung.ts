/**
 * The replay rung's outcome as a door's reject reason: one table per door kind, so that every way
 * the store can refuse a packet has its own name in core/reasons.ts (and its own counter), and a
 * store that failed is a refusal like any other (fail closed). Pure.
 */

import type { FwknopRejectReason, SpaRejectReason } from '../reasons.js';
import type { ReplayOutcome } from './ladder-step.js';

export type ReplayRefusal = Exclude<ReplayOutcome, 'fresh'>;

export const SPA_REPLAY_REASONS: Readonly<Record<ReplayRefusal, SpaRejectReason>> = {
  replayed: 'spa-replayed',
  full: 'spa-replay-store-full',
  'store-failed': 'spa-replay-store-failed',
  'behind-high-water': 'spa-replay-high-water',
  'owner-full': 'spa-replay-client-quota',
};

export const FWKNOP_REPLAY_REASONS: Readonly<Record<ReplayRefusal, FwknopRejectReason>> = {
  replayed: 'fwknop-replayed',
  full: 'fwknop-replay-store-full',
  'store-failed': 'fwknop-replay-store-failed',
  'behind-high-water': 'fwknop-replay-high-water',
  'owner-full': 'fwknop-replay-client-quota',
};

/** The reason to refuse with, or null when the record was made ('fresh': the ladder goes on). */
export function replayRefusal<R extends string>(
  table: Readonly<Record<ReplayRefusal, R>>,
  outcome: ReplayOutcome,
): R | null {
  return outcome === 'fresh' ? null : table[outcome];
}
