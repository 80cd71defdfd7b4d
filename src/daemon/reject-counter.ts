/**
 * The counter a rejection reason is counted under: `spa-mac1` → `spa_rejected_mac1`,
 * `fwknop-stale` → `fwknop_rejected_stale`. Built once, at load, from the closed lists in
 * core/reasons.ts: rejection is the hot path of a flood, and this is called for every datagram
 * refused. The names are part of the interface (docs and dashboards use them): they follow from
 * the reasons and nothing else.
 */

import { FWKNOP_REJECT_REASONS, SPA_REJECT_REASONS, type SpaDoorRejectReason } from '../core/reasons.js';

function counterName(reason: string): string {
  const dash = reason.indexOf('-');
  return `${reason.slice(0, dash)}_rejected_${reason.slice(dash + 1).replace(/-/g, '_')}`;
}

const NAMES: ReadonlyMap<string, string> = new Map(
  [...SPA_REJECT_REASONS, ...FWKNOP_REJECT_REASONS].map((r) => [r, counterName(r)]),
);

export function rejectCounter(reason: SpaDoorRejectReason): string {
  return NAMES.get(reason) as string;
}

/** Every counter a rejection can be counted under, in the order of the reason lists. */
export function rejectCounterNames(): string[] {
  return [...NAMES.values()];
}
