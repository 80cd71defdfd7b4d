/**
 * Where already-parsed packets come from: sensors that never see a frame, such as the firewall's
 * own log (a LOG or NFLOG rule the gate installs for the knock ports, read from the kernel log or
 * an NFLOG group). They hand the daemon a TransportPacket, which goes the same way as a parsed
 * frame from here on (daemon/dispatch.ts, onPacket): routing, the knock tracker, SPA doors.
 *
 * Contract: `packet` is called synchronously per packet, never after close(); the packet's
 * payload is the sensor's own (not a view into a reused buffer). A record the sensor read but
 * could not turn into a packet goes to `dropped` with its reason (the daemon counts and logs it);
 * stats() counts what the kernel delivered (`received`) and what the sensor knows it lost
 * (`dropped`: the NFLOG socket's overruns, kernel log records overwritten before they were read).
 * A sensor that cannot start throws KnockgateError('KG_CAPTURE_FAILED') from open(), before the
 * firewall changes.
 */

import type { TransportPacket } from '../core/packet.js';
import type { SensorDropReason } from '../core/reasons.js';
import type { SourceStats } from './packet-source.js';

export type ParsedPacketHandler = (packet: TransportPacket) => void;

export interface ParsedPacketHandlers {
  readonly packet: ParsedPacketHandler;
  readonly dropped: (reason: SensorDropReason) => void;
}

export interface ParsedPacketSource {
  /** Human-readable name, e.g. `nflog:7` or `kmsg`. */
  readonly name: string;
  /** The sensor's kind, a metric label: `nflog` or `kernel-log` (`memory` in tests). */
  readonly kind: SensorKind;
  /** What the sensor received and lost so far, when it can tell. */
  stats?(): SourceStats;
  close(): void;
}

export const SENSOR_KINDS = ['nflog', 'kernel-log', 'memory'] as const;
export type SensorKind = (typeof SENSOR_KINDS)[number];

export interface ParsedPacketSourceFactory {
  open(handlers: ParsedPacketHandlers): ParsedPacketSource;
}
