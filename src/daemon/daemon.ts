/**
 * knockgated's running part: it receives every adapter it uses from the composition root
 * (compose.ts) and does no I/O of its own; its parts are wired in parts.ts, where a packet's way
 * is followed file by file. This file holds the life cycle: start, stop, the layout step.
 *
 * Start order, chosen so that a failure never leaves the host half-configured or locked out:
 *   1. stop commands left from before the restart are scheduled (overdue ones run now);
 *   2. SPA sockets and captures are opened (a missing interface fails here, before the firewall
 *      changes: we never hide a port behind a door nobody can knock on);
 *   3. the firewall layout is installed in one atomic batch, keeping live grants;
 *   4. frames are processed.
 * On stop the firewall is left exactly as it is: protected ports stay closed to everyone without a
 * grant and grants run out on the kernel's clock (fail closed); pending stop commands stay in
 * their store and run at the next start.
 * When a one-time sequence is used, the capture filter and the hidden knock ports change: that is
 * applyLayout(), an explicit step run after the packet callback that caused it, never inside it.
 */

import { formatEndpoint } from '../core/endpoint.js';
import { SEQUENCE_SWEEP_INTERVAL_MS } from '../core/limits.js';
import { collectDaemonState } from '../metrics/daemon-state.js';
import { statsLine } from '../metrics/stats-line.js';
import type { Timer } from '../ports/clock.js';
import type { DatagramSource } from '../ports/datagram-source.js';
import type { ParsedPacketSource } from '../ports/parsed-packet-source.js';
import { addStats } from './captures.js';
import type { DaemonDeps } from './daemon-deps.js';
import { logDoorsReady, logKeyOverlap } from './door-report.js';
import type { GrantRecord } from './grants.js';
import { captureSteps, gateLayout } from './layout.js';
import { Operations } from './operations.js';
import { buildParts, type DaemonParts } from './parts.js';

export type { DaemonDeps } from './daemon-deps.js';

export class Daemon {
  private readonly parts: DaemonParts;
  private datagramSources: DatagramSource[] = [];
  private parsedSources: ParsedPacketSource[] = [];
  private sweep: Timer | undefined;
  private overlapWatch: Timer | null = null;
  private layoutStep: NodeJS.Immediate | undefined;
  private stopped = false;
  /** What the control socket asks (control/server.ts): status, grants, revoke, extend, open. */
  readonly operations: Operations;

  constructor(private readonly deps: DaemonDeps) {
    this.parts = buildParts(deps, { stopped: () => this.stopped, layoutChanged: () => this.scheduleLayout() });
    const { tracker, captures, book } = this.parts;
    this.operations = new Operations({
      ...deps,
      book,
      grantor: this.parts.grantor,
      pending: this.parts.pending,
      sensors: () => this.sensorNames(),
      counters: () => this.stats(),
    });
    collectDaemonState(deps.metrics, this.parts.metrics.specs, {
      sequences: () => tracker.stats(),
      capture: () => captures.stats(),
      sockets: () =>
        this.datagramSources.length > 0 ? addStats({ received: 0, dropped: 0 }, this.datagramSources) : null,
      liveGrants: () => book.size,
    });
  }

  async start(): Promise<void> {
    const { gate, clock, config, log } = this.deps;
    const { pending, datagramDoors, captures, tracker, oneTime, stepsOf } = this.parts;
    pending.restore();
    for (const d of datagramDoors) {
      if (d.capture !== 'socket') continue;
      this.datagramSources.push(await this.deps.datagrams(d.port, (p, from, to) => d.handler.handle(p, from, to)));
    }
    for (const f of this.deps.parsedSources) this.parsedSources.push(f.open(this.parts.onPacket));
    captures.reopen(captureSteps(config, stepsOf));
    if (gate.enforcing) {
      const kept = await gate.install(gateLayout(config, stepsOf));
      const installed = {
        gate: gate.kind,
        transport: gate.transport,
        table: config.nftTable,
        grants_kept: kept.length,
      };
      log.info({ event: 'firewall-installed', ...installed }, 'firewall rules in place');
      for (const g of kept) {
        const adopted = { source: g.source, port: formatEndpoint(g.endpoint), expires_in_s: g.expiresInS };
        log.info({ event: 'grant-adopted', ...adopted }, 'grant found in the kernel kept');
      }
    }
    this.sweep = clock.every(SEQUENCE_SWEEP_INTERVAL_MS, () => tracker.sweep(clock.nowMs()));
    logDoorsReady(config, oneTime, log);
    for (const detail of config.warnings) log.warn({ event: 'config-warning', detail }, 'configuration warning');
    this.overlapWatch = logKeyOverlap(config, clock, log);
    const ready = { interfaces: config.interfaces, doors: config.doors.length, captures: this.sensorNames() };
    log.info({ event: 'ready', ...ready }, 'knockgated ready');
  }

  /** Stops capturing; leaves the firewall as it is (fail closed). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.logStats(); // while the sources can still report what the kernel delivered and dropped
    this.parts.captures.close();
    for (const d of this.datagramSources) d.close();
    this.datagramSources = [];
    for (const s of this.parsedSources) s.close();
    this.parsedSources = [];
    this.sweep?.cancel();
    this.overlapWatch?.cancel();
    if (this.layoutStep) clearImmediate(this.layoutStep);
    const live = this.parts.book.clear();
    this.parts.pending.cancelAll();
    await this.deps.commands.idle();
    await this.deps.replay?.close();
    this.deps.gate.close();
    this.deps.log.info(
      { event: 'stopped', live_grants: live.length, pending_stop_commands: this.parts.pending.size() },
      'knockgated stopped; firewall rules left in place, nftables grants expire on the kernel clock, pending stop commands are kept on disk and run at the next start',
    );
  }

  /** Every live grant: door, source, endpoints, client, since, until (what status and revoke will read). */
  grants(): readonly GrantRecord[] {
    return this.parts.book.list();
  }

  /** The captures and parsed-packet sensors open now. */
  private sensorNames(): string[] {
    return [...this.parts.captures.names(), ...this.parsedSources.map((s) => s.name)];
  }

  /** The figures of the `stats` log line, by their flat names (metrics/stats-line.ts). */
  stats(): Record<string, number> {
    return statsLine(this.deps.metrics.snapshot());
  }

  /** One log line with every counter (on SIGUSR1 and at stop). */
  logStats(): void {
    this.deps.log.info({ event: 'stats', ...this.stats() }, 'counters');
  }

  /**
   * The explicit step after a one-time sequence changed: the captures reopened with the new
   * filter (the old ones kept if that fails) and the firewall's hidden knock ports updated.
   * Resolves when both are done or have failed (each failure logged; neither is fatal).
   */
  async applyLayout(): Promise<void> {
    this.layoutStep = undefined;
    if (this.stopped) return;
    const { config, log, gate } = this.deps;
    try {
      this.parts.captures.reopen(captureSteps(config, this.parts.stepsOf));
    } catch (err) {
      const failed = { event: 'capture-failed', error: (err as Error).message };
      log.error(failed, 'could not re-open capture with the new filter; old capture kept');
    }
    if (!gate.enforcing) return;
    await gate.install(gateLayout(config, this.parts.stepsOf)).then(
      () => undefined,
      (err: Error) =>
        log.error({ event: 'firewall-failed', error: err.message }, 'could not update hidden knock ports'),
    );
  }

  /** Runs applyLayout() once the packet callback that asked for it has returned (several asks, one run). */
  private scheduleLayout(): void {
    if (this.layoutStep !== undefined || this.stopped) return;
    this.layoutStep = setImmediate(() => void this.applyLayout());
  }
}
