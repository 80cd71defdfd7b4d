/**
 * knockgated's running part: it receives every adapter it uses from the composition root
 * (compose.ts) and does no I/O of its own; its parts are wired in parts.ts, where a packet's way
 * is followed file by file. This file holds the life cycle: start, stop, the layout step.
 *
 * Start order, chosen so that a failure never leaves the host half-configured or locked out:
 *   1. stop commands left from before the restart are scheduled (overdue ones run now);
 *   2. SPA sockets and captures are opened (a missing interface fails here, before the firewall
 *      changes: we never hide a port behind a door nobody can knock on);
 *   3. the firewall layout is installed in one atomic batch, keeping live grants, which are booked
 *      again under the labels recorded before (grant-adoption.ts);
 *   4. frames are processed.
 * On stop the firewall is left exactly as it is: protected ports stay closed to everyone without a
 * grant and grants run out on the kernel's clock (fail closed); pending stop commands stay in
 * their store and run at the next start.
 * When a one-time sequence is used, or the period of a time-based sequence door turns
 * (period-turns.ts), the capture filter and the hidden knock ports change: that is applyLayout(),
 * an explicit step run after the callback that caused it, never inside it.
 *
 * A reload (reload(): SIGHUP, `knockgate reload`) is all or nothing. The new configuration was
 * validated in full before it gets here (compose.ts readConfiguredFiles); then, each step undone
 * if a later one fails: the restart-only settings are compared (reload-plan.ts), the new door parts
 * are built, new SPA ports are bound, the captures reopened with the new filter, the new firewall
 * layout installed in one atomic batch (keeping every grant), and only then do the new doors take
 * packets. The lasting parts (grant book, stop commands, replay store, counters) are the same
 * objects before and after. Reloads run one at a time.
 */

import type { ReloadResult } from '../control/protocol.js';
import { KnockgateError } from '../core/errors.js';
import { INTERFACE_WATCH_INTERVAL_MS, SEQUENCE_SWEEP_INTERVAL_MS } from '../core/limits.js';
import type { SequenceStats } from '../core/sequence.js';
import { collectDaemonState } from '../metrics/daemon-state.js';
import { statsLine } from '../metrics/stats-line.js';
import type { Timer } from '../ports/clock.js';
import type { Configured, DaemonDeps } from './daemon-deps.js';
import { logDoorsReady, logKeyOverlap } from './door-report.js';
import { bookAdoptedGrants } from './book-adopted.js';
import type { GrantRecord } from './grants.js';
import { captureSteps, gateLayout } from './layout.js';
import { Operations } from './operations.js';
import { buildDoorParts, buildLastingParts, type DoorParts, type LastingParts, type PartsControl } from './parts.js';
import { ParsedSensors } from './parsed-sensors.js';
import { noDoorChanged, refuseRestartOnlyChanges, reloadChanges } from './reload-plan.js';
import { SpaSockets } from './spa-sockets.js';
import { watchPeriodTurns } from './period-turns.js';
import { hasStopCommand, listenerOf } from '../core/door.js';

export type { DaemonDeps } from './daemon-deps.js';
export type { Configured } from './daemon-deps.js';

export class Daemon {
  private readonly lasting: LastingParts;
  /** The parts of the configuration in force; replaced whole by a reload. */
  private doors: DoorParts;
  private readonly control: PartsControl;
  private readonly sockets: SpaSockets;
  private readonly parsedSensors: ParsedSensors;
  private sweep: Timer | undefined;
  private interfaceWatch: Timer | undefined;
  private overlapWatch: Timer | null = null;
  /** Time-based sequence doors: the next period's turn (period-turns.ts). */
  private periodTurns: Timer | null = null;
  private layoutStep: NodeJS.Immediate | undefined;
  private stopped = false;
  /** The figures of trackers a reload replaced, so the counters never go back. */
  private readonly retiredSequences = { timedOut: 0, evicted: 0 };
  /** The last reload in progress (reloads run one after the other). */
  private reloading: Promise<unknown> = Promise.resolve();
  /** What the control socket asks (control/server.ts): status, grants, revoke, extend, open. */
  readonly operations: Operations;

  constructor(private readonly deps: DaemonDeps) {
    this.control = { stopped: () => this.stopped, layoutChanged: () => this.scheduleLayout() };
    // The captures outlive a reload; each frame goes to the doors in force when it arrives.
    this.lasting = buildLastingParts(deps, this.control, (src, frame, len) => this.doors.onFrame(src, frame, len));
    this.doors = buildDoorParts(deps, deps, this.lasting, this.control);
    this.sockets = new SpaSockets(deps.datagrams);
    this.parsedSensors = new ParsedSensors(this.lasting.metrics, this.lasting.limiter, deps.log);
    const { captures, book } = this.lasting;
    this.operations = new Operations({
      ...deps,
      config: () => this.doors.config,
      book,
      grantor: this.lasting.grantor,
      pending: this.lasting.pending,
      sensors: () => this.sensorNames(),
      counters: () => this.stats(),
      reload: () => this.reloadFromSource(),
    });
    collectDaemonState(deps.metrics, this.lasting.metrics.specs, {
      sequences: () => this.sequenceStats(),
      capture: () => captures.stats(),
      sockets: () => this.sockets.stats(),
      sensors: () => this.parsedSensors.figures(),
      liveGrants: () => book.size,
      replay: () => (deps.replay === null ? null : { entries: deps.replay.size, capacity: deps.replay.capacity }),
    });
  }

  /** The configuration in force. */
  get config(): DaemonDeps['config'] {
    return this.doors.config;
  }

  async start(): Promise<void> {
    const { gate, clock, log } = this.deps;
    const { config, oneTime, stepsOf } = this.doors;
    this.lasting.pending.restore();
    this.doors.totp.turn(clock.unixMs(), this.doors.tracker); // the doors were built before start
    (await this.sockets.prepare(this.doors.datagramDoors)).commit();
    this.parsedSensors.start(this.deps.parsedSources, (p) => this.doors.onPacket(p));
    this.lasting.captures.reopen(config.interfaces, captureSteps(config, stepsOf));
    if (gate.enforcing) {
      const kept = await gate.install(gateLayout(config, stepsOf));
      const installed = {
        gate: gate.kind,
        transport: gate.transport,
        grant_path: gate.grantPath,
        table: config.nftTable,
        grants_kept: kept.length,
      };
      log.info({ event: 'firewall-installed', ...installed }, 'firewall rules in place');
      bookAdoptedGrants(kept, { ...this.deps, book: this.lasting.book, grantor: this.lasting.grantor });
    }
    this.sweep = clock.every(SEQUENCE_SWEEP_INTERVAL_MS, () => this.doors.tracker.sweep(clock.nowMs()));
    this.watchPeriods();
    this.interfaceWatch = clock.every(INTERFACE_WATCH_INTERVAL_MS, () => this.lasting.captures.refresh());
    logDoorsReady(config, oneTime, log, this.doors.serverKey);
    for (const detail of config.warnings) log.warn({ event: 'config-warning', detail }, 'configuration warning');
    this.overlapWatch = logKeyOverlap(config, clock, log);
    const ready = { interfaces: config.interfaces, doors: config.doors.length, captures: this.sensorNames() };
    log.info({ event: 'ready', ...ready }, 'knockgated ready');
  }

  /**
   * Applies a new configuration, validated in full by the caller, or changes nothing: rejects with
   * KG_RELOAD_REFUSED (a restart-only setting changed), KG_CAPTURE_FAILED (a new port or capture
   * could not open) or the gate's error, the old configuration still in force in every part.
   */
  reload(next: Configured): Promise<ReloadResult> {
    return this.queueReload(() => this.applyReload(next));
  }

  /**
   * Reads the configuration again from where it came (deps.reloadSource: the same file, checked
   * in full as at start) and applies it; SIGHUP and `knockgate reload`. Logs the outcome either
   * way; rejects with the reason (a ConfigError names file, line and key) when nothing changed.
   */
  reloadFromSource(): Promise<ReloadResult> {
    const source = this.deps.reloadSource;
    const { log } = this.deps;
    if (source === undefined)
      return Promise.reject(
        new KnockgateError('KG_RELOAD_REFUSED', 'this daemon was started without a configuration source to reload'),
      );
    return this.queueReload(async () => this.applyReload(await source())).catch((err: Error) => {
      const code = err instanceof KnockgateError ? err.code : 'KG_RELOAD_REFUSED';
      log.error(
        { event: 'reload-refused', code, error: err.message },
        'reload refused; the configuration in force is kept',
      );
      throw err;
    });
  }

  private queueReload(step: () => Promise<ReloadResult>): Promise<ReloadResult> {
    const counted = async (): Promise<ReloadResult> => {
      try {
        const report = await step();
        this.lasting.metrics.reload('applied').inc();
        return report;
      } catch (err) {
        this.lasting.metrics.reload('refused').inc();
        throw err;
      }
    };
    const run = this.reloading.then(counted);
    this.reloading = run.catch(() => undefined);
    return run;
  }

  private async applyReload(next: Configured): Promise<ReloadResult> {
    const { gate, log } = this.deps;
    const old = this.doors;
    if (this.stopped) throw new KnockgateError('KG_RELOAD_REFUSED', 'knockgated is stopping');
    refuseRestartOnlyChanges(old.config, next.config);
    this.refuseNewStores(next);
    const parts = buildDoorParts(next, this.deps, this.lasting, this.control);
    const sockets = await this.sockets.prepare(parts.datagramDoors);
    const { captures } = this.lasting;
    try {
      captures.reopen(next.config.interfaces, captureSteps(next.config, parts.stepsOf));
    } catch (err) {
      sockets.abort();
      throw err;
    }
    if (gate.enforcing) {
      try {
        await gate.install(gateLayout(next.config, parts.stepsOf));
      } catch (err) {
        sockets.abort();
        this.reopenCapturesOf(old);
        throw err;
      }
    }
    const sequences = old.tracker.stats();
    this.retiredSequences.timedOut += sequences.timedOut;
    this.retiredSequences.evicted += sequences.evicted;
    this.doors = parts;
    sockets.commit();
    this.watchPeriods();
    const changes = reloadChanges(old.config, next.config);
    const report: ReloadResult = {
      config: next.config.file,
      ...changes,
      server_key_changed: !sameBytes(old.serverKey, next.serverKey),
      grants_kept: this.lasting.book.size,
      sequences_reset: sequences.tracked,
    };
    this.logReload(report);
    for (const detail of next.config.warnings) log.warn({ event: 'config-warning', detail }, 'configuration warning');
    this.overlapWatch = logKeyOverlap(next.config, this.deps.clock, log, this.overlapWatch);
    return report;
  }

  /** SIGHUP: the audit trail opened anew at its path (after logrotate moved it). */
  reopenAudit(): void {
    this.lasting.audit.reopen();
  }

  /** Stops capturing; leaves the firewall as it is (fail closed). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.logStats(); // while the sources can still report what the kernel delivered and dropped
    this.lasting.captures.close();
    this.sockets.close();
    this.parsedSensors.close();
    this.sweep?.cancel();
    this.interfaceWatch?.cancel();
    this.overlapWatch?.cancel();
    this.periodTurns?.cancel();
    if (this.layoutStep) clearImmediate(this.layoutStep);
    await this.reloading;
    this.flushGrantRecords();
    const live = this.lasting.book.clear();
    this.lasting.pending.cancelAll();
    await this.deps.commands.idle();
    await this.deps.replay?.close();
    this.deps.audit?.close();
    this.deps.gate.close();
    this.deps.log.info(
      { event: 'stopped', live_grants: live.length, pending_stop_commands: this.lasting.pending.size() },
      'knockgated stopped; firewall rules left in place, grants expire on the kernel clock, pending stop commands are kept on disk and run at the next start',
    );
  }

  /** The last change of the grant labels on disk before the book is emptied (the grants stay in the kernel). */
  private flushGrantRecords(): void {
    const records = this.deps.grantRecords;
    if (records === null) return;
    try {
      records.flush();
    } catch (err) {
      this.deps.log.error({ event: 'grant-records-failed', error: (err as Error).message }, (err as Error).message);
    }
    records.close();
  }

  /** Every live grant: door, source, endpoints, client, since, until (what status and revoke will read). */
  grants(): readonly GrantRecord[] {
    return this.lasting.book.list();
  }

  /** The captures and parsed-packet sensors open now. */
  private sensorNames(): string[] {
    return [...this.lasting.captures.names(), ...this.parsedSensors.names()];
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
    const { log, gate } = this.deps;
    const { config, stepsOf } = this.doors;
    try {
      this.lasting.captures.reopen(config.interfaces, captureSteps(config, stepsOf));
    } catch (err) {
      const failed = { event: 'capture-failed', error: (err as Error).message };
      log.error(failed, 'could not re-open capture with the new filter; old capture kept');
    }
    if (!gate.enforcing) return;
    await gate.install(gateLayout(config, stepsOf)).then(
      () => undefined,
      (err: Error) =>
        log.error({ event: 'firewall-failed', error: err.message }, 'could not update hidden knock ports'),
    );
  }

  /** (Re)arms the period turns of the doors in force (none without a time-based door). */
  private watchPeriods(): void {
    this.periodTurns?.cancel();
    this.periodTurns = watchPeriodTurns(this.deps.clock, () => this.doors, this.control.layoutChanged);
  }

  /** Runs applyLayout() once the packet callback that asked for it has returned (several asks, one run). */
  private scheduleLayout(): void {
    if (this.layoutStep !== undefined || this.stopped) return;
    this.layoutStep = setImmediate(() => void this.applyLayout());
  }

  /** The tracker in force, plus what the trackers before it counted. */
  private sequenceStats(): SequenceStats {
    const now = this.doors.tracker.stats();
    return {
      tracked: now.tracked,
      timedOut: now.timedOut + this.retiredSequences.timedOut,
      evicted: now.evicted + this.retiredSequences.evicted,
    };
  }

  /**
   * The replay journal and the pending stop commands file are opened at start, when some door
   * needs them; a reload that would be the first to need one is refused rather than half-applied.
   */
  private refuseNewStores(next: Configured): void {
    const doors = next.config.doors;
    const refuse = (what: string): never => {
      throw new KnockgateError(
        'KG_RELOAD_REFUSED',
        `${next.config.file}: ${what} takes a restart of knockgated (nothing was applied)`,
      );
    };
    if (this.deps.replay === null && doors.some((d) => listenerOf(d) !== null))
      refuse('the first SPA or fwknop door (its replay journal is opened at start)');
    if ((this.deps.totpBurnt ?? null) === null && doors.some((d) => d.totp !== null))
      refuse('the first time-based sequence door (its burnt-sequence file is opened at start)');
    const stops = doors.some(hasStopCommand);
    if (this.deps.pendingCommands === null && stops)
      refuse('the first door with a stop command (the pending commands file is opened at start)');
  }

  /** After a failed reload: the captures of the configuration still in force (logged if even that fails). */
  private reopenCapturesOf(parts: DoorParts): void {
    if (this.lasting.captures.revert()) return; // the old captures were still open: they are back
    try {
      this.lasting.captures.reopen(parts.config.interfaces, captureSteps(parts.config, parts.stepsOf));
    } catch (err) {
      const failed = { event: 'capture-failed', error: (err as Error).message };
      this.deps.log.error(failed, 'could not re-open the captures of the configuration in force');
    }
  }

  private logReload(r: ReloadResult): void {
    const { log } = this.deps;
    const same = noDoorChanged(r) && !r.server_key_changed;
    log.info({ event: 'reloaded', ...r }, same ? 'configuration reloaded; no door changed' : 'configuration reloaded');
    const removed = new Set(r.doors_removed);
    const clientsRemoved = new Map(Object.entries(r.clients_removed).map(([d, cs]) => [d, new Set(cs)]));
    for (const g of this.lasting.book.list()) {
      const goneDoor = removed.has(g.door);
      const goneClient = g.client !== undefined && clientsRemoved.get(g.door)?.has(g.client) === true;
      if (!goneDoor && !goneClient) continue;
      log.warn(
        { event: 'grant-outlives-config', id: g.id, door: g.door, client: g.client, source: g.source },
        `grant kept until it runs out although its ${goneDoor ? 'door' : 'client'} was removed; knockgate revoke ${g.id} closes it now`,
      );
    }
  }
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return Buffer.from(a).equals(Buffer.from(b));
}
