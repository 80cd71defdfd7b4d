/**
 * The table installBatch() (nftables-ruleset.ts) builds, written in nft's own syntax, for
 * `knockgated --print-ruleset`: what a reader compares with `nft list table inet NAME`. Pure.
 *
 * Contract: the same objects, names, types, rules and order as installBatch() with no grants;
 * the text is valid input for `nft -f`, and the kernel lists it exactly as it lists the table the
 * daemon installs (test/integration/check-dry-run.test.ts loads both and compares). The sets
 * grants4 and grants6 are printed empty: their elements are the grants, added and timed out at
 * run time; the other sets are fixed by the configuration.
 */

import { formatEndpoint, type Endpoint } from '../core/endpoint.js';
import type { GateLayout, KnockLogRule } from '../ports/gate.js';
import {
  CHAIN_FORWARD,
  CHAIN_FORWARD_PRIORITY,
  CHAIN_NAT_POST,
  CHAIN_NAT_PRE,
  MAP_NAT_PORT,
  MAP_NAT_TO,
  NAT_POST_PRIORITY,
  NAT_PRE_PRIORITY,
  SET_FORWARDED,
} from './nftables-forward.js';
import {
  CHAIN,
  CHAIN_PRIORITY,
  CHAIN_RAW,
  CHAIN_RAW_PRIORITY,
  SET_GRANTS,
  SET_HIDDEN,
  SET_KNOCK_LOG,
  SET_PROTECTED,
  SET_UNTRACKED,
} from './nftables-ruleset.js';

function elements(values: readonly string[]): string[] {
  return values.length === 0 ? [] : [`\t\telements = { ${values.join(', ')} }`];
}

function endpointValues(endpoints: readonly Endpoint[]): string[] {
  const seen = new Map<string, string>();
  for (const e of endpoints) seen.set(formatEndpoint(e), `${e.proto} . ${e.port}`);
  return [...seen.values()];
}

function set(name: string, type: string, flags: string | null, values: readonly string[]): string[] {
  return [
    `\tset ${name} {`,
    `\t\ttype ${type}`,
    ...(flags === null ? [] : [`\t\tflags ${flags}`]),
    ...elements(values),
    '\t}',
  ];
}

function natMaps(): string[] {
  return ([4, 6] as const).flatMap((f) => {
    const key = `${f === 4 ? 'ipv4_addr' : 'ipv6_addr'} . inet_proto . inet_service`;
    return [
      `\tmap ${MAP_NAT_TO[f]} {`,
      `\t\ttype ${key} : ${f === 4 ? 'ipv4_addr' : 'ipv6_addr'}`,
      '\t\tflags interval,timeout',
      '\t}',
      `\tmap ${MAP_NAT_PORT[f]} {`,
      `\t\ttype ${key} : inet_service`,
      '\t\tflags interval,timeout',
      '\t}',
    ];
  });
}

/** The forward path's chains (nftables-forward.ts); the NAT chains only when there is a port-forward. */
function forwardText(layout: GateLayout, iif: string, l4: string): string[] {
  const nats = layout.natForwards ?? [];
  const proto = (f: 4 | 6): string => (f === 4 ? 'ip' : 'ip6');
  const chain = (name: string, head: string, rules: string[]): string[] =>
    rules.length === 0 ? [] : [`\tchain ${name} {`, `\t\t${head}`, ...rules.map((r) => `\t\t${r}`), '\t}', ''];
  return [
    ...chain(CHAIN_FORWARD, `type filter hook prerouting priority ${CHAIN_FORWARD_PRIORITY}; policy accept;`, [
      'ct state established,related accept',
      `ip saddr . ${l4} @${SET_GRANTS[4]} accept`,
      `ip6 saddr . ${l4} @${SET_GRANTS[6]} accept`,
      `${iif} ${l4} @${SET_FORWARDED} counter drop`,
    ]),
    ...chain(
      CHAIN_NAT_PRE,
      `type nat hook prerouting priority ${NAT_PRE_PRIORITY}; policy accept;`,
      nats.length === 0
        ? []
        : ([4, 6] as const).map((f) => {
            const key = `${proto(f)} saddr . ${l4}`;
            return `meta l4proto { tcp, udp } fib daddr type local dnat ${proto(f)} to ${key} map @${MAP_NAT_TO[f]}:${key} map @${MAP_NAT_PORT[f]}`;
          }),
    ),
    ...chain(
      CHAIN_NAT_POST,
      `type nat hook postrouting priority ${NAT_POST_PRIORITY}; policy accept;`,
      nats
        .filter((n) => n.masquerade || n.snatTo)
        .map(
          (n) =>
            `ct status dnat ${proto(n.family)} daddr ${n.to} ${n.from.proto} dport ${n.toPort} ${n.snatTo ? `snat ${proto(n.family)} to ${n.snatTo}` : 'masquerade'}`,
        ),
    ),
  ];
}

/** The log rule of a firewall-log sensor (installBatch's knockLogExpr), as nft prints it. */
function knockLogRule(log: KnockLogRule, l4: string): string {
  const names = [...new Set(log.interfaces)].map((n) => JSON.stringify(n));
  const iif = names.length === 0 ? '' : `iifname ${names.length === 1 ? names[0] : `{ ${names.join(', ')} }`} `;
  const statement =
    log.to.kind === 'nflog'
      ? `log group ${log.to.group}`
      : `log prefix ${JSON.stringify(log.to.prefix)} flags tcp sequence`;
  return `\t\t${iif}${l4} @${SET_KNOCK_LOG} ${statement}`;
}

export function rulesetText(table: string, layout: GateLayout): string {
  const names = [...new Set(['lo', ...layout.exemptInterfaces])].map((n) => JSON.stringify(n));
  const iif = `iifname != ${names.length === 1 ? names[0] : `{ ${names.join(', ')} }`}`;
  const l4 = 'meta l4proto . th dport';
  const log = layout.knockLog;
  return [
    `table inet ${table} {`,
    // installBatch() gives the table this comment, but nft 1.0.6's JSON parser drops a table's
    // comment: the kernel never holds it, so it is printed as a remark, not as a statement.
    '\t# knockgate: managed by knockgated; do not edit',
    '',
    `\t# dynamic: one element per grant (source . protocol . port), each with its own timeout`,
    ...set(SET_GRANTS[4], 'ipv4_addr . inet_proto . inet_service', 'interval,timeout', []),
    ...set(SET_GRANTS[6], 'ipv6_addr . inet_proto . inet_service', 'interval,timeout', []),
    `\t# fixed by the configuration: the ports doors open, the hidden knock ports, the forwarded ports, the SPA sockets' ports`,
    ...set(SET_PROTECTED, 'inet_proto . inet_service', null, endpointValues(layout.protectedPorts)),
    ...set(SET_HIDDEN, 'inet_proto . inet_service', null, endpointValues(layout.hiddenPorts)),
    ...set(
      SET_UNTRACKED,
      'inet_service',
      null,
      [...new Set(layout.untrackedUdpPorts)].map((p) => String(p)),
    ),
    ...(log === undefined
      ? []
      : [
          `\t# the knock ports a firewall-log sensor reads`,
          ...set(SET_KNOCK_LOG, 'inet_proto . inet_service', null, endpointValues(log.ports)),
        ]),
    ...set(SET_FORWARDED, 'inet_proto . inet_service', null, endpointValues(layout.forwardedPorts ?? [])),
    `\t# dynamic: where each port-forwarded grant goes (same key and timeout as its grant element)`,
    ...natMaps(),
    '',
    `\tchain ${CHAIN} {`,
    `\t\ttype filter hook input priority ${CHAIN_PRIORITY}; policy accept;`,
    '\t\tct state established,related accept',
    ...(log === undefined ? [] : [knockLogRule(log, l4)]),
    `\t\tip saddr . ${l4} @${SET_GRANTS[4]} accept`,
    `\t\tip6 saddr . ${l4} @${SET_GRANTS[6]} accept`,
    `\t\t${iif} ${l4} @${SET_PROTECTED} counter drop`,
    `\t\t${iif} ${l4} @${SET_HIDDEN} counter drop`,
    '\t}',
    '',
    ...forwardText(layout, iif, l4),
    `\tchain ${CHAIN_RAW} {`,
    `\t\ttype filter hook prerouting priority ${CHAIN_RAW_PRIORITY}; policy accept;`,
    `\t\tudp dport @${SET_UNTRACKED} notrack`,
    `\t\t${iif} ${l4} @${SET_HIDDEN} notrack`,
    '\t}',
    '}',
    '',
  ].join('\n');
}
