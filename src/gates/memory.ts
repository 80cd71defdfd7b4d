/**
 * A gate held in process: what the nftables gate keeps in the kernel (the layout, one element per
 * source, protocol and port, each with its own timeout), kept in maps, with the kernel's expiry
 * on an injected monotonic clock. It powers the daemon's unit tests and --dry-run (daemon/dry-run.ts):
 * admits() answers what the kernel would do with a new connection, logs() whether the layout's log
 * rule would hand a packet to a firewall-log sensor.
 *
 * Like the kernel: a grant never shortens an element that runs longer; an element is gone the
 * moment its timeout runs out, daemon or no daemon; install() keeps the grants that still cover a
 * protected port and drops the others; revoke() of an element that is gone is no error; list()
 * reports whole seconds left, rounded down, as `nft -j` prints them. Unlike the kernel it does not
 * refuse an address inside a live prefix element (the interval-set overlap the nftables gate
 * steps around before it reaches the kernel).
 */

import { endpointKey, type Endpoint } from '../core/endpoint.js';
import { KnockgateError } from '../core/errors.js';
import { maskIPAddress, parseIPAddress, sameIPAddress } from '../core/ip-address.js';
import {
  grantablePorts,
  type ActiveGrant,
  type Gate,
  type GateLayout,
  type GrantRequest,
  type RevokeRequest,
} from '../ports/gate.js';

interface Element {
  readonly source: string;
  readonly family: 4 | 6;
  readonly endpoint: Endpoint;
  expiresAtMs: number;
}

const EMPTY_LAYOUT: GateLayout = { protectedPorts: [], hiddenPorts: [], untrackedUdpPorts: [], exemptInterfaces: [] };

export class MemoryGate implements Gate {
  readonly kind = 'memory';
  readonly enforcing = true;
  readonly transport = 'memory';
  /** When true, grant() and revoke() fail as a refused batch would (KG_FIREWALL_FAILED). */
  failChanges = false;
  /** How many times install() ran, for tests of the layout changes. */
  installs = 0;
  private current: GateLayout = EMPTY_LAYOUT;
  private readonly elements = new Map<string, Element>();
  private closed = false;

  constructor(private readonly nowMs: () => number) {}

  /** The layout last installed. */
  get layout(): GateLayout {
    return this.current;
  }

  async install(layout: GateLayout): Promise<readonly ActiveGrant[]> {
    this.usable();
    const protectedKeys = new Set(grantablePorts(layout).map((e) => endpointKey(e.proto, e.port)));
    for (const [k, el] of this.elements)
      if (!protectedKeys.has(endpointKey(el.endpoint.proto, el.endpoint.port))) this.elements.delete(k);
    this.current = layout;
    this.installs++;
    return this.list();
  }

  async grant(req: GrantRequest): Promise<void> {
    this.changeable();
    const target = this.nowMs() + req.durationS * 1000;
    for (const endpoint of req.endpoints) {
      const key = elementKey(req.family, req.source, endpoint);
      const el = this.live(key);
      if (el === undefined)
        this.elements.set(key, { source: req.source, family: req.family, endpoint, expiresAtMs: target });
      else if (el.expiresAtMs < target) el.expiresAtMs = target;
    }
  }

  async list(): Promise<readonly ActiveGrant[]> {
    this.usable();
    const now = this.nowMs();
    const out: ActiveGrant[] = [];
    for (const [key, el] of this.elements) {
      if (this.live(key) === undefined) continue;
      out.push({
        source: el.source,
        family: el.family,
        endpoint: el.endpoint,
        expiresInS: Math.floor((el.expiresAtMs - now) / 1000),
      });
    }
    return out;
  }

  async revoke(req: RevokeRequest): Promise<void> {
    this.changeable();
    for (const endpoint of req.endpoints) this.elements.delete(elementKey(req.family, req.source, endpoint));
  }

  close(): void {
    this.closed = true;
  }

  /**
   * The gate a daemon started after this one's stopped finds: the same elements with the same
   * expiry and the same layout (the kernel outlives the daemon).
   */
  reopened(): MemoryGate {
    const next = new MemoryGate(this.nowMs);
    for (const [key, el] of this.elements) next.elements.set(key, { ...el });
    next.current = this.current;
    return next;
  }

  /**
   * Whether a new connection from `address` to `endpoint` would get through: yes unless the port
   * is protected or hidden, then only under a live element for that address or a prefix holding it.
   */
  admits(address: string, endpoint: Endpoint): boolean {
    const a = parseIPAddress(address);
    if (a === null) return false;
    const k = endpointKey(endpoint.proto, endpoint.port);
    const guarded = [...grantablePorts(this.current), ...this.current.hiddenPorts].some(
      (e) => endpointKey(e.proto, e.port) === k,
    );
    if (!guarded) return true;
    for (const [key, el] of this.elements) {
      if (
        el.family !== a.family ||
        endpointKey(el.endpoint.proto, el.endpoint.port) !== k ||
        this.live(key) === undefined
      )
        continue;
      const slash = el.source.indexOf('/');
      const network = parseIPAddress(slash < 0 ? el.source : el.source.slice(0, slash));
      if (network === null) continue;
      const length = slash < 0 ? (a.family === 4 ? 32 : 128) : Number(el.source.slice(slash + 1));
      if (sameIPAddress(maskIPAddress(a, length), maskIPAddress(network, length))) return true;
    }
    return false;
  }

  /**
   * Whether a packet to `endpoint` arriving on `iface` would reach the firewall-log sensor (the
   * layout's knockLog rule): only knock ports, only on the rule's interfaces (all when it names none).
   */
  logs(endpoint: Endpoint, iface: string): boolean {
    const log = this.current.knockLog;
    if (log === undefined) return false;
    if (log.interfaces.length > 0 && !log.interfaces.includes(iface)) return false;
    const k = endpointKey(endpoint.proto, endpoint.port);
    return log.ports.some((e) => endpointKey(e.proto, e.port) === k);
  }

  /** The element under `key` if it has not run out; one that has is dropped, as the kernel does. */
  private live(key: string): Element | undefined {
    const el = this.elements.get(key);
    if (el !== undefined && el.expiresAtMs <= this.nowMs()) {
      this.elements.delete(key);
      return undefined;
    }
    return el;
  }

  private usable(): void {
    if (this.closed) throw new KnockgateError('KG_FIREWALL_FAILED', 'the memory gate is closed');
  }

  private changeable(): void {
    this.usable();
    if (this.failChanges)
      throw new KnockgateError('KG_FIREWALL_FAILED', 'the memory gate refused the change (failChanges)');
  }
}

function elementKey(family: 4 | 6, source: string, e: Endpoint): string {
  return `${family}|${source}|${endpointKey(e.proto, e.port)}`;
}
