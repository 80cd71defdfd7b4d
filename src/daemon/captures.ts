/**
 * The daemon's captures: one per configured interface, each with a kernel filter that lets
 * through only what a door can use (knock steps, SPA ports read by capture; core/capture-filter.ts).
 *
 * What must hold: a filter change opens the new captures before it closes the old ones, so no
 * packet is lost in between, and if any new one fails to open the old ones stay (the caller logs
 * it); the kernel's delivery figures of closed captures are kept, so the counters never go back.
 */

import { knockCaptureFilter } from '../core/capture-filter.js';
import type { Endpoint } from '../core/endpoint.js';
import type { Logger } from '../ports/logger.js';
import type { FrameHandler, PacketSource, PacketSourceFactory, SourceStats } from '../ports/packet-source.js';

export type CaptureFrameHandler = (source: PacketSource, frame: Uint8Array, length: number) => void;

export class Captures {
  private live: PacketSource[] = [];
  /** Kernel delivery figures of captures already closed (a filter change replaces them). */
  private readonly closedTotals = { received: 0, dropped: 0 };

  constructor(
    private readonly factory: PacketSourceFactory,
    private readonly onFrame: CaptureFrameHandler,
    private readonly log: Logger,
  ) {}

  /** Names of the open captures (e.g. `pcap:eth0`). */
  names(): string[] {
    return this.live.map((c) => c.name);
  }

  /**
   * Captures what `steps` lists on every one of `interfaces` (a reload may change them), replacing
   * the captures open now. With nothing
   * to capture and nothing open (only SPA sockets), opens no capture at all. Throws
   * KnockgateError('KG_CAPTURE_FAILED'), leaving the old captures in place.
   */
  reopen(interfaces: readonly string[], steps: readonly Endpoint[]): void {
    if (steps.length === 0 && this.live.length === 0) return;
    const opened: PacketSource[] = [];
    try {
      for (const iface of interfaces) {
        let source: PacketSource | undefined;
        const deliver: FrameHandler = (frame, length) => {
          if (source) this.onFrame(source, frame, length);
        };
        source = this.factory.open(iface, (mac) => knockCaptureFilter(steps, mac), deliver);
        opened.push(source);
      }
    } catch (err) {
      for (const s of opened) s.close();
      throw err;
    }
    const old = this.live;
    this.live = opened;
    this.closeAll(old);
    this.log.debug({ event: 'capture-filter', captures: opened.map((s) => s.name) }, 'capture filter set');
  }

  close(): void {
    this.closeAll(this.live);
    this.live = [];
  }

  /** What the kernel delivered and dropped over every capture so far; null if none was ever open. */
  stats(): SourceStats | null {
    const total = addStats({ ...this.closedTotals }, this.live);
    return this.live.length > 0 || total.received > 0 ? total : null;
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
