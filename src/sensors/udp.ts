/**
 * SPA datagrams from a UDP socket, read in batches by native/udp-batch.c (recvmmsg; see there for
 * why not node:dgram). The socket never sends anything: to a scanner the port looks like any port
 * that does not answer. Dual-stack (`[::]`, IPv4 peers reported as IPv4) where the host has
 * IPv6, else IPv4 only. The receive buffer (SPA_SOCKET_BUFFER_BYTES) is forced past
 * net.core.rmem_max, so that a burst is queued in the kernel rather than dropped; what the kernel
 * still drops is counted (stats `socket_dropped`).
 */

import { KnockgateError } from '../core/errors.js';
import { formatIPv4, formatIPv6 } from '../core/ip-address.js';
import { MAX_SPA_DATAGRAM_BYTES, SPA_SOCKET_BATCH_BYTES, SPA_SOCKET_BUFFER_BYTES } from '../core/limits.js';
import type { DatagramHandler, DatagramSource } from '../ports/datagram-source.js';
import type { SourceStats } from '../ports/packet-source.js';
import { loadNativeAddon } from './native-addon.js';
import type { RecordLayout } from './record-layout.js';

interface Binding {
  open(port: number, bufferBytes: number, batch: Buffer, onBatch: (count: number, bytes: number) => void): object;
  stats(handle: object): SourceStats;
  close(handle: object): void;
}

// The record layout this decoder reads (native/record-layout.h); the addon must export the same.
const HEADER_BYTES = 40;
const LENGTH_OFFSET = 0; // u32le
const SOURCE_FAMILY_OFFSET = 6; // u8: 4 or 6
const DESTINATION_FAMILY_OFFSET = 7; // u8: 4, 6 or 0 (unknown)
const SOURCE_OFFSET = 8;
const DESTINATION_OFFSET = 24;
const ALIGN_BYTES = 4;

export const UDP_RECORD_LAYOUT: RecordLayout = {
  headerBytes: HEADER_BYTES,
  lengthOffset: LENGTH_OFFSET,
  sourcePortOffset: 4, // u16le, not read here
  sourceFamilyOffset: SOURCE_FAMILY_OFFSET,
  destinationFamilyOffset: DESTINATION_FAMILY_OFFSET,
  sourceAddressOffset: SOURCE_OFFSET,
  destinationAddressOffset: DESTINATION_OFFSET,
  addressBytes: 16, // formatIPv6 reads 16
  alignBytes: ALIGN_BYTES,
  maxDatagramBytes: MAX_SPA_DATAGRAM_BYTES,
  minBatchBytes: HEADER_BYTES + MAX_SPA_DATAGRAM_BYTES, // SPA_SOCKET_BATCH_BYTES is far above it
};

export async function openUdpSource(port: number, onDatagram: DatagramHandler): Promise<DatagramSource> {
  const b = loadNativeAddon<Binding>('udp-batch.node', 'UDP binding', UDP_RECORD_LAYOUT);
  const batch = Buffer.alloc(SPA_SOCKET_BATCH_BYTES);
  // Checked before every record: a handler may close() the source in the middle of a batch, and
  // after close() returns no handler may see another datagram.
  let closed = false;
  const onBatch = (count: number, bytes: number): void => {
    let at = 0;
    for (let i = 0; i < count && !closed && at + HEADER_BYTES <= bytes; i++) {
      const length = batch.readUInt32LE(at + LENGTH_OFFSET);
      const family = batch[at + SOURCE_FAMILY_OFFSET];
      const source = family === 4 ? formatIPv4(batch, at + SOURCE_OFFSET) : formatIPv6(batch, at + SOURCE_OFFSET);
      const toFamily = batch[at + DESTINATION_FAMILY_OFFSET];
      const destination =
        toFamily === 4
          ? formatIPv4(batch, at + DESTINATION_OFFSET)
          : toFamily === 6
            ? formatIPv6(batch, at + DESTINATION_OFFSET)
            : undefined;
      const start = at + HEADER_BYTES;
      onDatagram(batch.subarray(start, start + length), source, destination);
      at = start + ((length + ALIGN_BYTES - 1) & -ALIGN_BYTES);
    }
  };
  let handle: object;
  try {
    handle = b.open(port, SPA_SOCKET_BUFFER_BYTES, batch, onBatch);
  } catch (err) {
    throw new KnockgateError('KG_CAPTURE_FAILED', `cannot listen for SPA on ${port}/udp: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let last: SourceStats = { received: 0, dropped: 0 };
  const stats = (): SourceStats => {
    if (!closed) last = b.stats(handle);
    return last;
  };
  return {
    name: `udp:${port}`,
    stats,
    close: () => {
      if (closed) return;
      stats();
      closed = true;
      b.close(handle);
    },
  };
}
