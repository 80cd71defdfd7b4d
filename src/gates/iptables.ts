/**
 * The iptables gate (`firewall: iptables`): knockgate's own chains and ipsets (iptables-ruleset.ts),
 * for hosts that run iptables (iptables-nft or iptables-legacy) rather than nftables tooling.
 * Grants are ipset entries with kernel timeouts, so they expire on time even if the daemon is
 * killed; the chains, their jumps and the sets stay when it stops: fail closed.
 *
 * install(): creates the sets (`ipset -exist restore`: kept with their entries when they exist),
 * lists the entries the kernel holds, replaces each family's chains and moves their jumps first in
 * one `iptables-restore --noflush` COMMIT per family (refused: the previous rules stay), then
 * deletes the entries for ports no longer guarded (on the input or the forward path). A chain of knockgate's name that knockgate
 * did not make (no owner's mark) is refused before anything changes.
 *
 * grant(): `-exist add SET ELEM timeout N` sets an entry's timeout to N whatever it was, so a
 * mirror of the expiry times this process has set or adopted decides first: a knock that would
 * not lengthen an entry sends nothing (a knock never shortens access), and knocking again only
 * moves the one entry's timeout (a set holds an element once: never a second rule). Knocks for
 * one entry are decided one after the other, as in the nftables gate. Grants queue while a batch
 * runs and go together in the next `ipset restore`; ipset applies a batch line by line and stops
 * at the first refused line, so a refused batch is retried one grant at a time (`-exist` makes a
 * line applied twice harmless) and only the grant at fault fails.
 */

import { endpointKey, type Endpoint } from '../core/endpoint.js';
import { KnockgateError } from '../core/errors.js';
import { GRANT_MIRROR_GRACE_MS, GRANT_MIRROR_PRUNE_ENTRIES } from '../core/limits.js';
import {
  grantablePorts,
  type ActiveGrant,
  type Gate,
  type GateLayout,
  type GrantRequest,
  type RevokeRequest,
} from '../ports/gate.js';
import { grantsFromIpsetSave } from './ipset-listing.js';
import {
  chainOwnership,
  countJumps,
  grantLine,
  grantSets,
  ipsetCreateText,
  ipsetElement,
  iptablesNames,
  restoreText,
  revokeLine,
  setFor,
  type IptablesNames,
  type LiveJumps,
} from './iptables-ruleset.js';
import { complaint, requirePrograms, SpawnIptables, WAIT_ARGS, type IptablesExecutor } from './iptables-runner.js';
import { BatchQueue } from './batch-queue.js';

const NO_SUCH_SET = /does not exist/;
/**
 * What `iptables -S CHAIN` says of a chain that does not exist: iptables-legacy "No
 * chain/target/match by that name", iptables-nft 1.8.9 "chain `X' in table `T' is incompatible"
 * (the same words as for a chain nft made that it cannot read; such a chain of our name would be
 * replaced by the restore).
 */
const NO_SUCH_CHAIN = /No chain\/target\/match by that name|does not exist|is incompatible, use 'nft' tool/;

export class IptablesGate implements Gate {
  readonly kind = 'iptables';
  readonly enforcing = true;
  readonly transport = 'spawn';
  readonly names: IptablesNames;
  /** `family|source|endpointKey` → monotonic ms at which the kernel drops the entry. */
  private readonly expiry = new Map<string, number>();
  private readonly unsettled = new Map<string, Promise<void>>();
  /** Grant lines cut into `ipset restore` runs; an install runs alone. */
  private readonly batches = new BatchQueue<string>(
    (batch) => this.timedApply(batch.join('')),
    (lines) => lines.length,
  );
  private checkedPrograms = false;

  constructor(
    private readonly table: string,
    private readonly nowMs: () => number,
    private readonly exec: IptablesExecutor = new SpawnIptables(),
    private readonly observeBatch: (seconds: number, outcome: 'applied' | 'refused') => void = () => undefined,
  ) {
    this.names = iptablesNames(table);
  }

  close(): void {}

  install(layout: GateLayout): Promise<readonly ActiveGrant[]> {
    let kept: ActiveGrant[] = [];
    let stale: ActiveGrant[] = [];
    const job = async (): Promise<void> => {
      if (!this.checkedPrograms && this.exec instanceof SpawnIptables) requirePrograms();
      this.checkedPrograms = true;
      await this.ipset(ipsetCreateText(this.names), 'creating the sets');
      const existing = await this.list();
      // Grants for forwarded ports are kept too: a grant names (source, port), whichever path it opens.
      const protectedKeys = new Set(grantablePorts(layout).map((e) => endpointKey(e.proto, e.port)));
      kept = existing.filter((g) => protectedKeys.has(endpointKey(g.endpoint.proto, g.endpoint.port)));
      stale = existing.filter((g) => !protectedKeys.has(endpointKey(g.endpoint.proto, g.endpoint.port)));
      const texts = new Map<4 | 6, string>();
      for (const family of [4, 6] as const)
        texts.set(family, restoreText(this.names, family, layout, await this.liveJumps(family)));
      for (const family of [4, 6] as const) {
        const program = family === 4 ? 'iptables-restore' : 'ip6tables-restore';
        const r = await this.exec.run(program, ['--noflush', ...WAIT_ARGS], texts.get(family));
        if (r.code !== 0)
          throw new KnockgateError(
            'KG_FIREWALL_FAILED',
            `${program} refused knockgate's chains for table ${this.table} (the previous rules stay in place): ${complaint(r)}`,
          );
      }
      const lines = stale.map((g) => this.revokeLines(g.family, g.source, [g.endpoint])).join('');
      if (lines !== '') await this.ipset(lines, 'removing grants for ports no longer protected');
    };
    return this.enqueue(
      '',
      () => {
        const now = this.nowMs();
        for (const g of stale) this.expiry.delete(mirrorKey(g.family, g.source, g.endpoint));
        for (const g of kept) {
          const key = mirrorKey(g.family, g.source, g.endpoint);
          if (!this.expiry.has(key)) this.expiry.set(key, now + g.expiresInS * 1000);
        }
      },
      job,
    ).then(() => kept);
  }

  async grant(req: GrantRequest): Promise<void> {
    for (;;) {
      const earlier = req.endpoints
        .map((e) => this.unsettled.get(mirrorKey(req.family, req.source, e)))
        .filter((p) => p !== undefined);
      if (earlier.length === 0) break;
      await Promise.allSettled(earlier);
    }
    const target = this.nowMs() + req.durationS * 1000;
    const set = setFor(this.names, req.family, req.source).name;
    let lines = '';
    const keys: string[] = [];
    for (const e of req.endpoints) {
      const key = mirrorKey(req.family, req.source, e);
      const current = this.expiry.get(key);
      if (current !== undefined && current >= target) continue;
      lines += grantLine(set, this.element(req.family, req.source, e), req.durationS);
      keys.push(key);
    }
    if (lines === '') return;
    const applied = this.enqueue(lines, () => {
      for (const k of keys) this.expiry.set(k, target);
    });
    for (const k of keys) this.unsettled.set(k, applied);
    try {
      await applied;
    } finally {
      for (const k of keys) if (this.unsettled.get(k) === applied) this.unsettled.delete(k);
    }
    if (this.expiry.size > GRANT_MIRROR_PRUNE_ENTRIES) this.prune(this.nowMs());
  }

  /** Deletes the entries (`-exist`: one already gone is no error), whether or not this process made them. */
  async revoke(req: RevokeRequest): Promise<void> {
    const lines = this.revokeLines(req.family, req.source, req.endpoints);
    if (lines === '') return;
    await this.enqueue(lines, () => {
      for (const e of req.endpoints) this.expiry.delete(mirrorKey(req.family, req.source, e));
    });
  }

  async list(): Promise<readonly ActiveGrant[]> {
    const out: ActiveGrant[] = [];
    for (const set of grantSets(this.names)) {
      const r = await this.exec.run('ipset', ['list', '-output', 'save', set.name]);
      if (r.code !== 0) {
        if (NO_SUCH_SET.test(r.stderr)) continue;
        throw new KnockgateError('KG_FIREWALL_FAILED', `ipset list ${set.name} failed: ${complaint(r)}`);
      }
      out.push(...grantsFromIpsetSave(r.stdout, set));
    }
    return out;
  }

  private revokeLines(family: 4 | 6, source: string, endpoints: readonly Endpoint[]): string {
    const set = setFor(this.names, family, source).name;
    return endpoints.map((e) => revokeLine(set, this.element(family, source, e))).join('');
  }

  private element(family: 4 | 6, source: string, e: Endpoint): string {
    const element = ipsetElement(family, source, e);
    if (element === null)
      throw new KnockgateError('KG_FIREWALL_FAILED', `${source} is not an IPv${family} address or prefix`);
    return element;
  }

  /** The jumps to our chains now in the built-in chains; refuses a chain of our name that is not ours. */
  private async liveJumps(family: 4 | 6): Promise<LiveJumps> {
    const program = family === 4 ? 'iptables' : 'ip6tables';
    const listing = async (args: string[]): Promise<string> => {
      const r = await this.exec.run(program, [...WAIT_ARGS, ...args]);
      if (r.code === 0) return r.stdout;
      if (NO_SUCH_CHAIN.test(r.stderr)) return '';
      throw new KnockgateError('KG_FIREWALL_UNAVAILABLE', `${program} ${args.join(' ')} failed: ${complaint(r)}`);
    };
    for (const [table, chain] of [
      ['filter', this.names.input],
      ['filter', this.names.forward],
      ['mangle', this.names.mangle],
      ['raw', this.names.raw],
    ] as const) {
      if (chainOwnership(await listing(['-t', table, '-S', chain]), chain) === 'foreign')
        throw new KnockgateError(
          'KG_FIREWALL_FAILED',
          `${program} already has a chain ${chain} (table ${table}) that knockgate did not make (its first rule is not "-m comment --comment knockgate: ..."); nothing was changed: rename it or set nft_table to another name`,
        );
    }
    return {
      input: countJumps(await listing(['-t', 'filter', '-S', 'INPUT']), 'INPUT', this.names.input),
      forward: countJumps(await listing(['-t', 'filter', '-S', 'FORWARD']), 'FORWARD', this.names.forward),
      mangle: countJumps(await listing(['-t', 'mangle', '-S', 'PREROUTING']), 'PREROUTING', this.names.mangle),
      raw: countJumps(await listing(['-t', 'raw', '-S', 'PREROUTING']), 'PREROUTING', this.names.raw),
    };
  }

  private async ipset(lines: string, what: string): Promise<void> {
    const r = await this.exec.run('ipset', ['-exist', 'restore'], lines);
    if (r.code !== 0)
      throw new KnockgateError('KG_FIREWALL_FAILED', `ipset refused ${what} for table ${this.table}: ${complaint(r)}`);
  }

  private prune(now: number): void {
    for (const [k, t] of this.expiry) if (t + GRANT_MIRROR_GRACE_MS <= now) this.expiry.delete(k);
  }

  /** With `job`: that job alone (an install), `lines` unused; else grant lines, batched. */
  private enqueue(lines: string, commit: () => void, job?: () => Promise<void>): Promise<void> {
    return job === undefined ? this.batches.change(lines, commit) : this.batches.alone(job, commit);
  }

  private async timedApply(lines: string): Promise<void> {
    const started = performance.now();
    let outcome: 'applied' | 'refused' = 'refused';
    try {
      await this.ipset(lines, 'a change to the grants');
      outcome = 'applied';
    } finally {
      this.observeBatch((performance.now() - started) / 1000, outcome);
    }
  }
}

function mirrorKey(family: 4 | 6, source: string, e: Endpoint): string {
  return `${family}|${source}|${endpointKey(e.proto, e.port)}`;
}
