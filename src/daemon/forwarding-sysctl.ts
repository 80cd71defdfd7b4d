/**
 * Whether the kernel forwards what the forward-path doors guard: a door with `hook: forward`,
 * `nat:` or a fwknop stanza with FORCE_NAT does nothing useful while net.ipv4.ip_forward (or
 * net.ipv6.conf.all.forwarding, for IPv6 targets and routed IPv6) is 0. knockgated says so at
 * start, at a reload and in --check; it does not change the setting (the host's routing is the
 * operator's). The reader is a parameter so that unit tests can fake /proc.
 */

import { readFileSync } from 'node:fs';
import type { Config } from '../config/config.js';

export type SysctlReader = (path: string) => string;

const readProc: SysctlReader = (path) => readFileSync(path, 'utf8');

const FORWARDING = {
  4: { path: '/proc/sys/net/ipv4/ip_forward', name: 'net.ipv4.ip_forward' },
  6: { path: '/proc/sys/net/ipv6/conf/all/forwarding', name: 'net.ipv6.conf.all.forwarding' },
} as const;

/** One warning per family the forward-path doors need and the kernel does not forward. */
export function forwardingWarnings(config: Config, read: SysctlReader = readProc): string[] {
  if (config.firewall !== 'nftables') return [];
  const needs = new Map<4 | 6, string[]>();
  const need = (family: 4 | 6, door: string): void => {
    const doors = needs.get(family) ?? [];
    if (!doors.includes(door)) doors.push(door);
    needs.set(family, doors);
  };
  for (const d of config.doors) {
    const nat = d.forward?.nat;
    if (nat) need(nat.family, d.name);
    else if (d.forward) {
      need(4, d.name);
      need(6, d.name);
    }
    for (const s of d.fwknop?.stanzas ?? []) if (s.forceNat) need(s.forceNat.family, d.name);
  }
  const out: string[] = [];
  for (const [family, doors] of [...needs].sort((a, b) => a[0] - b[0])) {
    const { path, name } = FORWARDING[family];
    let value: string;
    try {
      value = read(path).trim();
    } catch {
      continue; // no such file: IPv6 disabled, or no /proc; nothing to say for sure
    }
    if (value === '0')
      out.push(
        `${name} is 0: the kernel forwards no IPv${family} traffic, so door${doors.length === 1 ? '' : 's'} ${doors.map((d) => JSON.stringify(d)).join(', ')} cannot pass what ${doors.length === 1 ? 'it grants' : 'they grant'} (sysctl -w ${name}=1)`,
      );
  }
  return out;
}
