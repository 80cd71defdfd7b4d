/**
 * What the iptables gate installs, as the text `ipset restore` and `iptables-restore --noflush`
 * read. Pure: builds text from validated values, runs nothing.
 *
 * Per name (nft_table, at most MAX_IPTABLES_TABLE_NAME_CHARS; `kg_NAME_...` below), per family
 * (iptables for IPv4, ip6tables for IPv6):
 *   ipsets kg_NAME_g4 / kg_NAME_g6   hash:ip,port, timeout 0: one entry per granted (address,
 *                                    protocol, port), each with its own kernel timeout;
 *          kg_NAME_n4 / kg_NAME_n6   hash:net,port, the same for prefix grants (198.51.100.0/24).
 *   filter chain kg_NAME_in, jumped from INPUT at position 1:
 *       -m comment "knockgate: managed ..."       the owner's mark (a chain without it is not ours)
 *       ctstate RELATED,ESTABLISHED -j RETURN     an open session outlives its grant, as with fwknop
 *       -i lo -j RETURN, -i EXEMPT -j RETURN      the drops hold on every other interface
 *       --match-set kg_NAME_g4 src,dst -j RETURN  a grant: source address, then protocol and port
 *       --match-set kg_NAME_n4 src,dst -j RETURN
 *       -p P --dport N -j DROP                    each protected port, then each hidden knock port
 *   filter chain kg_NAME_fwd, jumped from FORWARD at position 1: the same head, with no drops (the
 *       forward path is guarded earlier, in kg_NAME_mng; this chain only holds the FORWARD hook).
 *   mangle chain kg_NAME_mng, jumped from PREROUTING at position 1: the same head and grant sets,
 *       then -p P --dport N -j DROP for each port of the forward path (GateLayout.forwardedPorts,
 *       doors with `hook: forward`). Mangle PREROUTING runs after connection tracking and before
 *       nat PREROUTING, so a port is matched by the number clients send to, also for a port that
 *       Docker publishes and DNATs there: the nftables gate's forward_gate chain (priority
 *       mangle, nftables-forward.ts) in iptables terms. A grant admits its source on both paths.
 *   raw chain kg_NAME_pre, jumped from PREROUTING at position 1, after the owner's mark: the SPA sockets' UDP ports and
 *       (off lo and the exempt interfaces) the hidden knock ports are kept out of connection
 *       tracking (-j CT --notrack), as the nftables gate's prerouting chain does.
 * The same contract as the nftables gate (nftables-ruleset.ts), with one difference that keeps it:
 * where nftables `accept`s, this chain RETURNs. An ACCEPT here would end INPUT for the packet and
 * open what the rest of the host's ruleset closes; RETURN hands it back to the next rule of INPUT.
 * So knockgate only takes away. A drop answers nothing (no RST, no ICMP): the ports look filtered.
 *
 * Atomicity: each family's restore text replaces the filter chains (a `:CHAIN - [0:0]` line under
 * --noflush flushes that chain only) and moves the jumps to position 1 in one COMMIT, which the
 * kernel applies whole or not at all; the mangle table (the forward path) follows in a second
 * COMMIT, the raw table in a third (it only decides what is tracked). The sets are created before (`create -exist` keeps an existing set and its
 * entries) and are never destroyed: the rules that name them stay in force when the daemon stops.
 */

import { endpointKey, type Endpoint } from '../core/endpoint.js';
import { formatIPAddress, maskIPAddress, parseIPAddress } from '../core/ip-address.js';
import { IPSET_MAX_ELEMENTS } from '../core/limits.js';
import type { GateLayout } from '../ports/gate.js';

export const OWNER_COMMENT = 'knockgate: managed by knockgated; do not edit';

export type SourceKind = 'ip' | 'net';

export interface IpsetRef {
  readonly name: string;
  readonly family: 4 | 6;
  readonly kind: SourceKind;
}

export interface IptablesNames {
  readonly input: string;
  readonly forward: string;
  /** In the mangle table: the forward path. */
  readonly mangle: string;
  readonly raw: string;
  readonly sets: {
    readonly 4: { readonly ip: string; readonly net: string };
    readonly 6: { readonly ip: string; readonly net: string };
  };
}

/** The chains and sets of one daemon, from its nft_table (validated: letters, digits, `_`). */
export function iptablesNames(table: string): IptablesNames {
  const p = `kg_${table}`;
  return {
    input: `${p}_in`,
    forward: `${p}_fwd`,
    mangle: `${p}_mng`,
    raw: `${p}_pre`,
    sets: { 4: { ip: `${p}_g4`, net: `${p}_n4` }, 6: { ip: `${p}_g6`, net: `${p}_n6` } },
  };
}

/** The four grant sets, in a fixed order. */
export function grantSets(names: IptablesNames): IpsetRef[] {
  return ([4, 6] as const).flatMap((family) =>
    (['ip', 'net'] as const).map((kind) => ({ name: names.sets[family][kind], family, kind })),
  );
}

/** `ipset -exist restore` input creating the grant sets (an existing one is kept as it is). */
export function ipsetCreateText(names: IptablesNames): string {
  return grantSets(names)
    .map(
      (s) =>
        `create ${s.name} hash:${s.kind},port family ${s.family === 4 ? 'inet' : 'inet6'} timeout 0 maxelem ${IPSET_MAX_ELEMENTS}\n`,
    )
    .join('');
}

/** Which set a grant's source goes in: an address in the `ip` set, `addr/len` in the `net` set. */
export function setFor(names: IptablesNames, family: 4 | 6, source: string): IpsetRef {
  const kind: SourceKind = source.includes('/') ? 'net' : 'ip';
  return { name: names.sets[family][kind], family, kind };
}

/** An ipset element, `ADDR,tcp:22` or `ADDR/LEN,udp:53`; null for a source that is not of the family. */
export function ipsetElement(family: 4 | 6, source: string, e: Endpoint): string | null {
  const slash = source.indexOf('/');
  const address = parseIPAddress(slash < 0 ? source : source.slice(0, slash));
  if (address === null || address.family !== family) return null;
  if (slash < 0) return `${formatIPAddress(address)},${e.proto}:${e.port}`;
  const text = source.slice(slash + 1);
  const len = Number(text);
  if (!/^\d{1,3}$/.test(text) || len < 1 || len > (family === 4 ? 32 : 128)) return null;
  return `${formatIPAddress(maskIPAddress(address, len))}/${len},${e.proto}:${e.port}`;
}

/** One restore line setting an entry's timeout (under `-exist`: added, or its timeout replaced). */
export function grantLine(set: string, element: string, timeoutS: number): string {
  return `add ${set} ${element} timeout ${timeoutS}\n`;
}

/** One restore line removing an entry (under `-exist`: an entry already gone is no error). */
export function revokeLine(set: string, element: string): string {
  return `del ${set} ${element}\n`;
}

/** The jumps found in the built-in chains, to be moved (deleted, then inserted at 1). */
export interface LiveJumps {
  /** How many `-A INPUT -j <input>` rules there are now (normally 0 or 1). */
  readonly input: number;
  readonly forward: number;
  /** In the mangle table's PREROUTING. */
  readonly mangle: number;
  /** In the raw table's PREROUTING. */
  readonly raw: number;
}

export const NO_JUMPS: LiveJumps = { input: 0, forward: 0, mangle: 0, raw: 0 };

function uniqueEndpoints(endpoints: readonly Endpoint[]): Endpoint[] {
  const seen = new Map<number, Endpoint>();
  for (const e of endpoints) seen.set(endpointKey(e.proto, e.port), e);
  return [...seen.values()];
}

const dport = (e: Endpoint): string => `-p ${e.proto} -m ${e.proto} --dport ${e.port}`;

function exemptions(chain: string, layout: GateLayout): string[] {
  return [...new Set(['lo', ...layout.exemptInterfaces])].map((i) => `-A ${chain} -i ${i} -j RETURN`);
}

/**
 * The log rule of a firewall-log sensor (GateLayout.knockLog), as the nftables gate places it:
 * after established sessions, before the exemptions and drops, so a hidden knock port is logged
 * and then dropped; one rule per knock port and listed interface (every interface with none).
 */
function knockLogRules(chain: string, layout: GateLayout): string[] {
  const log = layout.knockLog;
  if (log === undefined) return [];
  const target =
    log.to.kind === 'nflog'
      ? `-j NFLOG --nflog-group ${log.to.group}`
      : `-j LOG --log-prefix ${JSON.stringify(log.to.prefix)} --log-tcp-sequence`;
  const interfaces = log.interfaces.length === 0 ? [null] : [...new Set(log.interfaces)];
  return interfaces.flatMap((i) =>
    uniqueEndpoints(log.ports).map((e) => `-A ${chain}${i === null ? '' : ` -i ${i}`} ${dport(e)} ${target}`),
  );
}

/** A guarding chain's rules (filter or mangle), in the order iptables-save prints them (`-A` lines). */
export function guardChainRules(
  chain: string,
  family: 4 | 6,
  names: IptablesNames,
  layout: GateLayout,
  drops: readonly Endpoint[],
  withLog = false,
): string[] {
  return [
    `-A ${chain} -m comment --comment "${OWNER_COMMENT}"`,
    `-A ${chain} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
    ...(withLog ? knockLogRules(chain, layout) : []),
    ...exemptions(chain, layout),
    `-A ${chain} -m set --match-set ${names.sets[family].ip} src,dst -j RETURN`,
    `-A ${chain} -m set --match-set ${names.sets[family].net} src,dst -j RETURN`,
    ...uniqueEndpoints(drops).map((e) => `-A ${chain} ${dport(e)} -j DROP`),
  ];
}

/** The raw chain's rules: untracked SPA ports everywhere, hidden knock ports off the exempt interfaces. */
export function rawChainRules(chain: string, layout: GateLayout): string[] {
  return [
    `-A ${chain} -m comment --comment "${OWNER_COMMENT}"`,
    ...[...new Set(layout.untrackedUdpPorts)].map((p) => `-A ${chain} -p udp -m udp --dport ${p} -j CT --notrack`),
    ...exemptions(chain, layout),
    ...uniqueEndpoints(layout.hiddenPorts).map((e) => `-A ${chain} ${dport(e)} -j CT --notrack`),
  ];
}

function moveJump(builtin: string, chain: string, present: number): string[] {
  return [...Array.from({ length: present }, () => `-D ${builtin} -j ${chain}`), `-I ${builtin} 1 -j ${chain}`];
}

/**
 * `iptables-restore --noflush` input (`ip6tables-restore` for family 6) that makes this family's
 * chains match `layout` and puts each jump first in its built-in chain. `forwardPorts`: ports
 * dropped in the filter FORWARD chain (none: the forward path's ports are dropped in the mangle
 * chain, before any DNAT, where a published port still has the number clients use).
 */
export function restoreText(
  names: IptablesNames,
  family: 4 | 6,
  layout: GateLayout,
  jumps: LiveJumps,
  forwardPorts: readonly Endpoint[] = [],
): string {
  return [
    '*filter',
    `:${names.input} - [0:0]`,
    `:${names.forward} - [0:0]`,
    ...moveJump('INPUT', names.input, jumps.input),
    ...moveJump('FORWARD', names.forward, jumps.forward),
    ...guardChainRules(names.input, family, names, layout, [...layout.protectedPorts, ...layout.hiddenPorts], true),
    ...guardChainRules(names.forward, family, names, layout, forwardPorts),
    'COMMIT',
    '*mangle',
    `:${names.mangle} - [0:0]`,
    ...moveJump('PREROUTING', names.mangle, jumps.mangle),
    ...guardChainRules(names.mangle, family, names, layout, layout.forwardedPorts ?? []),
    'COMMIT',
    '*raw',
    `:${names.raw} - [0:0]`,
    ...moveJump('PREROUTING', names.raw, jumps.raw),
    ...rawChainRules(names.raw, layout),
    'COMMIT',
    '',
  ].join('\n');
}

/** How many times `-A BUILTIN -j CHAIN` appears in `iptables -S BUILTIN` output (exact lines only). */
export function countJumps(listing: string, builtin: string, chain: string): number {
  const want = `-A ${builtin} -j ${chain}`;
  let n = 0;
  for (const line of listing.split('\n')) if (line.trimEnd() === want) n++;
  return n;
}

/**
 * Whether `iptables -S CHAIN` shows a chain knockgate may take: none (`absent`), an empty one, or
 * one whose first rule is the owner's mark (`ours`). Anything else is someone else's (`foreign`):
 * replacing it would delete their rules.
 */
export function chainOwnership(listing: string, chain: string): 'absent' | 'ours' | 'foreign' {
  const lines = listing.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return 'absent';
  const first = lines.find((l) => l !== `-N ${chain}`);
  if (first === undefined) return 'ours';
  return first === `-A ${chain} -m comment --comment "${OWNER_COMMENT}"` ? 'ours' : 'foreign';
}
