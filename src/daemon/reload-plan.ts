/**
 * What a reload changes, decided before anything is touched: the settings that only a restart can
 * change (refused, naming each, so that a reload is all or nothing), and what the log and
 * `knockgate reload` report: the doors added, removed and changed, and each kept door's clients
 * added and removed. Pure: compares two frozen configurations.
 */

import { KeyObject } from 'node:crypto';
import type { Config } from '../config/config.js';
import type { ReloadResult } from '../control/protocol.js';
import type { Door } from '../core/door.js';
import { KnockgateError } from '../core/errors.js';

/** What changed, by name. `clients_*` are by door, only for doors kept (an added door's clients are new). */
export type ReloadChanges = Pick<
  ReloadResult,
  'doors_added' | 'doors_removed' | 'doors_changed' | 'clients_added' | 'clients_removed'
>;

/**
 * The settings held by something opened once at start (the table's lock and control socket, the
 * PID and log files, the metrics listener, the state files, the firewall-log sensor), by their YAML keys.
 */
const RESTART_ONLY: readonly (readonly [string, (c: Config) => unknown])[] = [
  ['nft_table', (c) => c.nftTable],
  ['firewall', (c) => c.firewall],
  ['sensor', (c) => c.sensor],
  ['pid_file', (c) => c.pidFile],
  ['log_file', (c) => c.logFile],
  ['syslog', (c) => c.syslog],
  ['log_level', (c) => c.logLevel],
  ['pending_commands', (c) => c.pendingCommands],
  ['metrics', (c) => c.metrics],
  ['audit_log', (c) => c.audit],
  ['spa.replay_journal', (c) => c.spa?.replayJournal ?? null],
  ['spa.max_replay_entries', (c) => c.spa?.maxReplayEntries ?? null],
  ['spa.max_replay_entries_per_client', (c) => c.spa?.maxReplayEntriesPerClient ?? null],
];

/** Throws KG_RELOAD_REFUSED naming every restart-only setting `next` changes. */
export function refuseRestartOnlyChanges(current: Config, next: Config): void {
  const changed = RESTART_ONLY.filter(([, read]) => fingerprint(read(current)) !== fingerprint(read(next))).map(
    ([key]) => key,
  );
  if (changed.length > 0)
    throw new KnockgateError(
      'KG_RELOAD_REFUSED',
      `${next.file}: ${changed.join(', ')} changed; ${changed.length === 1 ? 'it takes' : 'they take'} a restart of knockgated (nothing was applied)`,
    );
}

export function reloadChanges(current: Config, next: Config): ReloadChanges {
  const before = new Map(current.doors.map((d) => [d.name, d]));
  const after = new Map(next.doors.map((d) => [d.name, d]));
  const clientsAdded: Record<string, string[]> = {};
  const clientsRemoved: Record<string, string[]> = {};
  const changed: string[] = [];
  for (const [name, door] of after) {
    const old = before.get(name);
    if (old === undefined || fingerprint(old) === fingerprint(door)) continue;
    changed.push(name);
    const was = new Set(clientsOf(old));
    const is = new Set(clientsOf(door));
    const added = [...is].filter((c) => !was.has(c));
    const removed = [...was].filter((c) => !is.has(c));
    if (added.length > 0) clientsAdded[name] = added;
    if (removed.length > 0) clientsRemoved[name] = removed;
  }
  return {
    doors_added: [...after.keys()].filter((n) => !before.has(n)),
    doors_removed: [...before.keys()].filter((n) => !after.has(n)),
    doors_changed: changed,
    clients_added: clientsAdded,
    clients_removed: clientsRemoved,
  };
}

/** True when nothing a door does changed (the report's three door lists are empty). */
export function noDoorChanged(c: ReloadChanges): boolean {
  return c.doors_added.length + c.doors_removed.length + c.doors_changed.length === 0;
}

/** A door's clients by name: SPA clients, or fwknop stanzas by their SOURCE line's place. */
function clientsOf(door: Door): string[] {
  if (door.spa) return door.spa.clients.map((c) => c.name);
  if (door.fwknop) return door.fwknop.stanzas.map((s) => s.origin);
  return [];
}

/** A text that is equal for equal settings: keys as hex, sets and maps as lists, big integers as text. */
function fingerprint(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
    if (v instanceof KeyObject) return v.export({ format: 'der', type: 'spki' }).toString('hex');
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Set) return [...v];
    if (v instanceof Map) return [...v.entries()];
    return v;
  });
}
