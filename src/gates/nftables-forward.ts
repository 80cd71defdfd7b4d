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
 *   chain nat_prerouting    (only while a door has `nat:`) hook prerouting, type nat, priority
 *                           dstnat: per port-forward `tcp dport P ip saddr . l4proto . dport
 *                           @grants4 dnat ip to ADDR:PORT`: only granted sources are forwarded;
 *                           the rest were dropped above.
 *   chain nat_postrouting   (only while a port-forward asks for it) type nat, priority srcnat:
 *                           `ct status dnat ip daddr ADDR tcp dport PORT masquerade`.
 * The grant sets are the input chain's: a grant names (source, protocol, port), and the config
 * refuses a port guarded on both paths (door-registry.ts). As in the input chain, `accept` only
 * ends this chain, and a drop answers nothing. A chain with nothing to do is deleted, so that a
 * host without port-forwards never loads NAT for knockgate.
 */

import { endpointKey, type Endpoint } from '../core/endpoint.js';
import type { GateLayout, NatForward } from '../ports/gate.js';

type NftCommand = Record<string, unknown>;

export const SET_FORWARDED = 'forwarded';
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
  const nats = uniqueForwards(layout.natForwards ?? []);
  cmds.push(...natChain(t, CHAIN_NAT_PRE, 'prerouting', NAT_PRE_PRIORITY, nats.length > 0));
  for (const n of nats)
    cmds.push(
      rule(CHAIN_NAT_PRE, [
        { match: { op: '==', left: { payload: { protocol: n.from.proto, field: 'dport' } }, right: n.from.port } },
        parts.grantMatch(n.family),
        { dnat: { family: n.family === 4 ? 'ip' : 'ip6', addr: n.to, port: n.toPort } },
      ]),
    );
  const masquerades = nats.filter((n) => n.masquerade);
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
        { masquerade: null },
      ]),
    );
  return cmds;
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

/** One forward per (family, host port): the config allows no two doors to open one port. */
function uniqueForwards(forwards: readonly NatForward[]): NatForward[] {
  const seen = new Map<string, NatForward>();
  for (const n of forwards) seen.set(`${n.family}/${endpointKey(n.from.proto, n.from.port)}`, n);
  return [...seen.values()];
}
