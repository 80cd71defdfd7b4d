/**
 * What the client tells a user whose knock could not leave this host. Node reports it as a system
 * error (ENETUNREACH from sendto/connect when no route leads there, EACCES/EPERM when a local
 * firewall rejects the packet on output, ...); the user gets one line that says what failed and
 * what to look at, as KG_SEND_FAILED (exit 69), never a stack trace.
 *
 * Contract: sendFailure returns a KnockgateError for the system errors that mean "not sent" and
 * undefined for anything else (the caller rethrows those: they are bugs, not the network).
 */

import { KnockgateError } from '../core/errors.js';

const NOT_SENT: Readonly<Record<string, string>> = {
  ENETUNREACH: 'the network is unreachable (this host has no route to it: check `ip route get ADDRESS`)',
  EHOSTUNREACH: 'the host is unreachable (no route, or the last router answered "host unreachable")',
  ENETDOWN: 'the network interface is down',
  EADDRNOTAVAIL: 'this host has no address to send from towards it',
  EACCES: "this host's own firewall refused the packet on output (or, for a broadcast address, it is not allowed)",
  EPERM: "this host's own firewall refused the packet on output",
  EAFNOSUPPORT: 'this host has no IPv6 (or IPv4) stack for that address',
};

/** `what` names the packet, e.g. "198.18.0.1 port 7000/udp". */
export function sendFailure(err: unknown, what: string): KnockgateError | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  const reason = NOT_SENT[code];
  if (reason === undefined) return undefined;
  return new KnockgateError('KG_SEND_FAILED', `cannot send to ${what}: ${reason} [${code}]`, { cause: err });
}
