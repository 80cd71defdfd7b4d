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
  close(): void;
}

export interface PacketSourceFactory {
  /** Opens a capture; throws KnockgateError('KG_CAPTURE_FAILED') when it cannot. */
  open(iface: string, filter: string, onFrame: FrameHandler): PacketSource;
}
