/**
 * The nftables gate: knockgate's own table (see nftables-ruleset.ts), changed only through atomic
 * JSON batches (through the libnftables worker, or `nft -j -f` when it is not built). Grants are set elements with kernel timeouts, so they expire on time even if
 * the daemon is killed, and the deny rules stay in place when it stops: fail closed.
 *
 * Grants are batched: while one batch is in the kernel, new grants queue and go together in the
 * next, so a burst of a thousand grants costs a few transactions rather than one each. A mirror of the expiry times the gate
 * has set lets it skip a knock that would not lengthen a grant.
 */

import { endpointKey, type Endpoint } from '../core/endpoint.js';
import { KnockgateError } from '../core/errors.js';
import { GRANT_MIRROR_GRACE_MS, MAX_GRANTS_PER_FIREWALL_BATCH } from '../core/limits.js';
import type { ActiveGrant, Gate, GateLayout, GrantRequest } from '../ports/gate.js';
import { createNftExecutor, type NftExecutor } from './nft-runner.js';
import { grantsFromListing, installBatch, setGrantCommands, type NftCommand } from './nftables-ruleset.js';

interface Pending {
  readonly commands: NftCommand[];
  readonly commit: () => void;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class NftablesGate implements Gate {
  readonly kind = 'nftables';
  private readonly nft: NftExecutor;
  /** `family|source|endpointKey` → monotonic ms at which the kernel drops the element. */
  private readonly expiry = new Map<string, number>();
  private queue: Pending[] = [];
  private running = false;

  constructor(
    private readonly table: string,
    private readonly nowMs: () => number,
    nft?: NftExecutor,
  ) {
    this.nft = nft ?? createNftExecutor();
  }

  /** How batches reach the kernel: 'worker' (libnftables) or 'spawn' (nft per batch). */
  get transport(): 'worker' | 'spawn' {
    return this.nft.kind;
  }

  close(): void {
    this.nft.close();
  }

  async install(layout: GateLayout): Promise<readonly ActiveGrant[]> {
    const existing = await this.list();
    const protectedKeys = new Set(layout.protectedPorts.map((e) => endpointKey(e.proto, e.port)));
    const kept: ActiveGrant[] = [];
    const stale: ActiveGrant[] = [];
    for (const g of existing) (protectedKeys.has(endpointKey(g.endpoint.proto, g.endpoint.port)) ? kept : stale).push(g);
    await this.enqueue(installBatch(this.table, layout, stale), () => {
      // Grants made since the listing are already in the mirror with exact times; keep those.
      const now = this.nowMs();
      for (const g of stale) this.expiry.delete(mirrorKey(g.family, g.source, g.endpoint));
      for (const g of kept) {
        const key = mirrorKey(g.family, g.source, g.endpoint);
        if (!this.expiry.has(key)) this.expiry.set(key, now + g.expiresInS * 1000);
      }
    });
    return kept;
  }

  async grant(req: GrantRequest): Promise<void> {
    const now = this.nowMs();
    const target = now + req.durationS * 1000;
    const commands: NftCommand[] = [];
    const keys: string[] = [];
    for (const e of req.endpoints) {
      const key = mirrorKey(req.family, req.source, e);
      const current = this.expiry.get(key);
      if (current !== undefined && current >= target) continue;
      // The mirror holds every element the kernel may still hold (entries outlive their expiry by
      // GRANT_MIRROR_GRACE_MS, for the kernel's timer granularity): absent here, absent there.
      commands.push(...setGrantCommands(this.table, req.source, req.family, e, req.durationS, current !== undefined));
      keys.push(key);
    }
    if (commands.length === 0) return;
    await this.enqueue(commands, () => {
      for (const k of keys) this.expiry.set(k, target);
    });
    if (this.expiry.size > 4 * MAX_GRANTS_PER_FIREWALL_BATCH) this.prune(this.nowMs());
  }

  async list(): Promise<readonly ActiveGrant[]> {
    const listing = await this.nft.listTable('inet', this.table);
    if (listing === undefined) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(listing);
    } catch {
      throw new KnockgateError('KG_FIREWALL_FAILED', `nft printed JSON we cannot read for table inet ${this.table}`);
    }
    return grantsFromListing(parsed);
  }

  private prune(now: number): void {
    for (const [k, t] of this.expiry) if (t + GRANT_MIRROR_GRACE_MS <= now) this.expiry.delete(k);
  }

  private enqueue(commands: NftCommand[], commit: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ commands, commit, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_GRANTS_PER_FIREWALL_BATCH);
        try {
          await this.nft.apply(batch.flatMap((p) => p.commands));
          for (const p of batch) {
            p.commit();
            p.resolve();
          }
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}

function mirrorKey(family: 4 | 6, source: string, e: Endpoint): string {
  return `${family}|${source}|${endpointKey(e.proto, e.port)}`;
}
