/**
 * At start, the grants the kernel still holds (Gate.install's answer, one element per source and
 * port) are matched with the labels recorded before the restart (ports/grant-records.ts) by
 * (source, port), sources compared in their canonical text: each record that still has an element
 * comes back with its id, door, client and start, the ports the kernel still holds, and the
 * kernel's time left (the longest of its elements: the kernel, not the record, says when access
 * ends). Records without an element are dropped (their grant ran out or was removed meanwhile);
 * elements no record names come back as one grant per source with door UNKNOWN_DOOR, since the
 * time of adoption. Pure: `nowMs` (monotonic) and `nowUnixMs` are arguments; ids come from `newId`.
 */

import { formatAddressPrefix, parseAddressPrefix } from '../core/address-prefix.js';
import { type Endpoint, endpointKey, formatEndpoint } from '../core/endpoint.js';
import type { ActiveGrant } from '../ports/gate.js';
import type { StoredGrant } from '../ports/grant-records.js';
import type { GrantRecord } from './grants.js';

/** The door of a grant found in the kernel that no record names (not a valid door name, on purpose). */
export const UNKNOWN_DOOR = '(unknown)';

interface Adopting {
  readonly base: Omit<GrantRecord, 'endpoints' | 'expiresAtMs'>;
  readonly endpoints: Map<number, Endpoint>;
  leftS: number;
}

export function adoptGrants(
  kept: readonly ActiveGrant[],
  stored: readonly StoredGrant[],
  now: { readonly nowMs: number; readonly nowUnixMs: number },
  newId: () => string,
): GrantRecord[] {
  const byKey = new Map<string, StoredGrant[]>();
  for (const r of stored)
    for (const port of r.ports) {
      const key = `${canonical(r.source)}|${port}`;
      byKey.set(key, [...(byKey.get(key) ?? []), r]);
    }
  const adopted = new Map<string, Adopting>();
  const take = (id: string, base: () => Adopting['base'], el: ActiveGrant): void => {
    const a = adopted.get(id) ?? { base: base(), endpoints: new Map(), leftS: 0 };
    a.endpoints.set(endpointKey(el.endpoint.proto, el.endpoint.port), el.endpoint);
    a.leftS = Math.max(a.leftS, el.expiresInS);
    adopted.set(id, a);
  };
  const unknownBySource = new Map<string, string>();
  for (const el of kept) {
    const source = canonical(el.source);
    const records = byKey.get(`${source}|${formatEndpoint(el.endpoint)}`) ?? [];
    for (const r of records)
      take(
        r.id,
        () => ({
          id: r.id,
          door: r.door,
          source: r.source,
          family: r.family,
          client: r.client,
          sinceUnixMs: r.sinceUnixMs,
        }),
        el,
      );
    if (records.length > 0) continue;
    const id = unknownBySource.get(source) ?? newId();
    unknownBySource.set(source, id);
    take(id, () => ({ id, door: UNKNOWN_DOOR, source, family: el.family, sinceUnixMs: now.nowUnixMs }), el);
  }
  return [...adopted.values()]
    .filter((a) => a.leftS > 0)
    .map((a) => ({ ...a.base, endpoints: [...a.endpoints.values()], expiresAtMs: now.nowMs + a.leftS * 1000 }));
}

/** The book's records as they are stored (wall-clock end). */
export function storedGrants(
  records: readonly GrantRecord[],
  now: { readonly nowMs: number; readonly nowUnixMs: number },
): StoredGrant[] {
  return records.map((g) => ({
    id: g.id,
    door: g.door,
    source: g.source,
    family: g.family,
    ports: g.endpoints.map(formatEndpoint),
    ...(g.client !== undefined ? { client: g.client } : {}),
    sinceUnixMs: Math.round(g.sinceUnixMs),
    untilUnixMs: Math.round(now.nowUnixMs + (g.expiresAtMs - now.nowMs)),
  }));
}

/** Whether two sources are the same address or network, however written. */
export function sameSource(a: string, b: string): boolean {
  return canonical(a) === canonical(b);
}

function canonical(source: string): string {
  const p = parseAddressPrefix(source);
  return 'error' in p ? source : formatAddressPrefix(p.address, p.prefix);
}
