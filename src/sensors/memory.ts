/**
 * Sources that deliver what a test (or a replay of recorded traffic) hands them, behind the same
 * ports as libpcap and the UDP socket: MemoryPacketSources for frames (ports/packet-source.ts),
 * MemoryDatagramSources for SPA datagrams (ports/datagram-source.ts), MemoryParsedPackets for
 * sensors of already-parsed packets (ports/parsed-packet-source.ts). Delivery is synchronous, as
 * the real sources' is, and stops at close().
 *
 * The capture filter is recorded, not run (there is no BPF engine here): every injected frame
 * reaches the daemon as if the kernel's filter had let it through, so the header parser and the
 * knock tracker see it. A test can read the filter to check what the kernel would be asked for.
 */

import { KnockgateError } from '../core/errors.js';
import type { LinkType, TransportPacket } from '../core/packet.js';
import type { DatagramHandler, DatagramSource } from '../ports/datagram-source.js';
import type { SensorDropReason } from '../core/reasons.js';
import type {
  ParsedPacketHandlers,
  ParsedPacketSource,
  ParsedPacketSourceFactory,
} from '../ports/parsed-packet-source.js';
import type {
  FilterBuilder,
  FrameHandler,
  PacketSource,
  PacketSourceFactory,
  SourceStats,
} from '../ports/packet-source.js';

export class MemoryPacketSource implements PacketSource {
  readonly name: string;
  private received = 0;
  private closed = false;

  constructor(
    readonly iface: string,
    readonly linkType: LinkType,
    readonly localMac: Uint8Array | undefined,
    /** The BPF filter the daemon asked for. */
    readonly filter: string,
    private readonly onFrame: FrameHandler,
  ) {
    this.name = `memory:${iface}`;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Hands one frame to the daemon, synchronously; false once closed. */
  inject(frame: Uint8Array): boolean {
    if (this.closed) return false;
    this.received++;
    this.onFrame(frame, frame.length);
    return true;
  }

  stats(): SourceStats {
    return { received: this.received, dropped: 0 };
  }

  close(): void {
    this.closed = true;
  }
}

export class MemoryPacketSources implements PacketSourceFactory {
  /** Every source opened, in order (closed ones included). */
  readonly opened: MemoryPacketSource[] = [];
  /** When set, the next open() fails as a missing interface does (KG_CAPTURE_FAILED). */
  failOpen = false;
  /**
   * The interfaces that exist, by name, with their index; null: every name exists (index 1).
   * Tests change it to make an interface appear, go, or come back with a new index.
   */
  interfaces: Map<string, number> | null = null;

  /** `linkType` 'raw' takes bare IP packets, the simplest frames to build. */
  constructor(
    private readonly linkType: LinkType = 'raw',
    private readonly localMac?: Uint8Array,
  ) {}

  open(iface: string, filter: FilterBuilder, onFrame: FrameHandler): PacketSource {
    if (this.failOpen)
      throw new KnockgateError(
        'KG_CAPTURE_FAILED',
        `cannot capture on ${JSON.stringify(iface)}: memory source told to fail`,
      );
    const mac = this.localMac && Array.from(this.localMac, (b) => b.toString(16).padStart(2, '0')).join(':');
    const source = new MemoryPacketSource(iface, this.linkType, this.localMac, filter(mac), onFrame);
    this.opened.push(source);
    return source;
  }

  interfaceIndex(iface: string): number | null {
    return this.interfaces === null ? 1 : (this.interfaces.get(iface) ?? null);
  }

  /** The sources still open. */
  live(): MemoryPacketSource[] {
    return this.opened.filter((s) => s.isOpen);
  }

  /** Hands `frame` to every open source (or those on `iface`); returns how many took it. */
  inject(frame: Uint8Array, iface?: string): number {
    let n = 0;
    for (const s of this.live()) if (iface === undefined || s.iface === iface) n += s.inject(frame) ? 1 : 0;
    return n;
  }
}

class MemoryDatagramSource implements DatagramSource {
  readonly name: string;
  received = 0;
  closed = false;

  constructor(
    readonly port: number,
    readonly onDatagram: DatagramHandler,
  ) {
    this.name = `memory-udp:${port}`;
  }

  stats(): SourceStats {
    return { received: this.received, dropped: 0 };
  }

  close(): void {
    this.closed = true;
  }
}

export class MemoryDatagramSources {
  private readonly sources: MemoryDatagramSource[] = [];

  /** The DatagramSourceFactory: one source per call, as a socket per door. */
  readonly open = async (port: number, onDatagram: DatagramHandler): Promise<DatagramSource> => {
    const source = new MemoryDatagramSource(port, onDatagram);
    this.sources.push(source);
    return source;
  };

  /** Ports with an open source. */
  ports(): number[] {
    return this.sources.filter((s) => !s.closed).map((s) => s.port);
  }

  /** Hands one datagram to the open source on `port`; false when there is none. */
  deliver(port: number, payload: Uint8Array, sourceAddress: string, destinationAddress?: string): boolean {
    const source = this.sources.find((s) => s.port === port && !s.closed);
    if (source === undefined) return false;
    source.received++;
    source.onDatagram(Buffer.from(payload), sourceAddress, destinationAddress);
    return true;
  }
}

/** A sensor of already-parsed packets (ports/parsed-packet-source.ts) that a test feeds. */
export class MemoryParsedPackets implements ParsedPacketSourceFactory {
  private handlers: ParsedPacketHandlers | null = null;
  private received = 0;
  /** Records the test says the kernel lost (an overrun), for stats(). */
  lost = 0;

  constructor(readonly name = 'memory:parsed') {}

  open(handlers: ParsedPacketHandlers): ParsedPacketSource {
    if (this.handlers !== null) throw new KnockgateError('KG_CAPTURE_FAILED', `${this.name} is already open`);
    this.handlers = handlers;
    return {
      name: this.name,
      kind: 'memory',
      stats: () => ({ received: this.received, dropped: this.lost }),
      close: () => {
        this.handlers = null;
      },
    };
  }

  /** Hands one packet to the daemon, synchronously; false while not open. */
  inject(packet: TransportPacket): boolean {
    if (this.handlers === null) return false;
    this.received++;
    this.handlers.packet(packet);
    return true;
  }

  /** Hands the daemon a record that did not parse, with its reason; false while not open. */
  injectDropped(reason: SensorDropReason): boolean {
    if (this.handlers === null) return false;
    this.received++;
    this.handlers.dropped(reason);
    return true;
  }
}
