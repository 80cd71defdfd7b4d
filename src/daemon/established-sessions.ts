/**
 * The established TCP sessions of this process's network namespace, for the lockout guard
 * (core/lockout.ts): /proc/net/tcp and /proc/net/tcp6 (a file that is missing, as tcp6 is with
 * IPv6 disabled, holds none), parsed by core/proc-net-tcp.ts.
 *
 * Each session's interface is inferred, since /proc/net/tcp does not say: 'lo' when the peer is
 * an address of this host (such packets go through lo), else the interface with an on-link
 * network holding the peer, else null (a routed peer: the guard then treats it as not exempt,
 * which errs on the side of a warning). Whether connection tracking follows each session comes
 * from /proc/net/nf_conntrack (core/proc-net-conntrack.ts): when the file is missing, the
 * namespace has no conntrack table at all (nothing tracked: false) or no procfs view of it; the
 * counter /proc/sys/net/netfilter/nf_conntrack_count tells them apart (absent or 0: false).
 */

import { readFileSync } from 'node:fs';
import { endianness, networkInterfaces } from 'node:os';
import { maskIPAddress, parseIPAddress, sameIPAddress } from '../core/ip-address.js';
import type { Session } from '../core/lockout.js';
import { parseConntrack, tupleKey } from '../core/proc-net-conntrack.js';
import { parseProcNetTcp, type TcpSession } from '../core/proc-net-tcp.js';

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The tracked connections, or null when they cannot be read (but some exist). */
function trackedConnections(procNet: string): Set<string> | null {
  const table = readIfPresent(`${procNet}/nf_conntrack`);
  if (table !== undefined) return parseConntrack(table);
  const count = readIfPresent('/proc/sys/net/netfilter/nf_conntrack_count');
  return count === undefined || Number(count.trim()) === 0 ? new Set() : null;
}

function isTracked(s: TcpSession, tracked: Set<string> | null): boolean | null {
  if (tracked === null) return null;
  return (
    tracked.has(tupleKey(s.remoteAddress, s.remotePort, s.localAddress, s.localPort)) ||
    tracked.has(tupleKey(s.localAddress, s.localPort, s.remoteAddress, s.remotePort))
  );
}

function interfaceOf(s: TcpSession): string | null {
  const peer = parseIPAddress(s.remoteAddress);
  if (peer === null) return null;
  let onLink: string | null = null;
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    for (const a of addrs ?? []) {
      const mine = parseIPAddress(a.address);
      if (mine === null || mine.family !== peer.family) continue;
      if (sameIPAddress(mine, peer)) return 'lo';
      const length = Number(a.cidr?.split('/')[1]);
      if (
        onLink === null &&
        Number.isInteger(length) &&
        sameIPAddress(maskIPAddress(mine, length), maskIPAddress(peer, length))
      )
        onLink = name;
    }
  }
  return onLink;
}

export function establishedSessions(procNet = '/proc/net'): Session[] {
  const le = endianness() === 'LE';
  const sessions = [
    ...parseProcNetTcp(readIfPresent(`${procNet}/tcp`) ?? '', le),
    ...parseProcNetTcp(readIfPresent(`${procNet}/tcp6`) ?? '', le),
  ];
  const tracked = sessions.length === 0 ? null : trackedConnections(procNet);
  return sessions.map((s) => ({ ...s, interface: interfaceOf(s), tracked: isTracked(s, tracked) }));
}
