/**
 * The two clocks behind the Clock port (ports/clock.ts): the system's (performance.now, Date.now,
 * node timers), and a manual one that moves only when told, for tests and replays of a day's
 * events. ManualClock runs due timers in due order (ties in the order they were set), each at the
 * time it was due, so a callback that reads the clock sees its own due time.
 */

import { performance } from 'node:perf_hooks';
import type { Clock, Timer } from '../ports/clock.js';

export const systemClock: Clock = {
  nowMs: () => performance.now(),
  unixMs: () => Date.now(),
  after(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(t) };
  },
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
};

interface Scheduled {
  readonly seq: number;
  dueMs: number;
  readonly periodMs: number | null;
  readonly fn: () => void;
  cancelled: boolean;
}

export class ManualClock implements Clock {
  private mono: number;
  private unix: number;
  private seq = 0;
  private readonly timers: Scheduled[] = [];

  /** `unixMs`: the wall clock at the start; the monotonic clock starts at `monoMs`. */
  constructor(unixMs: number, monoMs = 1_000) {
    this.unix = unixMs;
    this.mono = monoMs;
  }

  nowMs(): number {
    return this.mono;
  }

  unixMs(): number {
    return this.unix;
  }

  after(ms: number, fn: () => void): Timer {
    return this.schedule(Math.max(0, ms), null, fn);
  }

  every(ms: number, fn: () => void): Timer {
    if (!(ms > 0)) throw new RangeError('a repeating timer needs a positive period');
    return this.schedule(ms, ms, fn);
  }

  /** Timers not yet fired nor cancelled. */
  pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /**
   * Moves both clocks `ms` forward, firing every timer that falls due on the way, in due order.
   * Timers a callback sets are fired too if they fall due before the end.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError('time only moves forward');
    const end = this.mono + ms;
    for (;;) {
      const next = this.nextDue(end);
      if (next === undefined) break;
      this.moveTo(next.dueMs);
      if (next.periodMs === null) {
        next.cancelled = true;
        this.timers.splice(this.timers.indexOf(next), 1);
      } else next.dueMs += next.periodMs;
      next.fn();
    }
    this.moveTo(end);
  }

  private schedule(ms: number, periodMs: number | null, fn: () => void): Timer {
    const t: Scheduled = { seq: this.seq++, dueMs: this.mono + ms, periodMs, fn, cancelled: false };
    this.timers.push(t);
    return {
      cancel: () => {
        if (t.cancelled) return;
        t.cancelled = true;
        const i = this.timers.indexOf(t);
        if (i >= 0) this.timers.splice(i, 1);
      },
    };
  }

  private nextDue(end: number): Scheduled | undefined {
    let best: Scheduled | undefined;
    for (const t of this.timers)
      if (
        t.dueMs <= end &&
        (best === undefined || t.dueMs < best.dueMs || (t.dueMs === best.dueMs && t.seq < best.seq))
      )
        best = t;
    return best;
  }

  private moveTo(mono: number): void {
    if (mono <= this.mono) return;
    this.unix += mono - this.mono;
    this.mono = mono;
  }
}
