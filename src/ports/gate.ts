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
}

/** A grant as the kernel holds it. */
export interface ActiveGrant {
  readonly source: string;
  readonly family: 4 | 6;
  readonly endpoint: Endpoint;
  /** Whole seconds left, as the kernel reports them. */
  readonly expiresInS: number;
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
