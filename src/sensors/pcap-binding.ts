/**
 * The TypeScript face of native/pcap-capture.c, knockgate's own libpcap binding: a live capture
 * in immediate mode whose frames reach JavaScript in batches, with a snap length we choose (see
 * CAPTURE_SNAPLEN_BYTES for why that matters under a flood).
 *
 * Contract: `onFrame(frame, wireLength)` is called synchronously for each captured frame, in
 * arrival order; `frame` is a view into a reused buffer, valid only during the call, and holds
 * `frame.length` captured bytes (fewer than `wireLength` when the frame was longer than the snap
 * length). Once close() has returned (also when called from inside onFrame, mid-batch), onFrame
 * is not called again. `open` throws KG_CAPTURE_FAILED with libpcap's message; nothing is left open then.
 */

import { KnockgateError } from '../core/errors.js';
import type { LinkType } from '../core/packet.js';
import { loadNativeAddon } from './native-addon.js';
import type { RecordLayout } from './record-layout.js';

interface Binding {
  open(
    device: string,
    filter: string,
    snaplen: number,
    bufferBytes: number,
    promisc: boolean,
    batch: Buffer,
    onBatch: (count: number, bytes: number) => void,
  ): object;
  linkType(handle: object): number;
  stats(handle: object): CaptureStats;
  close(handle: object): void;
}

export interface CaptureStats {
  /** Frames that passed the filter (libpcap's ps_recv). */
  readonly received: number;
  /** Frames the kernel dropped because our ring was full (ps_drop): lost knocks, if any. */
  readonly dropped: number;
  /** Frames the interface dropped (ps_ifdrop). */
  readonly ifDropped: number;
}

export interface CaptureOptions {
  readonly device: string;
  readonly filter: string;
  readonly snaplen: number;
  readonly bufferBytes: number;
  readonly promisc: boolean;
  /** Bytes handed to JavaScript per batch at most (one frame always fits). */
  readonly batchBytes: number;
  readonly onFrame: (frame: Buffer, wireLength: number) => void;
}

export interface Capture {
  /** libpcap's DLT_ number, and ours when we parse it (undefined: a link type we do not). */
  readonly dlt: number;
  readonly linkType: LinkType | undefined;
  stats(): CaptureStats;
  close(): void;
}

/** DLT_ numbers as libpcap reports them on Linux (pcap/dlt.h), for the link types we parse. */
const LINK_TYPES: ReadonlyMap<number, LinkType> = new Map<number, LinkType>([
  [0, 'null'], // DLT_NULL
  [1, 'ethernet'], // DLT_EN10MB
  [12, 'raw'], // DLT_RAW on Linux
  [101, 'raw'], // LINKTYPE_RAW
  [113, 'linux-sll'], // DLT_LINUX_SLL (the `any` device)
  [276, 'linux-sll2'], // DLT_LINUX_SLL2
]);

// The record layout this decoder reads (native/record-layout.h); the addon must export the same.
const HEADER_BYTES = 8;
const CAPLEN_OFFSET = 0; // u32le
const WIRELEN_OFFSET = 4; // u32le
const ALIGN_BYTES = 4;

export const PCAP_RECORD_LAYOUT: RecordLayout = {
  headerBytes: HEADER_BYTES,
  caplenOffset: CAPLEN_OFFSET,
  wirelenOffset: WIRELEN_OFFSET,
  alignBytes: ALIGN_BYTES,
};

export function openCapture(o: CaptureOptions): Capture {
  const b = loadNativeAddon<Binding>('pcap-capture.node', 'libpcap binding', PCAP_RECORD_LAYOUT);
  // One full frame always fits (the addon requires the header plus the snap length rounded up to 4).
  const batch = Buffer.alloc(Math.max(o.batchBytes, o.snaplen + 16));
  // Checked before every frame: onFrame may close() the capture in the middle of a batch, and
  // after close() returns no onFrame call may follow.
  let closed = false;
  const onBatch = (count: number, bytes: number): void => {
    let at = 0;
    for (let i = 0; i < count && !closed && at + HEADER_BYTES <= bytes; i++) {
      const caplen = batch.readUInt32LE(at + CAPLEN_OFFSET);
      const wirelen = batch.readUInt32LE(at + WIRELEN_OFFSET);
      const start = at + HEADER_BYTES;
      o.onFrame(batch.subarray(start, start + caplen), wirelen);
      at = start + ((caplen + ALIGN_BYTES - 1) & -ALIGN_BYTES);
    }
  };
  let handle: object;
  try {
    handle = b.open(o.device, o.filter, o.snaplen, o.bufferBytes, o.promisc, batch, onBatch);
  } catch (err) {
    throw new KnockgateError(
      'KG_CAPTURE_FAILED',
      `cannot capture on ${JSON.stringify(o.device)}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const dlt = b.linkType(handle);
  return {
    dlt,
    linkType: LINK_TYPES.get(dlt),
    stats: () => (closed ? { received: 0, dropped: 0, ifDropped: 0 } : b.stats(handle)),
    close: () => {
      if (closed) return;
      closed = true;
      b.close(handle);
    },
  };
}
