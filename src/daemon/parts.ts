/**
 * The running daemon's parts, in two groups:
 *   - the lasting parts, built once and kept for the daemon's life, across reloads: the counters,
 *     the grant book, the audit trail's writer, the pending stop commands, the grantor (the one
 *     grant path) and the captures;
 *   - the door parts, built from one configuration and replaced whole by a reload: the one-time
 *     doors, the knock tracker, the datagram doors and the dispatch of captured packets.
 * Grants and stop commands therefore survive a reload; knock sequences in progress start over.
 * Every part counts through the same DaemonMetrics handles; none does I/O except through the
 * adapters in `deps`.
 *
 * A packet's way through them: captures → dispatch (parse, route; the knock tracker) or a datagram
 * door's handler → grantor → grant book.
 */

import type { Config } from '../config/config.js';
import type { Door } from '../core/door.js';
import type { Endpoint } from '../core/endpoint.js';
import { MAX_DROP_LOG_LINES_PER_S } from '../core/limits.js';
import { SequenceTracker } from '../core/sequence.js';
import { DaemonMetrics } from '../metrics/daemon-metrics.js';
import type { ParsedPacketHandler } from '../ports/parsed-packet-source.js';
import { type CaptureFrameHandler, Captures } from './captures.js';
import type { Configured, DaemonDeps } from './daemon-deps.js';
import { buildDatagramDoors, type DatagramDoor } from './datagram-doors.js';
import { KnockDispatch } from './dispatch.js';
import { type GrantSpec, Grantor } from './grantor.js';
import { GrantAudit } from './grant-audit.js';
import { storedGrants } from './grant-adoption.js';
import { GrantBook } from './grants.js';
import { LogLimiter } from './log-limiter.js';
import { OneTimeDoors } from './one-time-doors.js';
import { PendingStops } from './pending-stops.js';
import { TotpDoors } from './totp-doors.js';
import { MemoryBurntCounters } from '../ports/totp-burnt.js';

export interface LastingParts {
  readonly metrics: DaemonMetrics;
  readonly book: GrantBook;
  /** Writes the audit trail's records of the grant path (the table's; it outlives a reload). */
  readonly audit: GrantAudit;
  /** The one path that opens, extends, revokes grants. */
  readonly grantor: Grantor;
  readonly pending: PendingStops;
  readonly captures: Captures;
  /** Drops repeated reject lines; shared by every door (of every configuration). */
  readonly limiter: LogLimiter;
}

export interface DoorParts {
  readonly config: Config;
  /** The server key these doors' keys were derived from (to tell a reload whether it changed). */
  readonly serverKey: Uint8Array | null;
  readonly oneTime: OneTimeDoors;
  /** The doors whose sequence changes with the clock; their lanes in the tracker. */
  readonly totp: TotpDoors;
  /** The steps a door's knock sequence has now (one-time doors change theirs); null: none left. */
  readonly stepsOf: (door: Door, i: number) => readonly Endpoint[] | null;
  readonly tracker: SequenceTracker;
  readonly datagramDoors: readonly DatagramDoor[];
  /** Where the captures hand frames. */
  readonly onFrame: CaptureFrameHandler;
  /** Where a sensor of parsed packets hands them (the frame path ends there too). */
  readonly onPacket: ParsedPacketHandler;
}

export interface PartsControl {
  /** True once the daemon is stopping: nothing is processed or booked after that. */
  readonly stopped: () => boolean;
  /** A one-time sequence was used: the capture filter and hidden knock ports must change (soon, not now). */
  readonly layoutChanged: () => void;
}

/** `onFrame` is called for every captured frame; the daemon points it at its current door parts. */
export function buildLastingParts(deps: DaemonDeps, control: PartsControl, onFrame: CaptureFrameHandler): LastingParts {
  const { config, log, clock } = deps;
  const metrics = new DaemonMetrics(
    deps.metrics,
    config.doors.map((d) => d.name),
  );
  const records = deps.grantRecords;
  const book: GrantBook = new GrantBook(clock, () =>
    records?.changed(() => storedGrants(book.list(), { nowMs: clock.nowMs(), nowUnixMs: clock.unixMs() })),
  );
  const pending = new PendingStops(deps.pendingCommands, deps.commands, clock, log, metrics);
  const audit = new GrantAudit(deps.audit, config.nftTable, clock, log, metrics.auditFailures);
  const grantor = new Grantor({
    clock,
    log,
    metrics,
    stopped: control.stopped,
    gate: deps.gate,
    book,
    pending,
    commands: deps.commands,
    audit,
  });
  const captures = new Captures(deps.sources, onFrame, log);
  const limiter = new LogLimiter(MAX_DROP_LOG_LINES_PER_S, () => clock.nowMs());
  return { metrics, book, audit, grantor, pending, captures, limiter };
}

/** The parts one configuration needs, wired to the lasting ones. Throws on a wiring bug only. */
export function buildDoorParts(
  configured: Configured,
  deps: DaemonDeps,
  lasting: LastingParts,
  control: PartsControl,
): DoorParts {
  const { config } = configured;
  const { log, clock } = deps;
  const { metrics, grantor, limiter } = lasting;
  metrics.admitDoors(config.doors.map((d) => d.name));
  const oneTime = new OneTimeDoors(configured.oneTimeSequences, log, metrics);
  // Without a store (a reload refuses the first time-based door: daemon.ts), nothing is burnt durably.
  const burnt = deps.totpBurnt ?? new MemoryBurntCounters();
  const totp = new TotpDoors(config.doors, configured.totpSecrets ?? new Map(), burnt, log, metrics, clock.unixMs());
  const stepsOf = (door: Door, i: number): readonly Endpoint[] | null =>
    door.totp !== null ? totp.stepsOf(i) : oneTime.stepsOf(door, i);
  const tracker = new SequenceTracker(
    totp.trackerSpecs(
      config.doors.map((door, i) => ({
        name: door.name,
        steps: door.totp !== null ? null : oneTime.stepsOf(door, i),
        timeoutMs: door.sequenceTimeoutMs,
        tcpFlags: door.tcpFlags,
        target: door.target,
      })),
    ),
    config.maxTrackedSequences,
  );
  const common = { clock, log, metrics, stopped: control.stopped };
  // The packet paths do not look at the outcome (the grantor logs and counts it).
  const grant = async (door: Door, spec: GrantSpec): Promise<void> =>
    spec.command !== undefined
      ? grantor.command(door, { ...spec, command: spec.command })
      : void (await grantor.grant(door, spec));
  const datagramDoors = buildDatagramDoors({
    ...common,
    config,
    serverKey: configured.serverKey,
    previousServerKey: configured.previousServerKey ?? null,
    replay: deps.replay,
    limiter,
    grant,
  });
  const captured = datagramDoors.filter((d) => d.capture === 'pcap').map((d) => [d.port, d] as const);
  const dispatch = new KnockDispatch({
    ...common,
    doors: config.doors,
    tracker,
    oneTime,
    totp,
    capturedDatagramDoors: new Map(captured),
    grant,
    layoutChanged: control.layoutChanged,
    limiter,
  });
  return {
    config,
    serverKey: configured.serverKey,
    oneTime,
    totp,
    stepsOf,
    tracker,
    datagramDoors,
    onFrame: dispatch.onFrame.bind(dispatch),
    onPacket: dispatch.onPacket.bind(dispatch),
  };
}
