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
import { SPA_SOCKET_BATCH_BYTES, SPA_SOCKET_BUFFER_BYTES } from '../core/limits.js';
import type { DatagramHandler, DatagramSource } from '../ports/datagram-source.js';
import type { SourceStats } from '../ports/packet-source.js';
import { loadNativeAddon } from './native-addon.js';

interface Binding {
  open(port: number, bufferBytes: number, batch: Buffer, onBatch: (count: number, bytes: number) => void): object;
  stats(handle: object): SourceStats;
  close(handle: object): void;
}

/** Record layout of native/udp-batch.c. */
const RECORD_HEADER_BYTES = 40;
const DESTINATION_OFFSET = 24;

export async function openUdpSource(port: number, onDatagram: DatagramHandler): Promise<DatagramSource> {
  const b = loadNativeAddon<Binding>('udp-batch.node', 'UDP binding');
  const batch = Buffer.alloc(SPA_SOCKET_BATCH_BYTES);
  // Checked before every record: a handler may close() the source in the middle of a batch, and
  // after close() returns no handler may see another datagram.
  let closed = false;
  const onBatch = (count: number, bytes: number): void => {
    let at = 0;
    for (let i = 0; i < count && !closed && at + RECORD_HEADER_BYTES <= bytes; i++) {
      const length = batch.readUInt32LE(at);
      const family = batch[at + 6];
      const source = family === 4 ? formatIPv4(batch, at + 8) : formatIPv6(batch, at + 8);
      const toFamily = batch[at + 7];
      const destination =
        toFamily === 4
          ? formatIPv4(batch, at + DESTINATION_OFFSET)
          : toFamily === 6
            ? formatIPv6(batch, at + DESTINATION_OFFSET)
            : undefined;
      const start = at + RECORD_HEADER_BYTES;
      onDatagram(batch.subarray(start, start + length), source, destination);
      at = start + ((length + 3) & ~3);
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
