/**
 * The one list of who holds what, until when: one record per (door, source), with the endpoints
 * it opened, the client that asked (SPA), when it was first opened, when it runs out, and the
 * durable record of its stop command. It is the single source of truth that `knockgate status`,
 * `grants`, `revoke`, `extend` and the metrics will read; nothing else keeps grant state (the
 * gate's own expiry mirror only spares the kernel redundant work).
 *
 * What must hold: a record's expiry only moves later (a knock never shortens access); its
 * endpoints only grow (an extension may open more ports, all of which the gate holds until the
 * record runs out); when a record runs out it leaves the list before `onExpire` is called, exactly
 * once; a record removed (stop, or later revoke) never expires. `onChange` is called after every
 * change but clear() (at stop the grants stay in the kernel, and so do their labels on disk: the
 * daemon persists the list through it, ports/grant-records.ts).
 */

import { randomUUID } from 'node:crypto';
import { endpointKey, type Endpoint } from '../core/endpoint.js';
import type { Clock, Timer } from '../ports/clock.js';

export interface GrantRecord {
  /** Stable for the life of the grant (extensions keep it): what `revoke` will name. */
  readonly id: string;
  readonly door: string;
  readonly source: string;
  readonly family: 4 | 6;
  readonly endpoints: readonly Endpoint[];
  /** The SPA client (or fwknop stanza) that asked; undefined for a knock sequence. */
  readonly client?: string;
  /** When it was first opened, wall-clock Unix ms. */
  readonly sinceUnixMs: number;
  /** When it runs out, monotonic ms. */
  readonly expiresAtMs: number;
  /** The id of its durable stop_command record, if it has one. */
  readonly stopCommandId?: string;
}

/** What a grant (or an extension) adds. */
export interface GrantChange {
  readonly door: string;
  readonly source: string;
  readonly family: 4 | 6;
  readonly endpoints: readonly Endpoint[];
  readonly client?: string;
  readonly expiresAtMs: number;
  readonly stopCommandId?: string;
  /** The id a first grant takes (the grantor names it before booking, for the audit record). */
  readonly id?: string;
}

interface Entry {
  record: GrantRecord;
  timer: Timer;
}

export class GrantBook {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly onChange: () => void = () => {},
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(door: string, source: string): GrantRecord | undefined {
    return this.entries.get(keyOf(door, source))?.record;
  }

  /** Every live grant, in the order they were first opened. */
  list(): readonly GrantRecord[] {
    return [...this.entries.values()].map((e) => e.record);
  }

  /**
   * Opens a grant, or extends the one this door holds for this source (its id, start, client and
   * stop record kept unless the change names new ones; its expiry the later of the two). Returns
   * the record as it now stands. `onExpire` replaces the one given before.
   */
  put(change: GrantChange, onExpire: (expired: GrantRecord) => void): GrantRecord {
    const key = keyOf(change.door, change.source);
    const old = this.entries.get(key);
    const record: GrantRecord = {
      id: old?.record.id ?? change.id ?? randomUUID(),
      door: change.door,
      source: change.source,
      family: change.family,
      endpoints: old ? unionEndpoints(old.record.endpoints, change.endpoints) : [...change.endpoints],
      client: change.client ?? old?.record.client,
      sinceUnixMs: old?.record.sinceUnixMs ?? this.clock.unixMs(),
      expiresAtMs: Math.max(old?.record.expiresAtMs ?? 0, change.expiresAtMs),
      stopCommandId: change.stopCommandId ?? old?.record.stopCommandId,
    };
    this.set(record, onExpire);
    return record;
  }

  /**
   * Books a grant found in the kernel at start as it was recorded before (its id, door, client and
   * start kept; its expiry what the kernel has left). Replaces what the book holds for its door and source.
   */
  adopt(record: GrantRecord, onExpire: (expired: GrantRecord) => void): GrantRecord {
    this.set(record, onExpire);
    return record;
  }

  private set(record: GrantRecord, onExpire: (expired: GrantRecord) => void): void {
    const key = keyOf(record.door, record.source);
    this.entries.get(key)?.timer.cancel();
    const timer = this.clock.after(record.expiresAtMs - this.clock.nowMs(), () => {
      if (this.entries.get(key)?.record !== record) return;
      this.entries.delete(key);
      this.onChange();
      onExpire(record);
    });
    this.entries.set(key, { record, timer });
    this.onChange();
  }

  /** Takes a grant off the list without expiring it (its timer will not fire); undefined if absent. */
  remove(door: string, source: string): GrantRecord | undefined {
    const key = keyOf(door, source);
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    e.timer.cancel();
    this.entries.delete(key);
    this.onChange();
    return e.record;
  }

  /** At stop: every timer cancelled, the list emptied; returns what it held. */
  clear(): readonly GrantRecord[] {
    const all = this.list();
    for (const e of this.entries.values()) e.timer.cancel();
    this.entries.clear();
    return all;
  }
}

function keyOf(door: string, source: string): string {
  return `${door}|${source}`;
}

/** Both lists' endpoints, each once. */
export function unionEndpoints(a: readonly Endpoint[], b: readonly Endpoint[]): Endpoint[] {
  const seen = new Map<number, Endpoint>();
  for (const e of [...a, ...b]) seen.set(endpointKey(e.proto, e.port), e);
  return [...seen.values()];
}
