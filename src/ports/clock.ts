/**
 * Time, as the daemon needs it: a monotonic clock for durations and expiries, the wall clock for
 * SPA timestamps and durable due times, and timers. Injected so that a test can run a grant's
 * whole life (opened, extended, expired, its stop command run) in a few milliseconds on a clock it
 * moves itself (daemon/clock.ts: ManualClock), and so that the daemon reads no clock of its own.
 */

export interface Timer {
  /** Idempotent; a cancelled timer never fires. */
  cancel(): void;
}

export interface Clock {
  /** Monotonic milliseconds (never jumps with the wall clock). */
  nowMs(): number;
  /** Wall-clock Unix milliseconds. */
  unixMs(): number;
  /** Runs `fn` once, `ms` (monotonic) from now; a negative delay means at once (on a later turn). */
  after(ms: number, fn: () => void): Timer;
  /** Runs `fn` every `ms`; such a timer alone does not keep the process alive. */
  every(ms: number, fn: () => void): Timer;
}
