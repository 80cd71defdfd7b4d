/**
 * The daemon's captures: one per configured interface, each with a kernel filter that lets
 * through only what a door can use (knock steps, SPA ports read by capture; core/capture-filter.ts).
 *
 * What must hold: a filter change loses no packet and delivers none twice, and if any new capture
 * fails to open the old ones stay (the caller logs it); the kernel's delivery figures of closed
 * captures are kept, so the counters never go back. The hand-over, since closing a capture drops
 * the frames still queued in its ring:
 *   1. the new captures are opened while the old ones stay open and keep delivering; what the new
 *      ones receive meanwhile is held (copied, at most MAX_CAPTURE_HANDOVER_FRAMES);
 *   2. two turns of the event loop later (the old rings have been read: each readable event takes
 *      up to 1,024 frames), the old captures are closed, and the held frames are delivered, less
 *      those the old captures already delivered (the same packet, byte for byte, seen by both);
 *   3. from then on the new captures deliver directly.
 * A packet that reached both captures thus arrives once, in order; one that reached only the old
 * ring (before the new opened) is read from it before it closes. Periods of time-based doors turn
 * this way every period (daemon/period-turns.ts).
 *
 * Interfaces that come and go (a VPN, PPP, a container's veth; `late_interfaces`): one that does
 * not exist when the captures open is skipped and logged (the config's own check refuses a missing
 * interface that is not declared late); refresh(), on a timer, reopens the captures the same way
 * when an interface has appeared, gone, or come back with another index (a capture is bound to the
 * index it opened on, and sees nothing once its interface is deleted). The firewall needs none of
 * this: its drops hold on every interface but lo and the exempt ones, by name, existing or not.
 */

import { knockCaptureFilter } from '../core/capture-filter.js';
import { MAX_CAPTURE_HANDOVER_FRAMES } from '../core/limits.js';
import type { Endpoint } from '../core/endpoint.js';
import type { Logger } from '../ports/logger.js';
import type { FrameHandler, PacketSource, PacketSourceFactory, SourceStats } from '../ports/packet-source.js';

export type CaptureFrameHandler = (source: PacketSource, frame: Uint8Array, length: number) => void;

/** A hand-over in progress: the captures being replaced, and what the new ones received meanwhile. */
interface Handover {
  readonly old: PacketSource[];
  /** Frames the old captures delivered during the hand-over, by their bytes (latin1), with counts. */
  readonly seenOld: Map<string, number>;
  readonly held: { source: PacketSource; frame: Uint8Array; length: number }[];
  timer: NodeJS.Immediate | undefined;
  /** What the old captures covered, for revert(). */
  readonly asked: Captures['asked'];
  readonly indexes: ReadonlyMap<string, number | null>;
}

export class Captures {
  private live: PacketSource[] = [];
  private handover: Handover | null = null;
  /** What the captures were last asked to cover (reopen's arguments), for refresh(). */
  private asked: { readonly interfaces: readonly string[]; readonly steps: readonly Endpoint[] } | null = null;
  /** Each asked-for interface's index when the captures opened (null: it did not exist). */
  private indexes = new Map<string, number | null>();
  /** Interfaces reported missing, so that each disappearance is logged once. */
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
    this.finishHandover(); // an earlier hand-over ends first: at most two generations are open
    const opened: PacketSource[] = [];
    const indexes = new Map<string, number | null>();
    try {
      for (const iface of interfaces) {
        const index = this.indexOf(iface);
        indexes.set(iface, index);
        if (index === null) {
          this.noteMissing(iface);
          continue;
        }
        let source: PacketSource | undefined;
        const deliver: FrameHandler = (frame, length) => {
          if (source === undefined) return;
          if (this.handover?.old.includes(source)) this.fromOld(source, frame, length);
          else this.fromNew(source, frame, length);
        };
        source = this.factory.open(iface, (mac) => knockCaptureFilter(steps, mac), deliver);
        opened.push(source);
      }
    } catch (err) {
      for (const s of opened) s.close();
      throw err;
    }
    const old = this.live;
    const before = { asked: this.asked, indexes: this.indexes };
    this.live = opened;
    this.asked = { interfaces: [...interfaces], steps: [...steps] };
    this.indexes = indexes;
    if (old.length > 0) {
      const h: Handover = { old, seenOld: new Map(), held: [], timer: undefined, ...before };
      this.handover = h;
      // Two turns: the first immediate may run before the next poll phase has read the old rings.
      h.timer = setImmediate(() => {
        h.timer = setImmediate(() => this.finishHandover());
      });
    }
    this.log.debug({ event: 'capture-filter', captures: opened.map((s) => s.name) }, 'capture filter set');
  }

  /**
   * Follows interfaces that come and go: when one of those asked for has appeared, gone, or come
   * back with another index, the captures are reopened (with the hand-over above, so the others
   * lose nothing). One that cannot be opened yet is logged and tried again next time. Never throws.
   */
  refresh(): void {
    const asked = this.asked;
    if (asked === null || asked.steps.length === 0 || this.factory.interfaceIndex === undefined) return;
    const changed = asked.interfaces.filter((i) => this.indexOf(i) !== (this.indexes.get(i) ?? null));
    if (changed.length === 0) return;
    try {
      this.reopen(asked.interfaces, asked.steps);
    } catch (err) {
      this.log.warn(
        { event: 'interface-up', interfaces: changed, error: (err as Error).message },
        `${changed.join(', ')} changed but cannot be captured yet; trying again`,
      );
      return;
    }
    for (const iface of changed) {
      if (this.indexes.get(iface) === null) continue;
      this.missing.delete(iface);
      this.log.info({ event: 'interface-up', interface: iface, captures: this.names() }, `capturing on ${iface}`);
    }
  }

  /** Interfaces asked for that have no capture now (they do not exist). */
  waitingFor(): string[] {
    return [...this.indexes].filter(([, index]) => index === null).map(([iface]) => iface);
  }

  /** The interface's index; `any`, and every name when the factory cannot tell, count as present. */
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

  close(): void {
    this.finishHandover();
    this.closeAll(this.live);
    this.live = [];
  }

  /**
   * Undoes the last reopen() while its hand-over runs (a reload that failed after it): the new
   * captures are closed with what they held (the old ones delivered all they saw) and the old ones
   * are the current ones again. False when there is nothing to undo.
   */
  revert(): boolean {
    const h = this.handover;
    if (h === null) return false;
    if (h.timer !== undefined) clearImmediate(h.timer);
    this.handover = null;
    this.closeAll(this.live);
    this.live = h.old;
    this.asked = h.asked;
    this.indexes = new Map(h.indexes);
    return true;
  }

  /** A frame from the current captures: held during a hand-over, else delivered. */
  private fromNew(source: PacketSource, frame: Uint8Array, length: number): void {
    const h = this.handover;
    if (h === null) this.onFrame(source, frame, length);
    else if (h.held.length < MAX_CAPTURE_HANDOVER_FRAMES)
      h.held.push({ source, frame: Uint8Array.from(frame), length });
  }

  /** The old captures' frames go on during a hand-over; each is noted, so the new ones' copy is dropped. */
  private fromOld(source: PacketSource, frame: Uint8Array, length: number): void {
    const h = this.handover;
    if (h !== null) {
      const key = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('latin1');
      h.seenOld.set(key, (h.seenOld.get(key) ?? 0) + 1);
    }
    this.onFrame(source, frame, length);
  }

  /** Closes the old captures and delivers what the new ones held that the old did not deliver. */
  private finishHandover(): void {
    const h = this.handover;
    if (h === null) return;
    if (h.timer !== undefined) clearImmediate(h.timer);
    this.closeAll(h.old);
    this.handover = null;
    for (const { source, frame, length } of h.held) {
      const key = Buffer.from(frame).toString('latin1');
      const seen = h.seenOld.get(key) ?? 0;
      if (seen > 0) h.seenOld.set(key, seen - 1);
      else if (this.live.includes(source)) this.onFrame(source, frame, length);
    }
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
