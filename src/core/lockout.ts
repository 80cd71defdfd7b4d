/**
 * The lockout guard: which established sessions use a port the configuration protects, with
 * nothing in the ruleset (nftables-ruleset.ts) to let that source back in. Pure.
 *
 * What the ruleset does to such a session: its first rule accepts `ct state established,related`,
 * so a session that connection tracking already follows keeps working, and the risk is the next
 * connection from the same address (a reconnect, a second ssh). But a session that began before
 * anything in the network namespace used conntrack (a fresh host whose firewall has no `ct`
 * rule) is unknown to it: its next packet is `ct state new` and meets the drop, so the session
 * itself is cut the moment the table is installed (measured: test/integration/check-dry-run).
 * Hence `tracked` on each session (true, false, or null when it cannot be told). Either way the
 * drop applies unless one of these covers the source:
 *   - the session arrives on lo or on an exempt interface (`exempt_interfaces`);
 *   - a live grant holds that address (or a prefix holding it) for that protocol and port.
 * Nothing else does: `interfaces:` only chooses where knocks are heard. A session whose
 * interface is unknown (null) is covered only when its peer is a loopback address.
 * Only TCP: /proc/net/tcp lists TCP sockets, and a UDP "session" has no state to go by.
 */

import { endpointKey, formatEndpoint, type Endpoint } from './endpoint.js';
import { maskIPAddress, parseIPAddress, sameIPAddress } from './ip-address.js';
import type { TcpSession } from './proc-net-tcp.js';

export interface Session extends TcpSession {
  /** The interface the peer's packets arrive on: 'lo' for this host's own addresses; null if unknown. */
  readonly interface: string | null;
  /** Whether connection tracking follows this session now (null: cannot be told). */
  readonly tracked: boolean | null;
}

/** What of a configuration the guard reads (a Config is one). */
export interface LockoutConfig {
  readonly doors: readonly { readonly open: readonly Endpoint[] }[];
  readonly exemptInterfaces: readonly string[];
}

/** A grant as the kernel holds it (ports/gate.ts ActiveGrant is one). */
export interface LiveGrant {
  readonly source: string;
  readonly family: 4 | 6;
  readonly endpoint: Endpoint;
  readonly expiresInS: number;
}

export interface Risk {
  readonly endpoint: Endpoint;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly tracked: boolean | null;
}

function isLoopback(address: string): boolean {
  const a = parseIPAddress(address);
  if (a === null) return false;
  return a.family === 4 ? a.bytes[0] === 127 : a.bytes.every((b, i) => b === (i === 15 ? 1 : 0));
}

function grantCovers(g: LiveGrant, address: string, endpoint: Endpoint): boolean {
  if (
    g.expiresInS <= 0 ||
    endpointKey(g.endpoint.proto, g.endpoint.port) !== endpointKey(endpoint.proto, endpoint.port)
  )
    return false;
  const a = parseIPAddress(address);
  const slash = g.source.indexOf('/');
  const network = parseIPAddress(slash < 0 ? g.source : g.source.slice(0, slash));
  if (a === null || network === null || a.family !== network.family || a.family !== g.family) return false;
  const length = slash < 0 ? (a.family === 4 ? 32 : 128) : Number(g.source.slice(slash + 1));
  return sameIPAddress(maskIPAddress(a, length), maskIPAddress(network, length));
}

/** One risk per established session on a protected TCP port that nothing covers, in session order. */
export function lockoutRisks(
  config: LockoutConfig,
  sessions: readonly Session[],
  liveGrants: readonly LiveGrant[],
): Risk[] {
  const protectedTcp = new Map<number, Endpoint>();
  for (const d of config.doors) for (const e of d.open) if (e.proto === 'tcp') protectedTcp.set(e.port, e);
  const exempt = new Set(['lo', ...config.exemptInterfaces]);
  const risks: Risk[] = [];
  for (const s of sessions) {
    const endpoint = protectedTcp.get(s.localPort);
    if (endpoint === undefined) continue;
    if (s.interface !== null ? exempt.has(s.interface) : isLoopback(s.remoteAddress)) continue;
    if (liveGrants.some((g) => grantCovers(g, s.remoteAddress, endpoint))) continue;
    risks.push({
      endpoint,
      remoteAddress: s.remoteAddress,
      remotePort: s.remotePort,
      localAddress: s.localAddress,
      tracked: s.tracked,
    });
  }
  return risks;
}

/** The warning, as the log and --check say it. */
export function describeRisk(r: Risk): string {
  const port = formatEndpoint(r.endpoint);
  const from = `your session from ${r.remoteAddress} to port ${port}`;
  const session =
    r.tracked === true
      ? `${from} stays up (connection tracking follows it and the table accepts established connections), but`
      : r.tracked === false
        ? `${from} will be cut off when knockgated installs its table (connection tracking does not follow it: it began before anything here used conntrack, so its next packet meets the drop), and`
        : `${from} may be cut off when knockgated installs its table (whether connection tracking follows it cannot be told here), and`;
  return (
    `${session} a new connection from ${r.remoteAddress} to port ${port} will be dropped: ` +
    'no grant, exempt interface or lo covers it; knock first, or add the interface to exempt_interfaces'
  );
}
