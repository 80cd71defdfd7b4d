/**
 * Where captured frames come from. A source calls `onFrame` synchronously for each frame; the
 * buffer is only valid during the call (capture libraries reuse it).
 */

import type { LinkType } from '../core/packet.js';

export type FrameHandler = (frame: Uint8Array, capturedLength: number) => void;

export interface PacketSource {
  /** Human-readable name, e.g. `pcap:eth0`. */
  readonly name: string;
  readonly linkType: LinkType;
  /** The interface's own MAC (Ethernet), to tell frames for this host from the rest. */
  readonly localMac: Uint8Array | undefined;
  /** What the kernel delivered and dropped (ring full) so far, when the source can tell. */
  stats?(): SourceStats;
  close(): void;
}

export interface SourceStats {
  readonly received: number;
  readonly dropped: number;
}

/** Builds the capture filter once the interface's MAC (or its absence) is known. */
export type FilterBuilder = (etherDst: string | undefined) => string;

export interface PacketSourceFactory {
  /** Opens a capture; throws KnockgateError('KG_CAPTURE_FAILED') when it cannot. */
  open(iface: string, filter: FilterBuilder, onFrame: FrameHandler): PacketSource;
  /**
   * The interface's index as the kernel numbers it now, or null when there is no such interface.
   * A capture is bound to one index: an interface deleted and made again (a VPN, a container's
   * veth, PPP) gets a new one, and its old capture sees nothing more. Absent: not watched.
   */
  interfaceIndex?(iface: string): number | null;
}
