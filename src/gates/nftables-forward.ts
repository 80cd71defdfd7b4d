/**
 * The forward-path part of knockgate's nftables table (doors with `hook: forward` or `nat:`), as
 * libnftables JSON commands. Pure: builds data, runs nothing. Added to installBatch()'s batch.
 *
 *   set forwarded           inet_proto . inet_service: the ports forward-path doors guard.
 *   chain forward_gate      hook prerouting, priority mangle (-150): after connection tracking,
 *                           before any DNAT (dstnat is -100), so a port is matched by the number
 *                           clients send to, also for Docker's published ports, which Docker's
 *                           DNAT rewrites before the forward hook would see them:
 *       ct state established,related accept
 *       ip  saddr . l4proto . dport @grants4 accept
 *       ip6 saddr . l4proto . dport @grants6 accept
 *       iifname != { lo, <exempt> }  l4proto . dport @forwarded counter drop
 *   maps nat4_to, nat4_port, nat6_to, nat6_port
 *                           source . inet_proto . inet_service → inner address / inner port,
 *                           flags interval, timeout: one element in each per port-forwarded grant
 *                           (same key and timeout as its grant element, in the same transaction),
 *                           so that two grants of one port can go to two inner hosts (fwknop's
 *                           FORCE_NAT, one inner host per stanza). Two maps because nft 1.0.6's
 *                           JSON parser cannot declare a map with concatenated data.
 *   chain nat_prerouting    (only while a door can forward) hook prerouting, type nat, priority
 *                           dstnat: `meta l4proto { tcp, udp } fib daddr type local dnat ip to ip saddr . l4proto .
 *                           dport map @nat4_to : ip saddr . l4proto . dport map @nat4_port`, and
 *                           the same for ip6: only sources with a port-forwarded grant match; the
 *                           rest were dropped above, or go on to this host as granted.
 *   chain nat_postrouting   (only while a port-forward asks for it) type nat, priority srcnat:
 *                           `ct status dnat ip daddr ADDR tcp dport PORT masquerade` (or `snat ip
 *                           to SNAT`, fwknop's FORCE_SNAT).
 * The grant sets are the input chain's: a grant names (source, protocol, port), and the config
 * refuses a port guarded on both paths (door-registry.ts). As in the input chain, `accept` only
 * ends this chain, and a drop answers nothing. A chain with nothing to do is deleted, so that a
 * host without port-forwards never loads NAT for knockgate.
 */

import { endpointKey, type Endpoint } from '../core/endpoint.js';
import type { GateLayout, NatForward } from '../ports/gate.js';

type NftCommand = Record<string, unknown>;

export const SET_FORWARDED = 'forwarded';
export const MAP_NAT_TO = { 4: 'nat4_to', 6: 'nat6_to' } as const;
export const MAP_NAT_PORT = { 4: 'nat4_port', 6: 'nat6_port' } as const;
export const CHAIN_FORWARD = 'forward_gate';
/** NF_IP_PRI_MANGLE: after conntrack (-200), before DNAT (-100). */
export const CHAIN_FORWARD_PRIORITY = -150;
export const CHAIN_NAT_PRE = 'nat_prerouting';
export const CHAIN_NAT_POST = 'nat_postrouting';
/** NF_IP_PRI_NAT_DST and NF_IP_PRI_NAT_SRC. */
export const NAT_PRE_PRIORITY = -100;
export const NAT_POST_PRIORITY = 100;

const family = 'inet';

export interface ForwardRuleParts {
  /** `iifname != { lo, exempt }` as nft JSON. */
  readonly notExempt: unknown;
  /** `meta l4proto . th dport` as nft JSON. */
  readonly l4key: unknown;
  /** `ip(6) saddr . meta l4proto . th dport == @grants4/6` as nft JSON. */
  readonly grantMatch: (f: 4 | 6) => unknown;
  readonly endpointElems: (endpoints: Iterable<Endpoint>) => unknown[];
}

/** The forward-path objects of `layout`, replacing what an earlier install left. */
export function forwardCommands(table: string, layout: GateLayout, parts: ForwardRuleParts): NftCommand[] {
  const t = { family, table };
  const rule = (chain: string, expr: unknown[]): NftCommand => ({ add: { rule: { ...t, chain, expr } } });
  const chain = (name: string, type: 'filter' | 'nat', prio: number): NftCommand[] => [
    { add: { chain: { ...t, name, type, hook: 'prerouting', prio, policy: 'accept' } } },
    { flush: { chain: { ...t, name } } },
  ];
  const forwarded = parts.endpointElems(layout.forwardedPorts ?? []);
  const cmds: NftCommand[] = [
    { add: { set: { ...t, name: SET_FORWARDED, type: ['inet_proto', 'inet_service'] } } },
    { flush: { set: { ...t, name: SET_FORWARDED } } },
  ];
  if (forwarded.length > 0) cmds.push({ add: { element: { ...t, name: SET_FORWARDED, elem: forwarded } } });
  cmds.push(...chain(CHAIN_FORWARD, 'filter', CHAIN_FORWARD_PRIORITY));
  cmds.push(
    rule(CHAIN_FORWARD, [
      { match: { op: 'in', left: { ct: { key: 'state' } }, right: ['established', 'related'] } },
      { accept: null },
    ]),
    rule(CHAIN_FORWARD, [parts.grantMatch(4), { accept: null }]),
    rule(CHAIN_FORWARD, [parts.grantMatch(6), { accept: null }]),
    rule(CHAIN_FORWARD, [
      parts.notExempt,
      { match: { op: '==', left: parts.l4key, right: `@${SET_FORWARDED}` } },
      { counter: null },
      { drop: null },
    ]),
  );
  for (const f of [4, 6] as const) {
    const type = [f === 4 ? 'ipv4_addr' : 'ipv6_addr', 'inet_proto', 'inet_service'];
    const flags = ['interval', 'timeout'];
    cmds.push(
      { add: { map: { ...t, name: MAP_NAT_TO[f], type, map: f === 4 ? 'ipv4_addr' : 'ipv6_addr', flags } } },
      { add: { map: { ...t, name: MAP_NAT_PORT[f], type, map: 'inet_service', flags } } },
    );
  }
  const nats = uniqueForwards(layout.natForwards ?? []);
  cmds.push(...natChain(t, CHAIN_NAT_PRE, 'prerouting', NAT_PRE_PRIORITY, nats.length > 0));
  if (nats.length > 0)
    for (const f of [4, 6] as const) {
      const key = grantKey(f);
      cmds.push(
        rule(CHAIN_NAT_PRE, [
          { match: { op: '==', left: { meta: { key: 'l4proto' } }, right: { set: ['tcp', 'udp'] } } },
          // Only traffic addressed to this host: a granted source's traffic to other hosts routed
          // through this one keeps its destination.
          { match: { op: '==', left: { fib: { result: 'type', flags: ['daddr'] } }, right: 'local' } },
          {
            dnat: {
              family: f === 4 ? 'ip' : 'ip6',
              addr: { map: { key, data: `@${MAP_NAT_TO[f]}` } },
              port: { map: { key, data: `@${MAP_NAT_PORT[f]}` } },
            },
          },
        ]),
      );
    }
  const masquerades = nats.filter((n) => n.masquerade || n.snatTo);
  cmds.push(...natChain(t, CHAIN_NAT_POST, 'postrouting', NAT_POST_PRIORITY, masquerades.length > 0));
  for (const n of masquerades)
    cmds.push(
      rule(CHAIN_NAT_POST, [
        { match: { op: 'in', left: { ct: { key: 'status' } }, right: 'dnat' } },
        {
          match: {
            op: '==',
            left: { payload: { protocol: n.family === 4 ? 'ip' : 'ip6', field: 'daddr' } },
            right: n.to,
          },
        },
        { match: { op: '==', left: { payload: { protocol: n.from.proto, field: 'dport' } }, right: n.toPort } },
        n.snatTo ? { snat: { family: n.family === 4 ? 'ip' : 'ip6', addr: n.snatTo } } : { masquerade: null },
      ]),
    );
  return cmds;
}

/** `ip(6) saddr . meta l4proto . th dport`: the key of grant elements and of the NAT maps. */
function grantKey(f: 4 | 6): unknown {
  return {
    concat: [
      { payload: { protocol: f === 4 ? 'ip' : 'ip6', field: 'saddr' } },
      { meta: { key: 'l4proto' } },
      { payload: { protocol: 'th', field: 'dport' } },
    ],
  };
}

/** Where one port-forwarded grant goes. */
export interface NatValue {
  readonly to: string;
  readonly port: number;
}

/**
 * Sets the port-forward of one grant element (`key` as in setGrantCommands) to `value` with the
 * grant's timeout. `previous` is what the gate last set for that key, if anything: it is added
 * first (a no-op when present, the element again when the kernel timed it out) and deleted, since
 * an `add` with other data than the element holds is refused ("File exists").
 */
export function setNatCommands(
  table: string,
  f: 4 | 6,
  key: unknown,
  timeoutS: number,
  value: NatValue,
  previous: NatValue | undefined,
): NftCommand[] {
  const cmds = previous === undefined ? [] : revokeNatCommands(table, f, key, previous);
  return [...cmds, ...natElements(table, f, key, timeoutS, value)];
}

/** Removes one grant's port-forward, whether or not the kernel has timed it out (see setNatCommands). */
export function revokeNatCommands(table: string, f: 4 | 6, key: unknown, previous: NatValue): NftCommand[] {
  return [
    ...natElements(table, f, key, 1, previous),
    { delete: { element: { family, table, name: MAP_NAT_TO[f], elem: [key] } } },
    { delete: { element: { family, table, name: MAP_NAT_PORT[f], elem: [key] } } },
  ];
}

function natElements(table: string, f: 4 | 6, key: unknown, timeoutS: number, v: NatValue): NftCommand[] {
  const elem = (data: unknown) => [[{ elem: { val: key, timeout: timeoutS } }, data]];
  return [
    { add: { element: { family, table, name: MAP_NAT_TO[f], elem: elem(v.to) } } },
    { add: { element: { family, table, name: MAP_NAT_PORT[f], elem: elem(v.port) } } },
  ];
}

/**
 * The port-forwards `nft -j list table` shows, by the text of their key (`source . proto . port`,
 * as grantsFromListing reads it): those present in both maps. Unknown shapes are skipped.
 */
export function natFromListing(
  listing: unknown,
  keyText: (value: unknown) => string | undefined,
): Map<string, NatValue> {
  const to = new Map<string, string>();
  const port = new Map<string, number>();
  const items = (listing as { nftables?: unknown[] })?.nftables;
  if (!Array.isArray(items)) return new Map();
  for (const item of items) {
    const map = (item as { map?: { name?: unknown; elem?: unknown[] } } | null)?.map;
    if (!map || !Array.isArray(map.elem)) continue;
    const isTo = map.name === MAP_NAT_TO[4] || map.name === MAP_NAT_TO[6];
    const isPort = map.name === MAP_NAT_PORT[4] || map.name === MAP_NAT_PORT[6];
    if (!isTo && !isPort) continue;
    for (const pair of map.elem) {
      if (!Array.isArray(pair) || pair.length !== 2) continue;
      const k = keyText((pair[0] as { elem?: { val?: unknown } } | null)?.elem?.val);
      if (k === undefined) continue;
      const data = pair[1];
      if (isTo && typeof data === 'string') to.set(`${map.name === MAP_NAT_TO[4] ? 4 : 6}|${k}`, data);
      if (isPort && typeof data === 'number') port.set(`${map.name === MAP_NAT_PORT[4] ? 4 : 6}|${k}`, data);
    }
  }
  const out = new Map<string, NatValue>();
  for (const [k, address] of to) {
    const p = port.get(k);
    if (p !== undefined) out.set(k, { to: address, port: p });
  }
  return out;
}

/**
 * A NAT chain made empty when `wanted`, else removed: `add` first so that the delete of a chain
 * that was never there is no error (the same transaction creates it).
 */
function natChain(
  t: { family: string; table: string },
  name: string,
  hook: 'prerouting' | 'postrouting',
  prio: number,
  wanted: boolean,
): NftCommand[] {
  const add = { add: { chain: { ...t, name, type: 'nat', hook, prio, policy: 'accept' } } };
  return wanted ? [add, { flush: { chain: { ...t, name } } }] : [add, { delete: { chain: { ...t, name } } }];
}

/** One per inner endpoint and source rewrite (several stanzas may forward to one inner host). */
function uniqueForwards(forwards: readonly NatForward[]): NatForward[] {
  const seen = new Map<string, NatForward>();
  for (const n of forwards)
    seen.set(`${n.family}/${n.to}/${endpointKey(n.from.proto, n.toPort)}/${n.masquerade}/${n.snatTo ?? ''}`, n);
  return [...seen.values()];
}
