/**
 * Where SPA datagrams read from a socket come from (doors in `socket` mode). The real source is
 * a UDP socket read in batches (sensors/udp.ts); sensors/memory.ts delivers datagrams a test
 * hands it. A source never sends anything back.
 */

import type { SourceStats } from './packet-source.js';

/**
 * Called synchronously per datagram; `payload` is valid only during the call. `destinationAddress`
 * is the address the datagram was sent to (IP_PKTINFO), undefined when the kernel did not say.
 */
export type DatagramHandler = (payload: Buffer, sourceAddress: string, destinationAddress?: string) => void;

export interface DatagramSource {
  readonly name: string;
  stats?(): SourceStats;
  /** Final: once it returns (also from inside the handler, mid-batch) no handler call follows. */
  close(): void;
}

/** Opens a source on a UDP port; rejects with KnockgateError('KG_CAPTURE_FAILED') when it cannot. */
export type DatagramSourceFactory = (port: number, onDatagram: DatagramHandler) => Promise<DatagramSource>;
