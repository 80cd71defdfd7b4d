/**
 * The nftables objects knockgate owns, as libnftables JSON commands (see libnftables-json(5)).
 * Pure: builds data, runs nothing.
 *
 * One table, `inet <name>`, holding:
 *   set grants4 / grants6   ipv4_addr|ipv6_addr . inet_proto . inet_service, flags interval,
 *                           timeout: one element per (source, protocol, port) granted, where the
 *                           source is an address or a prefix (198.51.100.0/24, for clients behind
 *                           carrier-grade NAT); the kernel removes it when its timeout runs out,
 *                           daemon or no daemon.
 *   set protected           inet_proto . inet_service: every port some door opens.
 *   set hidden              inet_proto . inet_service: knock ports of doors with hide_knock_ports.
 *   set untracked           inet_service: UDP ports where a knockgated socket takes SPA.
 *   set knocklog            inet_proto . inet_service: the knock ports a firewall-log sensor reads
 *                           (only with layout.knockLog: sensor nflog or kernel-log).
 *   chain prerouting        hook prerouting, priority raw: `udp dport @untracked notrack` and
 *                           `l4proto . dport @hidden notrack`, so that a flood from spoofed
 *                           sources never fills the connection-tracking table nor pays for an
 *                           entry per packet (nothing answers them; there is nothing to track).
 *   chain input             hook input, priority filter - 10 (before the usual filter chains):
 *       ct state established,related accept      an open session outlives its grant, as with fwknop
 *       [iifname { <interfaces> }] l4proto . dport @knocklog  log group N | log prefix "P" flags tcp sequence
 *                                                 (with layout.knockLog; before every drop, so that a
 *                                                 hidden knock port is logged and then dropped)
 *       ip  saddr . l4proto . dport @grants4 accept
 *       ip6 saddr . l4proto . dport @grants6 accept
 *       iifname != { lo, <exempt_interfaces> }  l4proto . dport @protected counter drop
 *       iifname != { lo, <exempt_interfaces> }  l4proto . dport @hidden counter drop
 *   chains forward_gate, nat_prerouting, nat_postrouting and set forwarded: the forward path
 *                           (nftables-forward.ts).
 * The drops hold on every interface but lo and those the operator exempts explicitly, whatever
 * `interfaces:` says (that list only chooses where knocks are received).
 * `accept` here only ends this chain: every other table's chains still see the packet. So
 * knockgate can only take away, never open what the rest of the firewall closes; see README.
 * A drop answers nothing (no RST, no ICMP): the ports look filtered.
 */

import { endpointKey, type Endpoint } from '../core/endpoint.js';
import type { ActiveGrant, GateLayout, KnockLogRule } from '../ports/gate.js';
import { forwardCommands } from './nftables-forward.js';

export type NftCommand = Record<string, unknown>;

export const CHAIN = 'input';
export const SET_GRANTS = { 4: 'grants4', 6: 'grants6' } as const;
export const SET_PROTECTED = 'protected';
export const SET_HIDDEN = 'hidden';
export const SET_UNTRACKED = 'untracked';
export const SET_KNOCK_LOG = 'knocklog';
export const CHAIN_RAW = 'prerouting';
/** NF_IP_PRI_RAW: before connection tracking. */
export const CHAIN_RAW_PRIORITY = -300;
/** Runs before the usual `filter` priority (0) so that our drop is seen first. */
export const CHAIN_PRIORITY = -10;

const family = 'inet';

function l4key(): unknown {
  return { concat: [{ meta: { key: 'l4proto' } }, { payload: { protocol: 'th', field: 'dport' } }] };
}

function grantMatch(f: 4 | 6): unknown {
  const proto = f === 4 ? 'ip' : 'ip6';
  return {
    match: {
      op: '==',
      left: {
        concat: [
          { payload: { protocol: proto, field: 'saddr' } },
          { meta: { key: 'l4proto' } },
          { payload: { protocol: 'th', field: 'dport' } },
        ],
      },
      right: `@${SET_GRANTS[f]}`,
    },
  };
}

/**
 * Where the drops apply: every interface but lo and the explicit exemptions. Deliberately not
 * `interfaces:` (where knocks are received): a misspelt name there must not unprotect a port.
 */
function notExempt(exempt: readonly string[]): unknown {
  const names = [...new Set(['lo', ...exempt])];
  return {
    match: { op: '!=', left: { meta: { key: 'iifname' } }, right: names.length === 1 ? names[0] : { set: names } },
  };
}

/** The log rule's expression: the interfaces (when named), the knock ports, the log statement. */
function knockLogExpr(log: KnockLogRule): unknown[] {
  const names = [...new Set(log.interfaces)];
  const iif =
    names.length === 0
      ? []
      : [
          {
            match: {
              op: '==',
              left: { meta: { key: 'iifname' } },
              right: names.length === 1 ? names[0] : { set: names },
            },
          },
        ];
  const statement =
    log.to.kind === 'nflog'
      ? { log: { group: log.to.group } }
      : // The sequence number lets the knock tracker tell a retransmission from a new knock.
        { log: { prefix: log.to.prefix, flags: 'tcp sequence' } };
  return [...iif, { match: { op: '==', left: l4key(), right: `@${SET_KNOCK_LOG}` } }, statement];
}

function endpointElems(endpoints: Iterable<Endpoint>): unknown[] {
  const seen = new Map<number, Endpoint>();
  for (const e of endpoints) seen.set(endpointKey(e.proto, e.port), e);
  return [...seen.values()].map((e) => ({ concat: [e.proto, e.port] }));
}

/**
 * The batch that makes the table match `layout`, atomically. Existing grants for ports that are
 * still protected survive; `staleGrants` (grants for ports no longer protected) are deleted.
 */
export function installBatch(table: string, layout: GateLayout, staleGrants: readonly ActiveGrant[]): NftCommand[] {
  const t = { family, table };
  const cmds: NftCommand[] = [
    { add: { table: { family, name: table, comment: 'knockgate: managed by knockgated; do not edit' } } },
    {
      add: {
        set: {
          ...t,
          name: SET_GRANTS[4],
          type: ['ipv4_addr', 'inet_proto', 'inet_service'],
          flags: ['interval', 'timeout'],
        },
      },
    },
    {
      add: {
        set: {
          ...t,
          name: SET_GRANTS[6],
          type: ['ipv6_addr', 'inet_proto', 'inet_service'],
          flags: ['interval', 'timeout'],
        },
      },
    },
    { add: { set: { ...t, name: SET_PROTECTED, type: ['inet_proto', 'inet_service'] } } },
    { add: { set: { ...t, name: SET_HIDDEN, type: ['inet_proto', 'inet_service'] } } },
    { flush: { set: { ...t, name: SET_PROTECTED } } },
    { add: { set: { ...t, name: SET_UNTRACKED, type: 'inet_service' } } },
    { flush: { set: { ...t, name: SET_HIDDEN } } },
    { flush: { set: { ...t, name: SET_UNTRACKED } } },
    { add: { chain: { ...t, name: CHAIN, type: 'filter', hook: 'input', prio: CHAIN_PRIORITY, policy: 'accept' } } },
    { flush: { chain: { ...t, name: CHAIN } } },
  ];
  const protectedElems = endpointElems(layout.protectedPorts);
  if (protectedElems.length > 0) cmds.push({ add: { element: { ...t, name: SET_PROTECTED, elem: protectedElems } } });
  const hiddenElems = endpointElems(layout.hiddenPorts);
  if (hiddenElems.length > 0) cmds.push({ add: { element: { ...t, name: SET_HIDDEN, elem: hiddenElems } } });
  for (const g of staleGrants) {
    cmds.push({
      delete: {
        element: {
          ...t,
          name: SET_GRANTS[g.family],
          elem: [{ concat: [sourceValue(g.source), g.endpoint.proto, g.endpoint.port] }],
        },
      },
    });
  }
  const rule = (expr: unknown[]): NftCommand => ({ add: { rule: { ...t, chain: CHAIN, expr } } });
  cmds.push(
    rule([
      { match: { op: 'in', left: { ct: { key: 'state' } }, right: ['established', 'related'] } },
      { accept: null },
    ]),
  );
  if (layout.knockLog) {
    const log = layout.knockLog;
    cmds.push({ add: { set: { ...t, name: SET_KNOCK_LOG, type: ['inet_proto', 'inet_service'] } } });
    cmds.push({ flush: { set: { ...t, name: SET_KNOCK_LOG } } });
    const elems = endpointElems(log.ports);
    if (elems.length > 0) cmds.push({ add: { element: { ...t, name: SET_KNOCK_LOG, elem: elems } } });
    cmds.push(rule(knockLogExpr(log)));
  }
  cmds.push(rule([grantMatch(4), { accept: null }]));
  cmds.push(rule([grantMatch(6), { accept: null }]));
  const iif = notExempt(layout.exemptInterfaces);
  cmds.push(
    rule([iif, { match: { op: '==', left: l4key(), right: `@${SET_PROTECTED}` } }, { counter: null }, { drop: null }]),
  );
  cmds.push(
    rule([iif, { match: { op: '==', left: l4key(), right: `@${SET_HIDDEN}` } }, { counter: null }, { drop: null }]),
  );
  cmds.push(...forwardCommands(table, layout, { notExempt: iif, l4key: l4key(), grantMatch, endpointElems }));
  const untracked = [...new Set(layout.untrackedUdpPorts)];
  if (untracked.length > 0) cmds.push({ add: { element: { ...t, name: SET_UNTRACKED, elem: untracked } } });
  cmds.push({
    add: {
      chain: { ...t, name: CHAIN_RAW, type: 'filter', hook: 'prerouting', prio: CHAIN_RAW_PRIORITY, policy: 'accept' },
    },
  });
  cmds.push({ flush: { chain: { ...t, name: CHAIN_RAW } } });
  cmds.push({
    add: {
      rule: {
        ...t,
        chain: CHAIN_RAW,
        expr: [
          { match: { op: '==', left: { payload: { protocol: 'udp', field: 'dport' } }, right: `@${SET_UNTRACKED}` } },
          { notrack: null },
        ],
      },
    },
  });
  cmds.push({
    add: {
      rule: {
        ...t,
        chain: CHAIN_RAW,
        expr: [iif, { match: { op: '==', left: l4key(), right: `@${SET_HIDDEN}` } }, { notrack: null }],
      },
    },
  });
  return cmds;
}

/**
 * Sets one grant element to expire `timeoutS` from now. When the element may exist (`mayExist`):
 * `add` (a no-op when present), `delete`, `add` again with the new timeout, all in the caller's
 * one transaction, since nft 1.0.6 cannot refresh an element's timeout in place. When the caller
 * knows it does not exist, one `add`: a third of the kernel work, which matters for a burst of
 * new grants (each insertion into an interval set costs in proportion to the set's size).
 */
export function setGrantCommands(
  table: string,
  source: string,
  f: 4 | 6,
  e: Endpoint,
  timeoutS: number,
  mayExist = true,
): NftCommand[] {
  const t = { family, table, name: SET_GRANTS[f] };
  const val = { concat: [sourceValue(source), e.proto, e.port] };
  const add = { add: { element: { ...t, elem: [{ elem: { val, timeout: timeoutS } }] } } };
  return mayExist ? [add, { delete: { element: { ...t, elem: [val] } } }, add] : [add];
}

/**
 * Removes one grant element at once. `add` first (a no-op when the element is there, an element
 * that is deleted again in the same transaction when it is not), so that an element the kernel
 * has just timed out is no error; nft 1.0.6 has no `destroy`.
 */
export function revokeGrantCommands(table: string, source: string, f: 4 | 6, e: Endpoint): NftCommand[] {
  const t = { family, table, name: SET_GRANTS[f] };
  const val = { concat: [sourceValue(source), e.proto, e.port] };
  return [
    { add: { element: { ...t, elem: [{ elem: { val, timeout: 1 } }] } } },
    { delete: { element: { ...t, elem: [val] } } },
  ];
}

/** A grant's source as nft JSON: an address, or `{prefix: {addr, len}}` for `addr/len`. */
function sourceValue(source: string): unknown {
  const slash = source.indexOf('/');
  return slash < 0 ? source : { prefix: { addr: source.slice(0, slash), len: Number(source.slice(slash + 1)) } };
}

/** The inverse of sourceValue for what `nft -j` prints; undefined for anything else. */
function sourceText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const p = (value as { prefix?: { addr?: unknown; len?: unknown } } | null)?.prefix;
  return p && typeof p.addr === 'string' && typeof p.len === 'number' ? `${p.addr}/${p.len}` : undefined;
}

/**
 * The key of a grant element as nft -j prints it (`{concat: [source, proto, port]}`), as the text
 * `source|endpointKey`; undefined for another shape.
 */
export function elementKeyText(value: unknown): string | undefined {
  const parts = (value as { concat?: unknown[] } | null)?.concat;
  if (!Array.isArray(parts) || parts.length !== 3) return undefined;
  const [v, proto, port] = parts;
  const source = sourceText(v);
  if (source === undefined || (proto !== 'tcp' && proto !== 'udp') || typeof port !== 'number') return undefined;
  return `${source}|${endpointKey(proto, port)}`;
}

/** A grant element's key (source . proto . port) as nft JSON, also the key of its port-forward. */
export function grantElementKey(source: string, e: Endpoint): unknown {
  return { concat: [sourceValue(source), e.proto, e.port] };
}

/** Reads the grants out of `nft -j list table` output. Unknown shapes are skipped, not trusted. */
export function grantsFromListing(listing: unknown): ActiveGrant[] {
  const out: ActiveGrant[] = [];
  const items = (listing as { nftables?: unknown[] })?.nftables;
  if (!Array.isArray(items)) return out;
  for (const item of items) {
    const set = (item as { set?: { name?: unknown; elem?: unknown[] } } | null)?.set;
    if (!set || (set.name !== SET_GRANTS[4] && set.name !== SET_GRANTS[6]) || !Array.isArray(set.elem)) continue;
    const f: 4 | 6 = set.name === SET_GRANTS[4] ? 4 : 6;
    for (const el of set.elem) {
      const inner = (el as { elem?: { val?: { concat?: unknown[] }; expires?: unknown } } | null)?.elem;
      const parts = inner?.val?.concat;
      if (!Array.isArray(parts) || parts.length !== 3) continue;
      const [value, proto, port] = parts;
      const source = sourceText(value);
      if (source === undefined || (proto !== 'tcp' && proto !== 'udp') || typeof port !== 'number') continue;
      const expires = typeof inner?.expires === 'number' ? inner.expires : 0;
      out.push({ source, family: f, endpoint: { proto, port }, expiresInS: expires });
    }
  }
  return out;
}
