/**
 * knockgated's composition root: configuration + capture + core + gate + commands.
 *
 * Start order, chosen so that a failure never leaves the host half-configured or locked out:
 *   1. one-time sequence files are read (a bad file is a config error; nothing applied yet);
 *   2. captures are opened (a missing interface fails here, before the firewall changes: we never
 *      hide a port behind a door nobody can knock on);
 *   3. the firewall layout is installed in one atomic batch, keeping live grants;
 *   4. frames are processed.
 * On stop the firewall is left exactly as it is: protected ports stay closed to everyone without a
 * grant and grants run out on the kernel's clock (fail closed).
 * Stop commands (stop_command, knockd's stop shell commands) are recorded durably before their
 * start command runs (a start command whose stop cannot be recorded does not run) and removed once
 * they have run; at start, before step 2, overdue ones run and the others are scheduled.
 */

import { knockCaptureFilter } from '../core/capture-filter.js';
import { expandTemplate } from '../core/command-template.js';
import { listenerOf, type Door } from '../core/door.js';
import { formatEndpoint, type Endpoint } from '../core/endpoint.js';
import { MAX_DROP_LOG_LINES_PER_S, SEQUENCE_SWEEP_INTERVAL_MS } from '../core/limits.js';
import { parseFrame } from '../core/packet.js';
import { SequenceTracker, type KnockEvent } from '../core/sequence.js';
import { KnownSources } from '../core/known-sources.js';
import { WorkBudget } from '../core/work-budget.js';
import type { Config } from '../config/config.js';
import type { Gate } from '../ports/gate.js';
import type { Logger } from '../ports/logger.js';
import type { PacketSource, PacketSourceFactory, SourceStats } from '../ports/packet-source.js';
import { OneTimeSequenceFile } from '../stores/one-time-sequence-file.js';
import { serverKeysFromPrivate } from '../core/spa/native-wire.js';
import type { ReplayStore } from '../ports/replay-store.js';
import { readServerKey } from '../stores/key-files.js';
import { ReplayJournal } from '../stores/replay-journal.js';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { PendingCommand, PendingCommandStore } from '../ports/pending-commands.js';
import { PendingCommandsFile } from '../stores/pending-commands.js';
import type { DatagramHandler, DatagramSource } from '../sensors/udp.js';
import { CommandRunner } from './command-runner.js';
import { LogLimiter } from './log-limiter.js';
import { SpaHandler, type SpaGrant } from './spa-handler.js';
import { FwknopHandler } from './fwknop-handler.js';
import { DEFAULT_REPLAY_ENTRIES, DEFAULT_REPLAY_ENTRIES_PER_CLIENT, DEFAULT_SPA_FRESHNESS_S, FWKNOP_UNPROVEN_HMACS_BURST, FWKNOP_UNPROVEN_HMACS_PER_S, KNOWN_SPA_SOURCE_TTL_MS, MAX_KNOWN_SPA_SOURCES, SPA_UNPROVEN_WORK_BURST, SPA_UNPROVEN_WORK_PER_S } from '../core/limits.js';
import { DEFAULT_REPLAY_JOURNAL } from '../config/schema.js';

/** A receiver of one door's datagrams (native SPA or fwknop). */
interface DatagramDoorHandler {
  handle(payload: Uint8Array, source: string, destination?: string): void;
}

export interface DaemonDeps {
  readonly config: Config;
  readonly log: Logger;
  /** null with `firewall: none`. */
  readonly gate: Gate | null;
  readonly sources: PacketSourceFactory;
  /** Monotonic milliseconds. */
  readonly nowMs: () => number;
  /** Wall-clock Unix milliseconds (SPA timestamps). */
  readonly unixMs: () => number;
  /** Opens a UDP socket for an SPA door in `socket` mode. */
  readonly openDatagrams: (port: number, onDatagram: DatagramHandler) => Promise<DatagramSource>;
  /** The replay store; by default the journal named in the configuration. */
  readonly replayStore?: ReplayStore;
  /** The pending stop commands store; by default the file named in the configuration. */
  readonly pendingCommands?: PendingCommandStore;
}

/** What a grant opens: for a sequence door the door's own ports and duration, for SPA the request's. */
interface GrantSpec {
  readonly source: string;
  readonly family: 4 | 6;
  readonly endpoints: readonly Endpoint[];
  readonly durationS: number;
  readonly client?: string;
}

interface LiveGrant {
  expiresAtMs: number;
  timer: NodeJS.Timeout;
  /** The durable record of its stop_command, if it has one. */
  pendingId?: string;
}

/** What a knock event means to a person reading the log. */
const VERDICT: Readonly<Record<KnockEvent['outcome'], string>> = {
  progress: 'progress',
  complete: 'open',
  retransmission: 'ignored',
  'wrong-step': 'reset',
  'not-first-step': 'ignored',
  'flags-mismatch': 'ignored',
};

export class Daemon {
  private readonly config: Config;
  private readonly log: Logger;
  private readonly tracker: SequenceTracker;
  private readonly oneTime = new Map<number, OneTimeSequenceFile>();
  private readonly runner: CommandRunner;
  private readonly limiter: LogLimiter;
  private readonly grants = new Map<string, LiveGrant>();
  private readonly counters = new Map<string, number>();
  private captures: PacketSource[] = [];
  /** Kernel delivery figures of captures already closed (a filter change replaces them). */
  private readonly closedCaptureTotals = { received: 0, dropped: 0 };
  /** The server's X25519 private key; each SPA door derives its own keys (its door context) from it. */
  private readonly spaPrivate: Uint8Array | null = null;
  private replay: ReplayStore | null = null;
  /** UDP port → handler, for SPA and fwknop doors read through libpcap. */
  private readonly spaByCapturedPort = new Map<number, DatagramDoorHandler>();
  private datagramSources: DatagramSource[] = [];
  /** Timers of pending stop commands scheduled by record (knockd-style ones, and restored ones), by record id. */
  private readonly pendingTimers = new Map<string, NodeJS.Timeout>();
  private pending: PendingCommandStore | null = null;
  private sweepTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly deps: DaemonDeps) {
    this.config = deps.config;
    this.log = deps.log;
    this.runner = new CommandRunner(deps.log);
    this.limiter = new LogLimiter(MAX_DROP_LOG_LINES_PER_S, deps.nowMs);
    this.config.doors.forEach((door, i) => {
      if (door.oneTimeSequencesFile !== null) this.oneTime.set(i, OneTimeSequenceFile.load(door.oneTimeSequencesFile));
    });
    if (this.config.doors.some((d) => d.spa !== null)) {
      const keyFile = this.config.spa?.serverKeyFile;
      if (!keyFile) throw new Error('SPA doors without a server key (the config loader prevents this)');
      this.spaPrivate = readServerKey(keyFile).privateKey;
    }
    this.tracker = new SequenceTracker(
      this.config.doors.map((door, i) => ({
        name: door.name,
        steps: this.stepsOf(door, i),
        timeoutMs: door.sequenceTimeoutMs,
        tcpFlags: door.tcpFlags,
        target: door.target,
      })),
      this.config.maxTrackedSequences,
    );
  }

  async start(): Promise<void> {
    this.openPending();
    await this.openSpa();
    this.openCaptures();
    if (this.deps.gate) {
      const kept = await this.deps.gate.install(this.layout());
      this.log.info({ event: 'firewall-installed', gate: this.deps.gate.kind, transport: this.deps.gate.transport, table: this.config.nftTable, grants_kept: kept.length }, 'firewall rules in place');
      for (const g of kept) {
        this.log.info({ event: 'grant-adopted', source: g.source, port: formatEndpoint(g.endpoint), expires_in_s: g.expiresInS }, 'grant found in the kernel kept');
      }
    }
    this.sweepTimer = setInterval(() => this.tracker.sweep(this.deps.nowMs()), SEQUENCE_SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
    this.config.doors.forEach((door, i) => {
      const steps = this.stepsOf(door, i);
      const kind = door.spa ? 'spa' : door.fwknop ? 'fwknop' : 'sequence';
      const exhausted = kind === 'sequence' && steps === null;
      this.log.info(
        {
          event: 'door-ready',
          door: door.name,
          kind,
          steps: kind === 'sequence' ? (steps?.length ?? 0) : undefined,
          one_time_remaining: this.oneTime.get(i)?.remaining(),
          listens: listenerOf(door) ? `${listenerOf(door)?.port}/udp via ${listenerOf(door)?.capture}` : undefined,
          clients: door.spa?.clients.length ?? door.fwknop?.stanzas.length,
          opens: door.open.map(formatEndpoint),
          duration_s: door.durationS,
        },
        exhausted ? 'door has no unused one-time sequence left: it cannot open' : 'door ready',
      );
    });
    for (const detail of this.config.warnings) this.log.warn({ event: 'config-warning', detail }, 'configuration warning');
    this.log.info({ event: 'ready', interfaces: this.config.interfaces, doors: this.config.doors.length, captures: this.captures.map((c) => c.name) }, 'knockgated ready');
  }

  /** Stops capturing; leaves the firewall as it is (fail closed). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.logStats(); // while the sources can still report what the kernel delivered and dropped
    this.closeCaptures(this.captures);
    this.captures = [];
    for (const d of this.datagramSources) d.close();
    this.datagramSources = [];
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const pendingStops = [...this.grants.values()];
    for (const g of pendingStops) clearTimeout(g.timer);
    for (const t of this.pendingTimers.values()) clearTimeout(t);
    this.pendingTimers.clear();
    this.grants.clear();
    await this.runner.idle();
    await this.replay?.close();
    this.log.info(
      { event: 'stopped', live_grants: pendingStops.length, pending_stop_commands: this.pending?.list().length ?? 0 },
      'knockgated stopped; firewall rules left in place, nftables grants expire on the kernel clock, pending stop commands are kept on disk and run at the next start',
    );
  }

  /** Counters by name, for tests and (later) metrics. */
  stats(): Record<string, number> {
    const capture = addStats({ ...this.closedCaptureTotals }, this.captures);
    const socket = addStats({ received: 0, dropped: 0 }, this.datagramSources);
    return {
      ...Object.fromEntries(this.counters),
      ...prefixed('sequences_', this.tracker.stats()),
      ...(this.captures.length > 0 || capture.received > 0 ? prefixed('capture_', capture) : {}),
      ...(this.datagramSources.length > 0 ? prefixed('socket_', socket) : {}),
    };
  }

  private closeCaptures(sources: readonly PacketSource[]): void {
    addStats(this.closedCaptureTotals, sources);
    for (const c of sources) c.close();
  }


  /** One log line with every counter (on SIGUSR1 and at stop). */
  logStats(): void {
    this.log.info({ event: 'stats', ...this.stats(), live_grants: this.grants.size }, 'counters');
  }

  private stepsOf(door: Door, i: number): readonly Endpoint[] | null {
    if (door.sequence !== null) return door.sequence;
    return this.oneTime.get(i)?.current()?.steps ?? null;
  }

  private layout() {
    return {
      protectedPorts: this.config.doors.flatMap((d) => d.open),
      hiddenPorts: this.config.doors.flatMap((d, i): Endpoint[] => {
        const listen = listenerOf(d);
        if (listen) return listen.capture === 'pcap' ? [{ proto: 'udp', port: listen.port }] : [];
        return d.hideKnockPorts ? [...(this.stepsOf(d, i) ?? [])] : [];
      }),
      untrackedUdpPorts: this.config.doors.flatMap((d) => {
        const listen = listenerOf(d);
        return listen?.capture === 'socket' ? [listen.port] : [];
      }),
      exemptInterfaces: this.config.exemptInterfaces,
    };
  }

  /** Opens the replay store and the SPA sockets (doors in `socket` mode). */
  private async openSpa(): Promise<void> {
    const spaDoors = this.config.doors.filter((d) => d.spa !== null || d.fwknop !== null);
    if (spaDoors.length === 0) return;
    const settings = this.config.spa;
    const freshnessMs = settings?.freshnessMs ?? DEFAULT_SPA_FRESHNESS_S * 1000;
    this.replay =
      this.deps.replayStore ??
      (await ReplayJournal.open(settings?.replayJournal ?? DEFAULT_REPLAY_JOURNAL, settings?.maxReplayEntries ?? DEFAULT_REPLAY_ENTRIES, this.deps.unixMs, undefined, settings?.maxReplayEntriesPerClient ?? DEFAULT_REPLAY_ENTRIES_PER_CLIENT));
    const common = {
      replay: this.replay,
      freshnessMs,
      unixMs: this.deps.unixMs,
      log: this.log,
      limiter: this.limiter,
      count: (name: string) => this.count(name),
      grant: (d: Door, g: SpaGrant) => this.grant(d, g),
      budget: new WorkBudget(SPA_UNPROVEN_WORK_PER_S, SPA_UNPROVEN_WORK_BURST),
      knownSources: new KnownSources(MAX_KNOWN_SPA_SOURCES, KNOWN_SPA_SOURCE_TTL_MS),
      nowMs: this.deps.nowMs,
    };
    const fwknopBudget = new WorkBudget(FWKNOP_UNPROVEN_HMACS_PER_S, FWKNOP_UNPROVEN_HMACS_BURST); // in HMACs, shared by the fwknop doors
    const doorIds = spaDoors.flatMap((d) => (d.spa ? [d.spa.doorId] : []));
    for (const door of spaDoors) {
      const listen = listenerOf(door) as NonNullable<ReturnType<typeof listenerOf>>;
      const handler: DatagramDoorHandler = door.spa
        ? new SpaHandler({ ...common, door, keys: serverKeysFromPrivate(this.spaPrivate as Uint8Array, door.spa.doorId, doorIds) })
        : new FwknopHandler({ ...common, door, budget: fwknopBudget });
      if (listen.capture === 'pcap') {
        this.spaByCapturedPort.set(listen.port, handler);
      } else {
        this.datagramSources.push(await this.deps.openDatagrams(listen.port, (payload, from, to) => handler.handle(payload, from, to)));
      }
    }
  }

  /** Everything libpcap must let through: knock steps, and SPA ports read by capture. */
  private allSteps(): Endpoint[] {
    const spa: Endpoint[] = [...this.spaByCapturedPort.keys()].map((port) => ({ proto: 'udp', port }));
    return [...this.config.doors.flatMap((d, i) => this.stepsOf(d, i) ?? []), ...spa];
  }

  /** Opens the new captures before closing the old ones, so a filter change loses no packet. */
  private openCaptures(): void {
    const steps = this.allSteps();
    if (steps.length === 0 && this.captures.length === 0) return; // only SPA sockets: no libpcap at all
    const opened: PacketSource[] = [];
    try {
      for (const iface of this.config.interfaces) {
        let source: PacketSource | undefined;
        source = this.deps.sources.open(
          iface,
          (mac) => knockCaptureFilter(steps, mac),
          (frame, length) => {
            if (source) this.onFrame(source, frame, length);
          },
        );
        opened.push(source);
      }
    } catch (err) {
      for (const s of opened) s.close();
      throw err;
    }
    const old = this.captures;
    this.captures = opened;
    this.closeCaptures(old);
    this.log.debug({ event: 'capture-filter', captures: opened.map((s) => s.name) }, 'capture filter set');
  }

  private count(name: string): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + 1);
  }

  private onFrame(source: PacketSource, frame: Uint8Array, length: number): void {
    if (this.stopped) return;
    this.count('frames_total');
    const parsed = parseFrame(source.linkType, frame, length, source.localMac);
    if (!parsed.ok) {
      this.count(`frames_dropped_${parsed.reason}`);
      const suppressed = this.limiter.admit(parsed.reason);
      if (suppressed !== null) this.log.info({ event: 'frame-dropped', reason: parsed.reason, suppressed: suppressed || undefined }, 'frame dropped');
      return;
    }
    const packet = parsed.packet;
    if (packet.proto === 'udp') {
      const spa = this.spaByCapturedPort.get(packet.dport);
      if (spa !== undefined) {
        spa.handle(Uint8Array.from(packet.payload), packet.src, packet.dst);
        return;
      }
    }
    const now = this.deps.nowMs();
    for (const e of this.tracker.observe(packet, now)) {
      this.count(`knocks_${e.outcome.replace(/-/g, '_')}`);
      const suppressed = e.outcome === 'complete' ? 0 : this.limiter.admit(`knock:${e.outcome}`);
      if (suppressed !== null) {
        // Never the port: the sequence is a secret.
        this.log.info(
          { event: 'knock', door: e.door, source: e.source, verdict: VERDICT[e.outcome], reason: e.outcome, step: e.stage, of: e.steps, suppressed: suppressed || undefined },
          'knock',
        );
      }
      if (e.outcome === 'complete') this.onComplete(e);
    }
  }

  private onComplete(e: KnockEvent): void {
    const door = this.config.doors[e.doorIndex] as Door;
    const file = this.oneTime.get(e.doorIndex);
    if (file !== undefined) {
      // Synchronously, before the next packet: the sequence must be burnt before it buys a grant.
      const seq = file.current();
      try {
        if (seq === null) throw new Error('no sequence in force');
        file.markUsed(seq);
      } catch (err) {
        this.count('grants_refused');
        this.log.error({ event: 'grant', door: door.name, source: e.source, verdict: 'refused', reason: 'one-time-sequence-not-burnt', error: (err as Error).message }, 'grant refused');
        this.afterOneTimeChange(e.doorIndex, door);
        return;
      }
      this.afterOneTimeChange(e.doorIndex, door);
    }
    void this.grant(door, { source: e.source, family: e.family, endpoints: door.open, durationS: door.durationS });
  }

  private afterOneTimeChange(doorIndex: number, door: Door): void {
    const next = this.stepsOf(door, doorIndex);
    this.tracker.replaceSteps(doorIndex, next);
    const remaining = this.oneTime.get(doorIndex)?.remaining() ?? 0;
    if (next === null) this.log.warn({ event: 'door-exhausted', door: door.name }, 'last one-time sequence used: the door cannot open until the file has new lines and knockgated restarts');
    else this.log.info({ event: 'one-time-sequence-advanced', door: door.name, remaining }, 'next one-time sequence in force');
    try {
      this.openCaptures();
    } catch (err) {
      this.log.error({ event: 'capture-failed', error: (err as Error).message }, 'could not re-open capture with the new filter; old capture kept');
    }
    if (this.deps.gate) {
      this.deps.gate.install(this.layout()).catch((err: Error) => this.log.error({ event: 'firewall-failed', error: err.message }, 'could not update hidden knock ports'));
    }
  }

  /**
   * knockd's way: every completed knock runs the start command and, `durationS` later, the stop
   * command, through /bin/sh with %IP% replaced. The address comes from our own header parser and
   * formatter; it is checked again here to be nothing but hex digits, dots and colons, so no
   * packet byte can reach the shell as syntax.
   */
  private runShell(door: Door, family: 4 | 6, source: string, durationS: number): void {
    const shell = door.shell as NonNullable<Door['shell']>;
    if (!/^[0-9a-fA-F.:]{2,45}$/.test(source)) {
      this.log.error({ event: 'command', door: door.name, source, outcome: 'refused', reason: 'address-not-plain' }, 'shell command refused');
      return;
    }
    const run = (command: string, which: 'start' | 'stop'): void => {
      if (command === '') return;
      void this.runner.run({ argv: ['/bin/sh', '-c', command.replaceAll('%IP%', source)], timeoutMs: door.commandTimeoutMs, context: { door: door.name, source, command: which } });
    };
    const stop = family === 4 ? shell.stop4 : shell.stop6;
    const record: PendingCommand | null =
      stop === ''
        ? null
        : {
            id: randomUUID(),
            door: door.name,
            which: family === 4 ? 'stop4' : 'stop6',
            source,
            family,
            dueUnixMs: this.deps.unixMs() + durationS * 1000,
            argv: ['/bin/sh', '-c', stop.replaceAll('%IP%', source)],
            timeoutMs: door.commandTimeoutMs,
          };
    // Durable before the start command runs: no restart can then leave its effect in place.
    if (record !== null && !this.recordPending(record)) return;
    run(family === 4 ? shell.start4 : shell.start6, 'start');
    if (record !== null) this.schedulePending(record);
  }

  /** Opens the pending stop commands store; runs the overdue records and schedules the others. */
  private openPending(): void {
    const needed = this.config.doors.some((d) => d.stopCommand !== null || (d.shell !== null && (d.shell.stop4 !== '' || d.shell.stop6 !== '')));
    if (!this.deps.pendingCommands && !needed && !existsSync(this.config.pendingCommands)) return;
    this.pending = this.deps.pendingCommands ?? PendingCommandsFile.open(this.config.pendingCommands);
    const now = this.deps.unixMs();
    for (const record of this.pending.list()) {
      const overdue = record.dueUnixMs <= now;
      this.log.info(
        { event: 'pending-command-restored', door: record.door, source: record.source, command: record.which, overdue, due_in_s: overdue ? 0 : Math.ceil((record.dueUnixMs - now) / 1000) },
        overdue ? 'overdue stop command from before the restart: running it now' : 'stop command from before the restart scheduled',
      );
      this.schedulePending(record);
    }
  }

  /** Makes `record` durable; false (logged and counted, the start command must not run) if it could not. */
  private recordPending(record: PendingCommand): boolean {
    try {
      if (!this.pending) throw new Error('no pending stop commands store is open');
      this.pending.put(record);
      return true;
    } catch (err) {
      this.count('commands_refused');
      this.log.error(
        { event: 'command', door: record.door, source: record.source, command: 'start', outcome: 'refused', reason: 'stop-command-not-recorded', error: (err as Error).message },
        'start command refused: its stop command could not be recorded durably',
      );
      return false;
    }
  }

  /** Runs `record` at its due wall-clock time (at once if overdue). */
  private schedulePending(record: PendingCommand): void {
    const old = this.pendingTimers.get(record.id);
    if (old) clearTimeout(old);
    const timer = setTimeout(() => this.runPending(record), Math.max(0, record.dueUnixMs - this.deps.unixMs()));
    this.pendingTimers.set(record.id, timer);
  }

  /** Runs a pending stop command, then removes its record (whatever its exit; kept if it was never started). */
  private runPending(record: PendingCommand): void {
    const timer = this.pendingTimers.get(record.id);
    if (timer) clearTimeout(timer);
    this.pendingTimers.delete(record.id);
    void this.runner.run({ argv: record.argv, timeoutMs: record.timeoutMs, context: { door: record.door, source: record.source, command: 'stop' } }).then((r) => {
      if (r.error === 'queue-full') return; // never started: the record stays and runs at the next start
      try {
        this.pending?.remove(record.id);
      } catch (err) {
        this.log.error({ event: 'pending-command-not-removed', door: record.door, source: record.source, error: (err as Error).message }, 'stop command ran but its record could not be removed: it will run again at the next start');
      }
    });
  }

  private async grant(door: Door, spec: GrantSpec): Promise<void> {
    const { source, family, durationS } = spec;
    const key = `${door.name}|${source}`;
    const existing = this.grants.get(key);
    if (this.deps.gate && spec.endpoints.length > 0) {
      try {
        await this.deps.gate.grant({ source, family, endpoints: spec.endpoints, durationS });
      } catch (err) {
        this.count('grants_failed');
        this.log.error({ event: 'grant', door: door.name, source, verdict: 'failed', reason: 'firewall-error', error: (err as Error).message }, 'grant failed: port stays closed');
        return;
      }
    }
    if (this.stopped) return;
    this.count(existing ? 'grants_extended' : 'grants_opened');
    const ports = spec.endpoints.map(formatEndpoint).join(',');
    this.log.info(
      { event: 'grant', door: door.name, source, client: spec.client, verdict: existing ? 'extended' : 'opened', ports: ports || undefined, duration_s: durationS },
      existing ? 'grant extended' : 'grant opened',
    );
    const values = { ip: source, door: door.name, family: String(family), duration: String(durationS), ports };
    if (door.shell) this.runShell(door, family, source, durationS);
    // A knock never shortens access: keep the later of the two ends.
    const expiresAtMs = Math.max(existing?.expiresAtMs ?? 0, this.deps.nowMs() + durationS * 1000);
    // The stop_command is durable before the start command runs; an extension moves its due time.
    const stopRecord: PendingCommand | null = door.stopCommand
      ? {
          id: existing?.pendingId ?? randomUUID(),
          door: door.name,
          which: 'stop_command',
          source,
          family,
          dueUnixMs: Math.ceil(this.deps.unixMs() + (expiresAtMs - this.deps.nowMs())),
          argv: expandTemplate(door.stopCommand, values),
          timeoutMs: door.commandTimeoutMs,
        }
      : null;
    if (stopRecord !== null && !this.recordPending(stopRecord) && !existing) return; // an extension keeps its earlier record: it runs early, never late
    if (!existing && door.startCommand) {
      void this.runner.run({ argv: expandTemplate(door.startCommand, values), timeoutMs: door.commandTimeoutMs, context: { door: door.name, source, command: 'start' } });
    }
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.grants.delete(key);
      this.count('grants_expired');
      this.log.info({ event: 'grant-expired', door: door.name, source }, 'grant expired');
      if (stopRecord !== null) this.runPending(stopRecord);
    }, expiresAtMs - this.deps.nowMs());
    this.grants.set(key, { expiresAtMs, timer, pendingId: stopRecord?.id });
  }
}

/** Adds what each source reports of kernel delivery to `total`, and returns it. */
function addStats(total: { received: number; dropped: number }, sources: readonly { stats?(): SourceStats }[]): { received: number; dropped: number } {
  for (const source of sources) {
    const s = source.stats?.();
    if (s) {
      total.received += s.received;
      total.dropped += s.dropped;
    }
  }
  return total;
}

function prefixed(prefix: string, o: object): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [prefix + k, v as number]));
}
