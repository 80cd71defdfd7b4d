/**
 * Keeps a flood from turning into a flood of log lines: at most `perSecond` lines per key (e.g. a
 * drop reason) in each one-second window; the rest are counted, and the first line of the next
 * window that logs says how many were suppressed. Counters elsewhere still see every event.
 */

export class LogLimiter {
  private readonly windows = new Map<string, { start: number; used: number; suppressed: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly nowMs: () => number,
  ) {}

  /**
   * Returns null when the line must be dropped, or the number of lines suppressed for this key
   * since the last line that was let through (0 usually).
   */
  admit(key: string): number | null {
    const now = this.nowMs();
    let w = this.windows.get(key);
    if (w === undefined) {
      w = { start: now, used: 0, suppressed: 0 };
      this.windows.set(key, w);
    }
    if (now - w.start >= 1000) {
      w.start = now;
      w.used = 0;
    }
    if (w.used >= this.perSecond) {
      w.suppressed++;
      return null;
    }
    w.used++;
    const suppressed = w.suppressed;
    w.suppressed = 0;
    return suppressed;
  }
}
