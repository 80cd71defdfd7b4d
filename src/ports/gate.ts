/**
 * The firewall, seen from the daemon. An implementation owns its own part of the firewall (one
 * nftables table), holds grants in the kernel with kernel-side expiry, and keeps the protected
 * ports closed whether or not the daemon runs (fail closed). Implementations: gates/nftables.ts
 * (the kernel), gates/iptables.ts (the kernel, through iptables chains and ipsets), gates/memory.ts (in process, expiry on an injected clock: unit tests and
 * --dry-run), gates/none.ts (`firewall: none`: doors run their commands and nothing else).
 */

import type { Endpoint } from '../core/endpoint.js';

export interface GrantRequest {
  readonly source: string;
  readonly family: 4 | 6;
  readonly endpoints: readonly Endpoint[];
  readonly durationS: number;
  /**
   * Forward this grant's traffic to an inner address of the same family, at `port` (null: each
   * endpoint's own port), for the grant's lifetime. null: to this host (an element forwarded by
   * an earlier grant is moved back: the latest grant decides where its source goes). Absent: an
   * element keeps the path it has (an operator's extension, a regrant after a revoke).
   */
  readonly nat?: { readonly to: string; readonly port: number | null } | null;
}

/** A grant as the kernel holds it. */
export interface ActiveGrant {
  readonly source: string;
  readonly family: 4 | 6;
  readonly endpoint: Endpoint;
  /** Whole seconds left, as the kernel reports them. */
  readonly expiresInS: number;
}

/**
 * Where the firewall sends the knock ports' packets for a sensor that reads the firewall itself:
 * an NFLOG group (`log group N`: the packet to the daemon) or the kernel log (`log prefix "P"`:
 * a LOG line). Only these ports are logged, before any drop of this gate, and only on
 * `interfaces` (every interface when empty), so that nothing but knocks reaches user space.
 */
export interface KnockLogRule {
  readonly to:
    | { readonly kind: 'nflog'; readonly group: number }
    | { readonly kind: 'prefix'; readonly prefix: string };
  readonly ports: readonly Endpoint[];
  readonly interfaces: readonly string[];
}

export interface GateLayout {
  /** Ports closed to every source that holds no grant. */
  readonly protectedPorts: readonly Endpoint[];
  /** Knock ports, dropped so that they look filtered rather than closed. */
  readonly hiddenPorts: readonly Endpoint[];
  /** UDP ports where a socket takes SPA: kept out of connection tracking. */
  readonly untrackedUdpPorts: readonly number[];
  /** Interfaces on which protected and hidden ports are NOT dropped, besides lo (always exempt). */
  readonly exemptInterfaces: readonly string[];
  /**
   * Ports guarded on traffic to or through this host before any DNAT (doors with `hook: forward`
   * or `nat:`): dropped for every source without a grant for them, whatever their destination.
   * A grant names (source, protocol, port), so it admits its source on both paths.
   */
  readonly forwardedPorts?: readonly Endpoint[];
  /** Port-forwards applied to granted sources only (doors with `nat:`). */
  readonly natForwards?: readonly NatForward[];
  /** The log rule a firewall-log sensor reads (absent: none; the pcap sensor needs none). */
  readonly knockLog?: KnockLogRule;
}

/** Every port a grant may be kept for: the input path's protected ports and the forwarded ones. */
export function grantablePorts(layout: GateLayout): Endpoint[] {
  return [...layout.protectedPorts, ...(layout.forwardedPorts ?? [])];
}

/** Granted traffic to `from` on this host goes on to `to` at `toPort` (DNAT), and is masqueraded if asked. */
export interface NatForward {
  readonly from: Endpoint;
  readonly family: 4 | 6;
  readonly to: string;
  readonly toPort: number;
  readonly masquerade: boolean;
  /** Rewrite the source to this address instead (fwknop's FORCE_SNAT). */
  readonly snatTo?: string | null;
}

/** What to close: the same source, family and endpoints a grant was made with. */
export interface RevokeRequest {
  readonly source: string;
  readonly family: 4 | 6;
  readonly endpoints: readonly Endpoint[];
}

export interface Gate {
  readonly kind: string;
  /**
   * False for a gate that changes no firewall (`firewall: none`): the daemon then reports no
   * firewall installed and no grant kept, since there is none.
   */
  readonly enforcing: boolean;
  /** How changes reach the kernel (e.g. 'worker', 'spawn'), for the log. */
  readonly transport?: string;
  /** How grants reach the kernel, where that differs from `transport` (nftables: 'in-process'), for the log. */
  readonly grantPath?: string;
  /**
   * Installs or replaces the deny rules in one atomic step, keeping the grants that still cover a
   * protected port and removing the rest. Returns the grants it kept. Throws KnockgateError.
   */
  install(layout: GateLayout): Promise<readonly ActiveGrant[]>;
  /**
   * Makes or extends the grants; resolves once the kernel holds them. A grant that already has at
   * least as long to run is left alone: a knock never shortens access. Throws KnockgateError.
   */
  grant(request: GrantRequest): Promise<void>;
  /** The grants the kernel holds now. */
  list(): Promise<readonly ActiveGrant[]>;
  /**
   * Closes these grants at once (an element that is already gone is no error); resolves once the
   * kernel no longer holds them. Connections already established are left alone (they outlive a
   * grant, as with fwknop). Throws KnockgateError.
   */
  revoke(request: RevokeRequest): Promise<void>;
  /** Releases what the gate holds in this process (a worker thread); the firewall stays as it is. */
  close(): void;
}
