/**
 * The `stats` log line (on SIGUSR1 and at stop) from a metrics snapshot: one flat key per figure,
 * summed over doors, with the names logged since the first release (`frames_dropped_ip-fragment`,
 * `knocks_wrong_step`, `spa_rejected_mac1`, `grants_opened`, `sequences_timedOut`,
 * `capture_received`, `live_grants`, ...): operators' alerts read them, so they do not change.
 *
 * A counter the daemon keeps appears once it has counted something (as before the labels: an
 * absent key means "never happened"); a collected figure appears whenever its owner reports it.
 */

import type { MetricFamilySnapshot } from '../ports/metrics.js';

interface FlatKey {
  readonly key: (labels: Readonly<Record<string, string>>) => string;
  /** Kept by the daemon (omitted while zero) rather than collected from a part. */
  readonly counted: boolean;
}

const counted = (key: FlatKey['key']): FlatKey => ({ key, counted: true });
const collected = (key: FlatKey['key']): FlatKey => ({ key, counted: false });

const KEYS: ReadonlyMap<string, FlatKey> = new Map([
  ['knockgate_frames_total', counted(() => 'frames_total')],
  ['knockgate_frames_dropped_total', counted((l) => `frames_dropped_${l.reason}`)],
  ['knockgate_knocks_total', counted((l) => `knocks_${underscored(l.outcome)}`)],
  ['knockgate_datagrams_total', counted((l) => `${l.kind}_datagrams_total`)],
  ['knockgate_datagrams_accepted_total', counted((l) => `${l.kind}_accepted`)],
  ['knockgate_datagrams_rejected_total', counted((l) => rejectKey(l.reason))],
  ['knockgate_spa_old_server_key_total', counted((l) => `spa_server_key_${l.server_key}`)],
  ['knockgate_grant_events_total', counted((l) => `grants_${l.event}`)],
  ['knockgate_commands_refused_total', counted(() => 'commands_refused')],
  ['knockgate_audit_write_failures_total', counted(() => 'audit_write_failures')],
  ['knockgate_sequences_tracked', collected(() => 'sequences_tracked')],
  ['knockgate_sequences_timed_out_total', collected(() => 'sequences_timedOut')],
  ['knockgate_sequences_evicted_total', collected(() => 'sequences_evicted')],
  ['knockgate_capture_packets_total', collected((l) => `capture_${l.outcome}`)],
  ['knockgate_socket_packets_total', collected((l) => `socket_${l.outcome}`)],
  ['knockgate_sensor_packets_total', collected((l) => `sensor_${l.outcome}`)],
  ['knockgate_sensor_records_dropped_total', counted((l) => `sensor_dropped_${l.reason}`)],
  ['knockgate_grants_active', collected(() => 'live_grants')],
]);

/** The flat figures of `snapshot`; a family without a stats-line key is left out. */
export function statsLine(snapshot: readonly MetricFamilySnapshot[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const family of snapshot) {
    const flat = KEYS.get(family.name);
    if (flat === undefined) continue;
    for (const s of family.samples) {
      if (flat.counted && s.value === 0) continue;
      const key = flat.key(s.labels);
      out[key] = (out[key] ?? 0) + s.value;
    }
  }
  return out;
}

function underscored(v: string | undefined): string {
  return (v ?? '').replace(/-/g, '_');
}

/** `spa-mac1` → `spa_rejected_mac1`, `fwknop-stale` → `fwknop_rejected_stale`. */
function rejectKey(reason: string | undefined): string {
  const r = reason ?? '';
  const dash = r.indexOf('-');
  return `${r.slice(0, dash)}_rejected_${underscored(r.slice(dash + 1))}`;
}
