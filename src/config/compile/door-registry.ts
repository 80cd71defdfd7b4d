/**
 * The rules that look across doors before any door is compiled: door names are unique, no two
 * doors receive SPA on the same UDP port, and no door's SPA port is a port another door opens
 * (a packet to it would be both a knock and protected traffic), and no port is guarded on both the
 * input and the forward path.
 *
 * Contract: returns, for the door compilers, which door opens each protected port and which door
 * receives on each SPA port; the first violation, in file order, is a ConfigError.
 */

import { endpointKey } from '../../core/endpoint.js';
import type { LocatedYaml } from '../located-yaml.js';
import type { RawConfig, RawDoor } from '../schema.js';
import { failAt } from './context.js';

export interface DoorRegistry {
  /** Protected port (endpointKey) → the name of the door that opens it (the last one listed). */
  readonly openedBy: ReadonlyMap<number, string>;
  /** SPA or fwknop UDP port → the name of the door that receives on it. */
  readonly spaPortOf: ReadonlyMap<number, string>;
}

/** Where a native SPA or fwknop door receives its datagrams, and the key that says so; null for knock doors. */
export function listenKeyOf(d: RawDoor): { readonly key: 'spa' | 'fwknop'; readonly port: number } | null {
  return d.spa ? { key: 'spa', port: d.spa.port } : d.fwknop ? { key: 'fwknop', port: d.fwknop.port } : null;
}

export type DoorPath = 'input' | 'forward';

/** `forward` for a door with `hook: forward` or `nat:` (its ports are guarded before any DNAT). */
export function doorPathOf(d: RawDoor): DoorPath {
  return d.hook === 'forward' || d.nat !== undefined ? 'forward' : 'input';
}

export function registerDoors(src: LocatedYaml, raw: RawConfig): DoorRegistry {
  const names = new Set<string>();
  const openedBy = new Map<number, string>();
  const spaPortOf = new Map<number, string>();
  const pathOf = new Map<number, { readonly door: string; readonly path: DoorPath }>();
  raw.doors.forEach((d, i) => {
    if (names.has(d.name)) failAt(src, ['doors', i, 'name'], `door name ${JSON.stringify(d.name)} is used twice`);
    names.add(d.name);
    const path = doorPathOf(d);
    d.open.forEach((e, s) => {
      const key = endpointKey(e.proto, e.port);
      const other = pathOf.get(key);
      // A grant names (source, protocol, port), not a path: one port on both paths would let a
      // grant from one door through the other door's guard.
      if (other !== undefined && other.path !== path)
        failAt(
          src,
          ['doors', i, 'open', s],
          `door ${JSON.stringify(other.door)} guards ${e.port}/${e.proto} on the ${other.path} path and this door on the ${path} path; a grant names a port, not a path, so give them different ports`,
        );
      pathOf.set(key, { door: d.name, path });
      openedBy.set(key, d.name);
    });
    const listen = listenKeyOf(d);
    if (listen) {
      const other = spaPortOf.get(listen.port);
      if (other !== undefined)
        failAt(
          src,
          ['doors', i, listen.key, 'port'],
          `door ${JSON.stringify(other)} already receives SPA on ${listen.port}/udp`,
        );
      spaPortOf.set(listen.port, d.name);
    }
  });
  // Only once every door's "open" list is known: a later door may open an earlier door's SPA port.
  raw.doors.forEach((d, i) => {
    const listen = listenKeyOf(d);
    const owner = listen ? openedBy.get(endpointKey('udp', listen.port)) : undefined;
    if (listen && owner !== undefined)
      failAt(
        src,
        ['doors', i, listen.key, 'port'],
        `${listen.port}/udp is a port that door ${JSON.stringify(owner)} opens`,
      );
  });
  return { openedBy, spaPortOf };
}
