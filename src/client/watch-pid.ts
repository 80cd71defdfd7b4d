/**
 * `keep-open --while-pid PID`: whether a process still lives, asked the only way Node can without
 * a pidfd: signal 0 (kill(2) checks that the process exists and sends nothing). ESRCH: gone;
 * EPERM: it lives, under another user. A PID can be reused after its process ends; polled every
 * KEEP_OPEN_PID_POLL_MS, a reuse within that window would go unnoticed (documented in the man page).
 */

import { KnockgateError } from '../core/errors.js';
import type { Clock, Timer } from '../ports/clock.js';

export function processLives(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Calls `onGone` once, at the first poll that finds `pid` gone; KG_USAGE if it is gone already. */
export function watchPid(clock: Clock, pid: number, pollMs: number, onGone: () => void): Timer {
  if (!processLives(pid)) throw new KnockgateError('KG_USAGE', `--while-pid ${pid}: no such process`);
  const timer = clock.every(pollMs, () => {
    if (processLives(pid)) return;
    timer.cancel();
    onGone();
  });
  return timer;
}
