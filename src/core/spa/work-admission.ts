/**
 * Who may make the daemon do expensive work before it knows who they are (native SPA: the key
 * agreement and signature past MAC1; fwknop: one HMAC per distinct key a packet must be tried
 * against). A source that proved a key lately spends its own allowance (core/known-sources.ts);
 * beyond it, or any other source, takes `cost` from the budget shared by the doors of its kind
 * (core/work-budget.ts). Pure: the state is passed in, the time is an argument (monotonic ms).
 */

import type { KnownSources } from '../known-sources.js';
import type { WorkBudget } from '../work-budget.js';

/** The state a door kind shares across its doors. */
export interface WorkAllowance {
  readonly knownSources: KnownSources;
  readonly budget: WorkBudget;
}

/** `source`: the address in canonical text (core/ip-address.ts formatIPAddress). */
export function admitUnprovenWork(allowance: WorkAllowance, source: string, nowMs: number, cost = 1): boolean {
  return allowance.knownSources.admit(source, nowMs) || allowance.budget.take(nowMs, cost);
}
