/**
 * Packet capture through libpcap (our binding, pcap-binding.ts: immediate mode, non-blocking,
 * frames delivered in batches on the event loop). Only the kernel's BPF filter and libpcap's
 * framing are trusted; every header is parsed by core/packet.ts.
 *
 * Not promiscuous: the filter asks for frames sent to this interface's own MAC (capture-filter.ts),
 * which the interface receives anyway.
 */

import { readFileSync } from 'node:fs';
import { KnockgateError } from '../core/errors.js';
import { CAPTURE_BATCH_BYTES, CAPTURE_BUFFER_BYTES, CAPTURE_SNAPLEN_BYTES } from '../core/limits.js';
import type { LinkType } from '../core/packet.js';
import type {
  FilterBuilder,
  FrameHandler,
  PacketSource,
  PacketSourceFactory,
  SourceStats,
} from '../ports/packet-source.js';
import { openCapture, type Capture } from './pcap-binding.js';

export class PcapSource implements PacketSource {
  readonly name: string;
  private last: SourceStats = { received: 0, dropped: 0 };
  private closed = false;

  constructor(
    private readonly capture: Capture,
    iface: string,
    readonly linkType: LinkType,
    readonly localMac: Uint8Array | undefined,
  ) {
    this.name = `pcap:${iface}`;
  }

  stats(): SourceStats {
    if (!this.closed) {
      const s = this.capture.stats();
      this.last = { received: s.received, dropped: s.dropped + s.ifDropped };
    }
    return this.last;
  }

  close(): void {
    if (this.closed) return;
    this.stats();
    this.closed = true;
    this.capture.close();
  }
}

/** The interface's hardware address from sysfs, when it has a 6-byte one. */
function interfaceMac(iface: string): string | undefined {
  if (iface === 'any' || !/^[A-Za-z0-9_.:@-]{1,15}$/.test(iface)) return undefined;
  try {
    const text = readFileSync(`/sys/class/net/${iface}/address`, 'utf8').trim().toLowerCase();
    return /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(text) && text !== '00:00:00:00:00:00' ? text : undefined;
  } catch {
    return undefined;
  }
}

/** The kernel's index of the interface (sysfs), or null when there is none by that name. */
function interfaceIndex(iface: string): number | null {
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(iface) || iface === '.' || iface === '..') return null;
  try {
    const n = Number(readFileSync(`/sys/class/net/${iface}/ifindex`, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

export const pcapSourceFactory: PacketSourceFactory = {
  interfaceIndex,
  open(iface: string, buildFilter: FilterBuilder, onFrame: FrameHandler): PacketSource {
    const mac = interfaceMac(iface);
    const capture = openCapture({
      device: iface,
      filter: buildFilter(mac),
      snaplen: CAPTURE_SNAPLEN_BYTES,
      bufferBytes: CAPTURE_BUFFER_BYTES,
      promisc: false,
      batchBytes: CAPTURE_BATCH_BYTES,
      onFrame: (frame) => onFrame(frame, frame.length),
    });
    if (capture.linkType === undefined) {
      capture.close();
      throw new KnockgateError(
        'KG_CAPTURE_FAILED',
        `interface ${JSON.stringify(iface)} has link type DLT ${capture.dlt}, which knockgate does not parse`,
      );
    }
    const macBytes =
      mac !== undefined && capture.linkType === 'ethernet'
        ? Uint8Array.from(mac.split(':').map((h) => parseInt(h, 16)))
        : undefined;
    return new PcapSource(capture, iface, capture.linkType, macBytes);
  },
};
