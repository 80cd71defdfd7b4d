/**
 * knockgated's running part: it receives every adapter it uses from the composition root
 * (compose.ts) and does no I/O of its own. A packet's way, file by file: a sensor (captures.ts,
 * or a datagram source per socket door) → dispatch.ts (parse, route, knock tracker) or a datagram
 * door's handler (datagram-doors.ts) → grantor.ts (gate, grant book, commands) → grants.ts.
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

import type { Door } from '../core/door.js';
import { formatEndpoint, type Endpoint } from '../core/endpoint.js';
import { MAX_DROP_LOG_LINES_PER_S, SEQUENCE_SWEEP_INTERVAL_MS } from '../core/limits.js';
import { SequenceTracker } from '../core/sequence.js';
import type { Config } from '../config/config.js';
import type { Clock, Timer } from '../ports/clock.js';
import type { Commands } from '../ports/commands.js';
import type { DatagramSource, DatagramSourceFactory } from '../ports/datagram-source.js';
import type { Gate } from '../ports/gate.js';
import type { Logger } from '../ports/logger.js';
import type { OneTimeSequenceStore } from '../ports/one-time-sequences.js';
import type { PacketSourceFactory } from '../ports/packet-source.js';
import type { PendingCommandStore } from '../ports/pending-commands.js';
import type { ReplayStore } from '../ports/replay-store.js';
import { Captures } from './captures.js';
import { Counters } from './counters.js';
import { buildDatagramDoors, type DatagramDoor } from './datagram-doors.js';
import { KnockDispatch } from './dispatch.js';
import { logDoorsReady } from './door-report.js';
import { captureSteps, gateLayout } from './layout.js';
import { Grantor } from './grantor.js';
import { GrantBook, type GrantRecord } from './grants.js';
import { LogLimiter } from './log-limiter.js';
import { OneTimeDoors } from './one-time-doors.js';
import { PendingStops } from './pending-stops.js';

export interface DaemonDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly clock: Clock;
  readonly gate: Gate;
  readonly sources: PacketSourceFactory;
  /** Opens a UDP socket for an SPA door in `socket` mode. */
  readonly datagrams: DatagramSourceFactory;
  readonly commands: Commands;
  /** The one-time sequences of the doors that have them, by door index. */
  readonly oneTimeSequences: ReadonlyMap<number, OneTimeSequenceStore>;
  /** The server's X25519 private key (each SPA door derives its own keys from it); null without native SPA doors. */
  readonly serverKey: Uint8Array | null;
  /** null when no door takes SPA or fwknop datagrams. */
  readonly replay: ReplayStore | null;
  /** null when no door has a stop command and none was left from before. */
  readonly pendingCommands: PendingCommandStore | null;
}

export class Daemon {
  private readonly config: Config;
  private readonly log: Logger;
  private readonly counters = new Counters();
  private readonly count = this.counters.count;
  private readonly oneTime: OneTimeDoors;
  private readonly stepsOf = (door: Door, i: number): readonly Endpoint[] | null => this.oneTime.stepsOf(door, i);
  private readonly tracker: SequenceTracker;
  private readonly book: GrantBook;
  private readonly pending: PendingStops;
  private readonly grantor: Grantor;
  private readonly datagramDoors: readonly DatagramDoor[];
  private readonly captures: Captures;
  private datagramSources: DatagramSource[] = [];
  private sweep: Timer | undefined;
  private layoutStep: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(private readonly deps: DaemonDeps) {
    const { config, log, clock } = deps;
    this.config = config;
    this.log = log;
    const isStopped = (): boolean => this.stopped;
    const limiter = new LogLimiter(MAX_DROP_LOG_LINES_PER_S, () => clock.nowMs());
    this.oneTime = new OneTimeDoors(deps.oneTimeSequences, log, this.count);
    this.tracker = new SequenceTracker(
      config.doors.map((door, i) => ({
        name: door.name,
        steps: this.oneTime.stepsOf(door, i),
        timeoutMs: door.sequenceTimeoutMs,
        tcpFlags: door.tcpFlags,
        target: door.target,
      })),
      config.maxTrackedSequences,
    );
    this.book = new GrantBook(clock);
    this.pending = new PendingStops(deps.pendingCommands, deps.commands, clock, log, this.count);
    this.grantor = new Grantor({
      gate: deps.gate,
      book: this.book,
      pending: this.pending,
      commands: deps.commands,
      clock,
      log,
      count: this.count,
      stopped: isStopped,
    });
    const grant = this.grantor.grant.bind(this.grantor);
    this.datagramDoors = buildDatagramDoors({
      config,
      serverKey: deps.serverKey,
      replay: deps.replay,
      clock,
      log,
      limiter,
      count: this.count,
      grant,
    });
    const dispatch = new KnockDispatch({
      doors: config.doors,
      tracker: this.tracker,
      oneTime: this.oneTime,
      capturedDatagramDoors: new Map(this.datagramDoors.filter((d) => d.capture === 'pcap').map((d) => [d.port, d])),
      grant,
      layoutChanged: () => this.scheduleLayout(),
      clock,
      log,
      limiter,
      count: this.count,
      stopped: isStopped,
    });
    this.captures = new Captures(
      config.interfaces,
      deps.sources,
      (source, frame, length) => dispatch.onFrame(source, frame, length),
      log,
    );
  }

  async start(): Promise<void> {
    const { gate, clock } = this.deps;
    this.pending.restore();
    for (const d of this.datagramDoors) {
      if (d.capture === 'socket')
        this.datagramSources.push(
          await this.deps.datagrams(d.port, (payload, from, to) => d.handler.handle(payload, from, to)),
        );
    }
    this.captures.reopen(captureSteps(this.config, this.stepsOf));
    if (gate.enforcing) {
      const kept = await gate.install(gateLayout(this.config, this.stepsOf));
      this.log.info(
        {
          event: 'firewall-installed',
          gate: gate.kind,
          transport: gate.transport,
          table: this.config.nftTable,
          grants_kept: kept.length,
        },
        'firewall rules in place',
      );
      for (const g of kept) {
        this.log.info(
          { event: 'grant-adopted', source: g.source, port: formatEndpoint(g.endpoint), expires_in_s: g.expiresInS },
          'grant found in the kernel kept',
        );
      }
    }
    this.sweep = clock.every(SEQUENCE_SWEEP_INTERVAL_MS, () => this.tracker.sweep(clock.nowMs()));
    logDoorsReady(this.config, this.oneTime, this.log);
    for (const detail of this.config.warnings)
      this.log.warn({ event: 'config-warning', detail }, 'configuration warning');
    this.log.info(
      {
        event: 'ready',
        interfaces: this.config.interfaces,
        doors: this.config.doors.length,
        captures: this.captures.names(),
      },
      'knockgated ready',
    );
  }

  /** Stops capturing; leaves the firewall as it is (fail closed). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.logStats(); // while the sources can still report what the kernel delivered and dropped
    this.captures.close();
    for (const d of this.datagramSources) d.close();
    this.datagramSources = [];
    this.sweep?.cancel();
    if (this.layoutStep) clearImmediate(this.layoutStep);
    const live = this.book.clear();
    this.pending.cancelAll();
    await this.deps.commands.idle();
    await this.deps.replay?.close();
    this.deps.gate.close();
    this.log.info(
      { event: 'stopped', live_grants: live.length, pending_stop_commands: this.pending.size() },
      'knockgated stopped; firewall rules left in place, nftables grants expire on the kernel clock, pending stop commands are kept on disk and run at the next start',
    );
  }

  /** Every live grant: door, source, endpoints, client, since, until (what status and revoke will read). */
  grants(): readonly GrantRecord[] {
    return this.book.list();
  }

  /** Counters by name, for tests and (later) metrics. */
  stats(): Record<string, number> {
    return this.counters.snapshot({
      sequences: this.tracker.stats(),
      capture: this.captures.stats(),
      sockets: this.datagramSources,
    });
  }

  /** One log line with every counter (on SIGUSR1 and at stop). */
  logStats(): void {
    this.log.info({ event: 'stats', ...this.stats(), live_grants: this.book.size }, 'counters');
  }

  /**
   * The explicit step after a one-time sequence changed: the captures reopened with the new
   * filter (the old ones kept if that fails) and the firewall's hidden knock ports updated.
   * Resolves when both are done or have failed (each failure logged; neither is fatal).
   */
  async applyLayout(): Promise<void> {
    this.layoutStep = undefined;
    if (this.stopped) return;
    try {
      this.captures.reopen(captureSteps(this.config, this.stepsOf));
    } catch (err) {
      this.log.error(
        { event: 'capture-failed', error: (err as Error).message },
        'could not re-open capture with the new filter; old capture kept',
      );
    }
    if (!this.deps.gate.enforcing) return;
    await this.deps.gate.install(gateLayout(this.config, this.stepsOf)).then(
      () => undefined,
      (err: Error) =>
        this.log.error({ event: 'firewall-failed', error: err.message }, 'could not update hidden knock ports'),
    );
  }

  /** Runs applyLayout() once the packet callback that asked for it has returned (several asks, one run). */
  private scheduleLayout(): void {
    if (this.layoutStep !== undefined || this.stopped) return;
    this.layoutStep = setImmediate(() => void this.applyLayout());
  }
}
