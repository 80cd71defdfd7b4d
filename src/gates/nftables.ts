/**
 * The nftables gate: knockgate's own table (see nftables-ruleset.ts), changed only through atomic
 * JSON batches (through the libnftables worker, or `nft -j -f` when it is not built). Grants are set elements with kernel timeouts, so they expire on time even if
 * the daemon is killed, and the deny rules stay in place when it stops: fail closed.
 *
 * Grants are batched: while one batch is in the kernel, new grants queue and go together in the
 * next, so a burst of a thousand grants costs a few transactions rather than one each. A batch is
 * cut by count and by bytes (the worker takes at most 16 MiB). A batch the kernel refuses is
 * all-or-nothing there, so its grants are retried one by one: only the one that is at fault fails.
 * A mirror of the expiry times the gate has set lets it skip a knock that would not lengthen a
 * grant, and an address already inside a live prefix grant (the kernel's interval sets refuse an
 * overlapping element with "File exists") that runs at least as long. Knocks for one element are
 * decided one after the other: a second waits until the first is settled in the mirror.
 */

import { endpointKey, type Endpoint } from '../core/endpoint.js';
import { KnockgateError } from '../core/errors.js';
import { GRANT_MIRROR_GRACE_MS, GRANT_MIRROR_PRUNE_ENTRIES } from '../core/limits.js';
import { maskIPAddress, parseIPAddress, sameIPAddress, type IPAddressBytes } from '../core/ip-address.js';
import {
  grantablePorts,
  type ActiveGrant,
  type Gate,
  type GateLayout,
  type GrantRequest,
  type RevokeRequest,
} from '../ports/gate.js';
import { createNftExecutor, type NftExecutor } from './nft-runner.js';
import { natFromListing, revokeNatCommands, setNatCommands, type NatValue } from './nftables-forward.js';
import {
  elementKeyText,
  grantElementKey,
  grantsFromListing,
  installBatch,
  revokeGrantCommands,
  setGrantCommands,
  type NftCommand,
} from './nftables-ruleset.js';
import { BatchQueue } from './batch-queue.js';

export class NftablesGate implements Gate {
  readonly kind = 'nftables';
  readonly enforcing = true;
  private readonly nft: NftExecutor;
  /** `family|source|endpointKey` → monotonic ms at which the kernel drops the element. */
  private readonly expiry = new Map<string, number>();
  /** The prefix grants among them (mirror key → network), to see addresses they cover. */
  private readonly prefixes = new Map<
    string,
    { family: 4 | 6; network: IPAddressBytes; length: number; endpoint: number }
  >();
  /**
   * Grants queued or in the kernel and not yet settled, by mirror key. A second knock for the same
   * element waits for the first to settle: decided against the mirror alone, both would be sent as
   * new (a bare `add`, which leaves an element that exists with the timeout it had, so the shorter
   * of the two would win in the kernel) or the second would replace the first with a shorter one.
   */
  private readonly unsettled = new Map<string, Promise<void>>();
  /** Mirror key → where the gate last sent that element's traffic (port-forwarded grants only). */
  private readonly nat = new Map<string, NatValue>();
  /** Changes cut into transactions; a change's size is its commands' JSON (the worker's frame). */
  private readonly batches = new BatchQueue<NftCommand[]>(
    (batch) => this.timedApply(batch.flat()),
    (commands) => JSON.stringify(commands).length,
  );

  /**
   * `observeBatch` is told how long each transaction took in the kernel (seconds, wall clock from
   * handing it to libnftables to its answer) and whether it was applied: the batch latency histogram.
   */
  constructor(
    private readonly table: string,
    private readonly nowMs: () => number,
    nft?: NftExecutor,
    private readonly observeBatch: (seconds: number, outcome: 'applied' | 'refused') => void = () => undefined,
  ) {
    this.nft = nft ?? createNftExecutor();
  }

  /** How batches reach the kernel: 'worker' (libnftables) or 'spawn' (nft per batch). */
  get transport(): 'worker' | 'spawn' {
    return this.nft.kind;
  }

  /** How grant-set changes reach the kernel: 'in-process' (nft-element-binding.ts), 'worker' or 'spawn'. */
  get grantPath(): 'in-process' | 'worker' | 'spawn' {
    return this.nft.grantPath;
  }

  close(): void {
    this.nft.close();
  }

  async install(layout: GateLayout): Promise<readonly ActiveGrant[]> {
    const listing = await this.listing();
    const existing = grantsFromListing(listing);
    const forwards = natFromListing(listing, elementKeyText);
    const protectedKeys = new Set(grantablePorts(layout).map((e) => endpointKey(e.proto, e.port)));
    const kept: ActiveGrant[] = [];
    const stale: ActiveGrant[] = [];
    // A grant forwarded where the configuration no longer forwards (nat: changed, FORCE_NAT
    // removed) is stale too: kept, it would go on to a host nobody allows any more, or, with its
    // forward removed, on to this host, which its knock never asked for.
    const allowed = new Set(
      (layout.natForwards ?? []).map(
        (n) => `${n.family}|${endpointKey(n.from.proto, n.from.port)}|${n.to}|${n.toPort}`,
      ),
    );
    const forwardAllowed = (g: ActiveGrant): boolean => {
      const f = forwards.get(mirrorKey(g.family, g.source, g.endpoint));
      return (
        f === undefined ||
        allowed.has(`${g.family}|${endpointKey(g.endpoint.proto, g.endpoint.port)}|${f.to}|${f.port}`)
      );
    };
    for (const g of existing)
      (protectedKeys.has(endpointKey(g.endpoint.proto, g.endpoint.port)) && forwardAllowed(g) ? kept : stale).push(g);
    const staleForwards = stale.flatMap((g) => {
      const previous = forwards.get(mirrorKey(g.family, g.source, g.endpoint));
      return previous === undefined
        ? []
        : revokeNatCommands(this.table, g.family, grantElementKey(g.source, g.endpoint), previous);
    });
    await this.enqueue([...installBatch(this.table, layout, stale), ...staleForwards], () => {
      // Grants made since the listing are already in the mirror with exact times; keep those.
      const now = this.nowMs();
      for (const g of stale) {
        this.expiry.delete(mirrorKey(g.family, g.source, g.endpoint));
        this.prefixes.delete(mirrorKey(g.family, g.source, g.endpoint));
        this.nat.delete(mirrorKey(g.family, g.source, g.endpoint));
      }
      for (const g of kept) {
        const key = mirrorKey(g.family, g.source, g.endpoint);
        if (!this.expiry.has(key)) this.expiry.set(key, now + g.expiresInS * 1000);
        const forward = forwards.get(key);
        if (forward !== undefined && !this.nat.has(key)) this.nat.set(key, forward);
        const prefix = g.source.includes('/') ? parsePrefix(g.source) : null;
        if (prefix !== null && !this.prefixes.has(key))
          this.prefixes.set(key, {
            family: g.family,
            ...prefix,
            endpoint: endpointKey(g.endpoint.proto, g.endpoint.port),
          });
      }
    });
    return kept;
  }

  async grant(req: GrantRequest): Promise<void> {
    for (;;) {
      const earlier = req.endpoints
        .map((e) => this.unsettled.get(mirrorKey(req.family, req.source, e)))
        .filter((p) => p !== undefined);
      if (earlier.length === 0) break;
      await Promise.allSettled(earlier);
    }
    const now = this.nowMs();
    const target = now + req.durationS * 1000;
    const commands: NftCommand[] = [];
    const keys: string[] = [];
    const forwards = new Map<string, NatValue>();
    const unforwarded: string[] = [];
    const single = req.source.includes('/') ? null : parseIPAddress(req.source);
    for (const e of req.endpoints) {
      const key = mirrorKey(req.family, req.source, e);
      const current = this.expiry.get(key);
      const previous = this.nat.get(key);
      const forward =
        req.nat === undefined
          ? previous
          : req.nat === null
            ? undefined
            : { to: req.nat.to, port: req.nat.port ?? e.port };
      const samePath = forward?.to === previous?.to && forward?.port === previous?.port;
      if (current !== undefined && current >= target && samePath) continue;
      if (forward === undefined && single !== null && this.coveredUntil(single, e) >= target) continue;
      // The mirror holds every element the kernel may still hold (entries outlive their expiry by
      // GRANT_MIRROR_GRACE_MS, for the kernel's timer granularity): absent here, absent there.
      // The port-forward goes first, in the same transaction: the grant never admits a source
      // whose traffic should be forwarded to this host instead.
      const timeoutS = current !== undefined && current > target ? Math.ceil((current - now) / 1000) : req.durationS;
      if (forward !== undefined) {
        commands.push(
          ...setNatCommands(this.table, req.family, grantElementKey(req.source, e), timeoutS, forward, previous),
        );
        forwards.set(key, forward);
      } else if (previous !== undefined) {
        commands.push(...revokeNatCommands(this.table, req.family, grantElementKey(req.source, e), previous));
        unforwarded.push(key);
      }
      commands.push(...setGrantCommands(this.table, req.source, req.family, e, timeoutS, current !== undefined));
      keys.push(key);
    }
    if (commands.length === 0) return;
    const prefix = req.source.includes('/') ? parsePrefix(req.source) : null;
    const applied = this.enqueue(commands, () => {
      for (const k of keys) this.expiry.set(k, Math.max(target, this.expiry.get(k) ?? 0));
      for (const [k, forward] of forwards) this.nat.set(k, forward);
      for (const k of unforwarded) this.nat.delete(k);
      if (prefix !== null) {
        for (const e of req.endpoints)
          this.prefixes.set(mirrorKey(req.family, req.source, e), {
            family: req.family,
            ...prefix,
            endpoint: endpointKey(e.proto, e.port),
          });
      }
    });
    for (const k of keys) this.unsettled.set(k, applied);
    try {
      await applied;
    } finally {
      for (const k of keys) if (this.unsettled.get(k) === applied) this.unsettled.delete(k);
    }
    if (this.expiry.size > GRANT_MIRROR_PRUNE_ENTRIES) this.prune(this.nowMs());
  }

  /**
   * Deletes the elements the mirror says the kernel may still hold (every element made or adopted
   * by this process and not yet pruned); for the others there is nothing to delete. A grant whose
   * promise has not resolved is not in the mirror yet: revoke after it resolves.
   */
  async revoke(req: RevokeRequest): Promise<void> {
    const commands: NftCommand[] = [];
    const keys: string[] = [];
    for (const e of req.endpoints) {
      const key = mirrorKey(req.family, req.source, e);
      if (!this.expiry.has(key)) continue;
      commands.push(...revokeGrantCommands(this.table, req.source, req.family, e));
      const previous = this.nat.get(key);
      if (previous !== undefined)
        commands.push(...revokeNatCommands(this.table, req.family, grantElementKey(req.source, e), previous));
      keys.push(key);
    }
    if (commands.length === 0) return;
    await this.enqueue(commands, () => {
      for (const k of keys) {
        this.expiry.delete(k);
        this.prefixes.delete(k);
        this.nat.delete(k);
      }
    });
  }

  async list(): Promise<readonly ActiveGrant[]> {
    return grantsFromListing(await this.listing());
  }

  /** The table as `nft -j list table` prints it; null when there is no table yet. */
  private async listing(): Promise<unknown> {
    const listing = await this.nft.listTable('inet', this.table);
    if (listing === undefined) return null;
    try {
      return JSON.parse(listing);
    } catch {
      throw new KnockgateError('KG_FIREWALL_FAILED', `nft printed JSON we cannot read for table inet ${this.table}`);
    }
  }

  private prune(now: number): void {
    for (const [k, t] of this.expiry) {
      if (t + GRANT_MIRROR_GRACE_MS <= now) {
        this.expiry.delete(k);
        this.prefixes.delete(k);
        this.nat.delete(k);
      }
    }
  }

  /** Until when (monotonic ms) a live prefix grant covers `address` at `e`; -Infinity if none does. */
  private coveredUntil(address: IPAddressBytes, e: Endpoint): number {
    let until = -Infinity;
    const ek = endpointKey(e.proto, e.port);
    for (const [k, p] of this.prefixes) {
      if (p.endpoint !== ek || p.family !== address.family) continue;
      const t = this.expiry.get(k);
      if (t !== undefined && t > until && sameIPAddress(maskIPAddress(address, p.length), p.network)) until = t;
    }
    return until;
  }

  private enqueue(commands: NftCommand[], commit: () => void): Promise<void> {
    return this.batches.change(commands, commit);
  }

  private async timedApply(commands: NftCommand[]): Promise<void> {
    const started = performance.now();
    let outcome: 'applied' | 'refused' = 'refused';
    try {
      await this.nft.apply(commands);
      outcome = 'applied';
    } finally {
      this.observeBatch((performance.now() - started) / 1000, outcome);
    }
  }
}

/** `addr/len` as a network; the gate's callers give only masked, validated prefixes. */
function parsePrefix(source: string): { network: IPAddressBytes; length: number } | null {
  const slash = source.indexOf('/');
  const address = parseIPAddress(source.slice(0, slash));
  const length = Number(source.slice(slash + 1));
  return address === null || !Number.isInteger(length) ? null : { network: maskIPAddress(address, length), length };
}

function mirrorKey(family: 4 | 6, source: string, e: Endpoint): string {
  return `${family}|${source}|${endpointKey(e.proto, e.port)}`;
}
