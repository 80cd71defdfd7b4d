/**
 * Packet capture through libpcap (the `cap` binding: immediate mode, non-blocking, driven by the
 * event loop). Only the kernel's BPF filter and libpcap's framing are trusted; every header is
 * parsed by core/packet.ts, never by the binding's decoders.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { KnockgateError } from '../core/errors.js';
import { CAPTURE_BUFFER_BYTES, MAX_FRAME_BYTES } from '../core/limits.js';
import type { LinkType } from '../core/packet.js';
import type { FilterBuilder, FrameHandler, PacketSource, PacketSourceFactory } from '../ports/packet-source.js';

interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): void;
  close(): void;
}
interface CapModule {
  Cap: new () => CapHandle;
}

const require = createRequire(import.meta.url);

/** The binding's names for link types, mapped to ours; anything else is refused at open. */
const LINK_TYPES: Readonly<Record<string, LinkType>> = {
  ETHERNET: 'ethernet',
  LINKTYPE_LINUX_SLL: 'linux-sll',
  RAW: 'raw',
  NULL: 'null',
  'Unknown linktype 276': 'linux-sll2',
};

export class PcapSource implements PacketSource {
  readonly name: string;
  readonly linkType: LinkType;
  private closed = false;

  constructor(
    private readonly handle: CapHandle,
    iface: string,
    linkType: LinkType,
    readonly localMac: Uint8Array | undefined,
  ) {
    this.name = `pcap:${iface}`;
    this.linkType = linkType;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handle.close();
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

export const pcapSourceFactory: PacketSourceFactory = {
  open(iface: string, buildFilter: FilterBuilder, onFrame: FrameHandler): PacketSource {
    let cap: CapModule;
    try {
      cap = require('cap') as CapModule;
    } catch (err) {
      throw new KnockgateError('KG_CAPTURE_FAILED', `the libpcap binding did not load: ${(err as Error).message}`, { cause: err });
    }
    const handle = new cap.Cap();
    const mac = interfaceMac(iface);
    const filter = buildFilter(mac);
    const buffer = Buffer.alloc(MAX_FRAME_BYTES);
    let linkName: string;
    try {
      linkName = handle.open(iface, filter, CAPTURE_BUFFER_BYTES, buffer);
    } catch (err) {
      throw new KnockgateError('KG_CAPTURE_FAILED', `cannot capture on ${JSON.stringify(iface)}: ${(err as Error).message}`, { cause: err });
    }
    const linkType = LINK_TYPES[linkName];
    if (linkType === undefined) {
      handle.close();
      throw new KnockgateError('KG_CAPTURE_FAILED', `interface ${JSON.stringify(iface)} has link type ${linkName}, which knockgate does not parse`);
    }
    handle.on('packet', (nbytes) => onFrame(buffer, Math.min(nbytes, buffer.length)));
    const macBytes = mac !== undefined && linkType === 'ethernet' ? Uint8Array.from(mac.split(':').map((h) => parseInt(h, 16))) : undefined;
    return new PcapSource(handle, iface, linkType, macBytes);
  },
};
