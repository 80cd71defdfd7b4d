/**
 * A captured frame's way to a grant: parsed by core/packet.ts (a frame that does not parse is
 * counted and logged by reason, rate-limited); a UDP datagram to a port an SPA or fwknop door
 * reads by capture goes to that door's handler (which ends in the same grant path); anything else
 * is a knock, fed to the sequence tracker (core/sequence.ts), each event counted and logged
 * (never the port: the sequence is a secret); a completed sequence burns its one-time sequence
 * first, if the door has one (one-time-doors.ts), or burns its time-based sequence (totp-doors.ts),
 * and then is granted (grantor.ts).
 */

import type { Door } from '../core/door.js';
import { parseFrame, type TransportPacket } from '../core/packet.js';
import type { KnockEvent, SequenceTracker } from '../core/sequence.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { PacketSource } from '../ports/packet-source.js';
import type { DatagramDoor } from './datagram-doors.js';
import type { GrantSpec } from './grantor.js';
import type { LogLimiter } from './log-limiter.js';
import type { OneTimeDoors } from './one-time-doors.js';
import type { TotpDoors } from './totp-doors.js';
import type { DaemonMetrics } from '../metrics/daemon-metrics.js';

/** What a knock event means to a person reading the log. */
const VERDICT: Readonly<Record<KnockEvent['outcome'], string>> = {
  progress: 'progress',
  complete: 'open',
  retransmission: 'ignored',
  'wrong-step': 'reset',
  'not-first-step': 'ignored',
  'flags-mismatch': 'ignored',
};

export interface DispatchDeps {
  readonly doors: readonly Door[];
  readonly tracker: SequenceTracker;
  readonly oneTime: OneTimeDoors;
  /** Time-based doors: their extra tracker lanes map back to the door (doorOf). */
  readonly totp: TotpDoors;
  /** UDP port → the door that reads it through the captures. */
  readonly capturedDatagramDoors: ReadonlyMap<number, DatagramDoor>;
  readonly grant: (door: Door, spec: GrantSpec) => Promise<void>;
  /** A one-time sequence changed: the capture filter and the hidden ports must follow (not from here). */
  readonly layoutChanged: () => void;
  readonly clock: Clock;
  readonly log: Logger;
  readonly limiter: LogLimiter;
  readonly metrics: DaemonMetrics;
  readonly stopped: () => boolean;
}

export class KnockDispatch {
  constructor(private readonly deps: DispatchDeps) {}

  /** One frame from a capture; synchronous up to the grant (which the gate confirms later). */
  onFrame(source: PacketSource, frame: Uint8Array, length: number): void {
    const { metrics, limiter, log } = this.deps;
    if (this.deps.stopped()) return;
    metrics.frames.inc();
    const parsed = parseFrame(source.linkType, frame, length, source.localMac);
    if (!parsed.ok) {
      metrics.frameDropped(parsed.reason).inc();
      const suppressed = limiter.admit(parsed.reason);
      if (suppressed !== null)
        log.info(
          { event: 'frame-dropped', reason: parsed.reason, suppressed: suppressed || undefined },
          'frame dropped',
        );
      return;
    }
    this.onPacket(parsed.packet);
  }

  /**
   * One packet already parsed: the frame path above ends here, and so will a sensor that reads
   * parsed packets (a firewall log) rather than frames.
   */
  onPacket(packet: TransportPacket): void {
    const { metrics, limiter, log } = this.deps;
    if (this.deps.stopped()) return;
    if (packet.proto === 'udp') {
      const spa = this.deps.capturedDatagramDoors.get(packet.dport);
      if (spa !== undefined) {
        spa.handler.handle(Uint8Array.from(packet.payload), packet.src, packet.dst);
        return;
      }
    }
    for (const e of this.deps.tracker.observe(packet, this.deps.clock.nowMs())) {
      metrics.knock(e.door, e.outcome).inc();
      const suppressed = e.outcome === 'complete' ? 0 : limiter.admit(`knock:${e.outcome}`);
      if (suppressed !== null) {
        // Never the port: the sequence is a secret.
        log.info(
          {
            event: 'knock',
            door: e.door,
            source: e.source,
            verdict: VERDICT[e.outcome],
            reason: e.outcome,
            step: e.stage,
            of: e.steps,
            suppressed: suppressed || undefined,
          },
          'knock',
        );
      }
      if (e.outcome === 'complete') this.onComplete(e);
    }
  }

  private onComplete(e: KnockEvent): void {
    const { totp, tracker, clock } = this.deps;
    const door = this.deps.doors[totp.doorOf(e.doorIndex)] as Door;
    if (totp.has(e.doorIndex)) {
      // Synchronously, before the next packet: burnt before it buys a grant, never accepted again.
      if (!totp.burn(e.doorIndex, e.source, clock.unixMs(), tracker)) return;
    } else if (this.deps.oneTime.has(e.doorIndex)) {
      // Synchronously, before the next packet: the sequence must be burnt before it buys a grant.
      const burnt = this.deps.oneTime.burn(e.doorIndex, door, e.source, this.deps.tracker);
      this.deps.layoutChanged();
      if (!burnt) return;
    }
    void this.deps.grant(door, { source: e.source, family: e.family, endpoints: door.open, durationS: door.durationS });
  }
}
