/**
 * Where already-parsed packets come from: sensors that never see a frame, such as the firewall's
 * own log (a LOG or NFLOG rule the gate installs for the knock ports, read from the kernel log or
 * an NFLOG group). They hand the daemon a TransportPacket, which goes the same way as a parsed
 * frame from here on (daemon/dispatch.ts, onPacket): routing, the knock tracker, SPA doors.
 *
 * Contract: `onPacket` is called synchronously per packet, never after close(); the packet's
 * payload is the sensor's own (not a view into a reused buffer). A sensor that cannot start
 * throws KnockgateError('KG_CAPTURE_FAILED') from open(), before the firewall changes.
 */

import type { TransportPacket } from '../core/packet.js';
import type { SourceStats } from './packet-source.js';

export type ParsedPacketHandler = (packet: TransportPacket) => void;

export interface ParsedPacketSource {
  /** Human-readable name, e.g. `nflog:7` or `kmsg`. */
  readonly name: string;
  /** What the sensor received and lost so far, when it can tell. */
  stats?(): SourceStats;
  close(): void;
}

export interface ParsedPacketSourceFactory {
  open(onPacket: ParsedPacketHandler): ParsedPacketSource;
}
