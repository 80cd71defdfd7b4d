/**
 * The daemon's captures: one per configured interface, each with a kernel filter that lets
 * through only what a door can use (knock steps, SPA ports read by capture; core/capture-filter.ts).
 *
 * What must hold: a filter change opens the new captures before it closes the old ones, so no
 * packet is lost in between, and if any new one fails to open the old ones stay (the caller logs
 * it); the kernel's delivery figures of closed captures are kept, so the counters never go back.
 *
 * Interfaces that come and go (a VPN, PPP, a container's veth, `late_interfaces`): an interface
 * that does not exist when the captures are opened is skipped (the config's own check refuses a
 * missing interface that is not allowed to be late), and refresh(), run on a timer, opens it when
 * it appears, closes its capture when it goes, and opens it again when it comes back with another
 * index (a capture is bound to the index it opened on). The firewall needs none of this: its drops
 * hold on every interface but lo and the exempt ones, by name, whether or not it exists yet.
 */

import { knockCaptureFilter } from '../core/capture-filter.js';
import type { Endpoint } from '../core/endpoint.js';
import type { Logger } from '../ports/logger.js';
import type { FrameHandler, PacketSource, PacketSourceFactory, SourceStats } from '../ports/packet-source.js';

export type CaptureFrameHandler = (source: PacketSource, frame: Uint8Array, length: number) => void;

interface Open {
  readonly iface: string;
  readonly source: PacketSource;
  /** The interface's index when the capture opened; null when the factory cannot tell. */
  readonly index: number | null;
}

export class Captures {
  private live: Open[] = [];
  /** What the captures are asked to cover now (reopen's arguments). */
  private interfaces: readonly string[] = [];
  private steps: readonly Endpoint[] = [];
  /** Interfaces found missing at the last look, so each disappearance is logged once. */
  private readonly missing = new Set<string>();
  /** Kernel delivery figures of captures already closed (a filter change replaces them). */
  private readonly closedTotals = { received: 0, dropped: 0 };

  constructor(
    private readonly factory: PacketSourceFactory,
    private readonly onFrame: CaptureFrameHandler,
    private readonly log: Logger,
  ) {}

  /** Names of the open captures (e.g. `pcap:eth0`). */
  names(): string[] {
    return this.live.map((c) => c.source.name);
  }

  /** Interfaces asked for that have no capture now (they do not exist, or could not be opened). */
  waitingFor(): string[] {
    return this.interfaces.filter((i) => !this.live.some((c) => c.iface === i));
  }

  /**
   * Captures what `steps` lists on every one of `interfaces` that exists (a reload may change
   * them), replacing the captures open now. With nothing to capture and nothing open (only SPA
   * sockets), opens no capture at all. Throws KnockgateError('KG_CAPTURE_FAILED'), leaving the old
   * captures in place.
   */
  reopen(interfaces: readonly string[], steps: readonly Endpoint[]): void {
    if (steps.length === 0 && this.live.length === 0) return;
    const opened: Open[] = [];
    try {
      for (const iface of interfaces) {
        const index = this.indexOf(iface);
        if (index === null) {
          this.noteMissing(iface);
          continue;
        }
        opened.push(this.openOne(iface, index, steps));
      }
    } catch (err) {
      for (const s of opened) s.source.close();
      throw err;
    }
    const old = this.live;
    this.live = opened;
    this.interfaces = [...interfaces];
    this.steps = [...steps];
    this.closeAll(old.map((o) => o.source));
    this.log.debug({ event: 'capture-filter', captures: this.names() }, 'capture filter set');
  }

  /**
   * Follows interfaces that come and go: opens a capture on one that has appeared (or came back
   * with a new index), closes the one of an interface that has gone. A capture that cannot be
   * opened is logged and tried again at the next refresh. Never throws.
   */
  refresh(): void {
    if (this.steps.length === 0 || this.factory.interfaceIndex === undefined) return;
    for (const iface of this.interfaces) {
      if (iface === 'any') continue;
      const index = this.indexOf(iface);
      const current = this.live.find((c) => c.iface === iface);
      if (current !== undefined && index !== null && (current.index === null || current.index === index)) continue;
      if (current !== undefined) {
        this.live = this.live.filter((c) => c !== current);
        this.closeAll([current.source]);
      }
      if (index === null) {
        this.noteMissing(iface);
        continue;
      }
      try {
        this.live.push(this.openOne(iface, index, this.steps));
        this.missing.delete(iface);
        this.log.info(
          { event: 'interface-up', interface: iface, captures: this.names() },
          `capturing on ${iface} again`,
        );
      } catch (err) {
        this.log.warn(
          { event: 'interface-up', interface: iface, error: (err as Error).message },
          `${iface} is back but cannot be captured yet; trying again`,
        );
      }
    }
  }

  close(): void {
    this.closeAll(this.live.map((o) => o.source));
    this.live = [];
  }

  /** What the kernel delivered and dropped over every capture so far; null if none was ever open. */
  stats(): SourceStats | null {
    const total = addStats(
      { ...this.closedTotals },
      this.live.map((o) => o.source),
    );
    return this.live.length > 0 || total.received > 0 ? total : null;
  }

  private openOne(iface: string, index: number | null, steps: readonly Endpoint[]): Open {
    let source: PacketSource | undefined;
    const deliver: FrameHandler = (frame, length) => {
      if (source) this.onFrame(source, frame, length);
    };
    source = this.factory.open(iface, (mac) => knockCaptureFilter(steps, mac), deliver);
    return { iface, source, index };
  }

  /** The interface's index; `any` and factories that cannot tell count as present. */
  private indexOf(iface: string): number | null {
    if (iface === 'any' || this.factory.interfaceIndex === undefined) return 0;
    return this.factory.interfaceIndex(iface);
  }

  private noteMissing(iface: string): void {
    if (this.missing.has(iface)) return;
    this.missing.add(iface);
    this.log.warn(
      { event: 'interface-gone', interface: iface },
      `${iface} does not exist (now): no knocks are received there until it appears; its protected ports stay dropped`,
    );
  }

  private closeAll(sources: readonly PacketSource[]): void {
    addStats(this.closedTotals, sources);
    for (const c of sources) c.close();
  }
}

/** Adds what each source reports of kernel delivery to `total`, and returns it. */
export function addStats(
  total: { received: number; dropped: number },
  sources: readonly { stats?(): SourceStats }[],
): { received: number; dropped: number } {
  for (const source of sources) {
    const s = source.stats?.();
    if (s) {
      total.received += s.received;
      total.dropped += s.dropped;
    }
  }
  return total;
}
