/**
 * The running daemon's parts, wired to one another once: the one-time doors, the knock tracker, the
 * grant book, the pending stop commands, the grantor (the one grant path), the datagram doors, the
 * dispatch of captured packets, and the captures. Every part counts through the same
 * DaemonMetrics handles; none does I/O except through the adapters in `deps`.
 *
 * A packet's way through them: captures → dispatch (parse, route; the knock tracker) or a datagram
 * door's handler → grantor → grant book.
 */

import type { Door } from '../core/door.js';
import type { Endpoint } from '../core/endpoint.js';
import { MAX_DROP_LOG_LINES_PER_S } from '../core/limits.js';
import { SequenceTracker } from '../core/sequence.js';
import { DaemonMetrics } from '../metrics/daemon-metrics.js';
import type { ParsedPacketHandler } from '../ports/parsed-packet-source.js';
import { Captures } from './captures.js';
import type { DaemonDeps } from './daemon-deps.js';
import { buildDatagramDoors, type DatagramDoor } from './datagram-doors.js';
import { KnockDispatch } from './dispatch.js';
import { type GrantSpec, Grantor } from './grantor.js';
import { GrantBook } from './grants.js';
import { LogLimiter } from './log-limiter.js';
import { OneTimeDoors } from './one-time-doors.js';
import { PendingStops } from './pending-stops.js';

export interface DaemonParts {
  readonly metrics: DaemonMetrics;
  readonly oneTime: OneTimeDoors;
  /** The steps a door's knock sequence has now (one-time doors change theirs); null: none left. */
  readonly stepsOf: (door: Door, i: number) => readonly Endpoint[] | null;
  readonly tracker: SequenceTracker;
  readonly book: GrantBook;
  /** The one path that opens, extends, revokes grants. */
  readonly grantor: Grantor;
  readonly pending: PendingStops;
  readonly datagramDoors: readonly DatagramDoor[];
  readonly captures: Captures;
  /** Where a sensor of parsed packets hands them (the frame path ends there too). */
  readonly onPacket: ParsedPacketHandler;
}

export interface PartsControl {
  /** True once the daemon is stopping: nothing is processed or booked after that. */
  readonly stopped: () => boolean;
  /** A one-time sequence was used: the capture filter and hidden knock ports must change (soon, not now). */
  readonly layoutChanged: () => void;
}

export function buildParts(deps: DaemonDeps, control: PartsControl): DaemonParts {
  const { config, log, clock, metrics: registry } = deps;
  const metrics = new DaemonMetrics(
    registry,
    config.doors.map((d) => d.name),
  );
  const limiter = new LogLimiter(MAX_DROP_LOG_LINES_PER_S, () => clock.nowMs());
  const oneTime = new OneTimeDoors(deps.oneTimeSequences, log, metrics);
  const stepsOf = (door: Door, i: number): readonly Endpoint[] | null => oneTime.stepsOf(door, i);
  const tracker = new SequenceTracker(
    config.doors.map((door, i) => ({
      name: door.name,
      steps: stepsOf(door, i),
      timeoutMs: door.sequenceTimeoutMs,
      tcpFlags: door.tcpFlags,
      target: door.target,
    })),
    config.maxTrackedSequences,
  );
  const book = new GrantBook(clock);
  const pending = new PendingStops(deps.pendingCommands, deps.commands, clock, log, metrics);
  const common = { clock, log, metrics, stopped: control.stopped };
  const grantor = new Grantor({ ...common, gate: deps.gate, book, pending, commands: deps.commands });
  // The packet paths do not look at the outcome (the grantor logs and counts it).
  const grant = async (door: Door, spec: GrantSpec): Promise<void> => void (await grantor.grant(door, spec));
  const datagramDoors = buildDatagramDoors({
    ...common,
    config,
    serverKey: deps.serverKey,
    previousServerKey: deps.previousServerKey ?? null,
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
    capturedDatagramDoors: new Map(captured),
    grant,
    layoutChanged: control.layoutChanged,
    limiter,
  });
  const onFrame = dispatch.onFrame.bind(dispatch);
  const captures = new Captures(config.interfaces, deps.sources, onFrame, log);
  const onPacket = dispatch.onPacket.bind(dispatch);
  return { metrics, oneTime, stepsOf, tracker, book, grantor, pending, datagramDoors, captures, onPacket };
}
