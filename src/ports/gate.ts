/**
 * The firewall, seen from the daemon. An implementation owns its own part of the firewall (one
 * nftables table), holds grants in the kernel with kernel-side expiry, and keeps the protected
 * ports closed whether or not the daemon runs (fail closed).
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

export interface Gate {
  readonly kind: string;
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
}
