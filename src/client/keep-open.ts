/**
 * `knockgate keep-open`'s loop: knock, wait, knock again shortly before the grant runs out
 * (core/keep-open-schedule.ts), until `stop` is aborted. Time comes from the Clock port, so that a
 * test runs hours of it on a ManualClock.
 *
 * What must hold:
 *   - a knock that fails for a reason that may pass (the network, DNS, an unreachable host:
 *     anything but a usage, data or configuration error) is logged as one line and retried with
 *     backoff; it never ends the loop;
 *   - a usage, data or configuration error (a credential's bad allow_ip, say) ends the loop by
 *     throwing it: knocking again would fail the same way;
 *   - after `stop` aborts, no knock starts; a knock in flight is finished (one datagram);
 *   - the loop resolves with how many knocks were sent and how many failed.
 */

import type { Clock } from '../ports/clock.js';
import { EXIT, KnockgateError } from '../core/errors.js';
import { nextKnockDelayMs } from '../core/keep-open-schedule.js';

export interface KeepOpenLoop {
  readonly clock: Clock;
  /** Sends one knock; resolves once it is sent, throws when it could not be. */
  readonly knock: () => Promise<void>;
  /** The grant each knock asks for (checked with keepOpenDurationProblem). */
  readonly durationS: number;
  readonly stop: AbortSignal;
  /** Failures and recoveries, always; one plain line each. */
  readonly warn: (line: string) => void;
  /** After each knock sent, with the wait before the next. */
  readonly onSent?: (nextInMs: number) => void;
}

export interface KeepOpenTally {
  readonly sent: number;
  readonly failed: number;
}

const FATAL_EXITS: ReadonlySet<number> = new Set([EXIT.USAGE, EXIT.CONFIG]);

/** True when knocking again cannot help (see the contract above). */
export function isFatalKnockError(err: unknown): boolean {
  if (err instanceof KnockgateError) return FATAL_EXITS.has(err.exitCode);
  // A system error (ENETUNREACH, EHOSTUNREACH, EACCES, ...) carries a string code; anything
  // else is a fault of ours and must not be retried forever in silence.
  return typeof (err as NodeJS.ErrnoException)?.code !== 'string';
}

/** One line for a failed knock: the message's first line, never a stack. */
export function knockFailureText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0]?.trim() || 'unknown error';
}

function sleep(clock: Clock, ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (stop.aborted) return resolve();
    const done = (): void => {
      timer.cancel();
      stop.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.after(ms, done);
    stop.addEventListener('abort', done);
  });
}

export async function keepOpen(o: KeepOpenLoop): Promise<KeepOpenTally> {
  let sent = 0;
  let failed = 0;
  let failures = 0;
  while (!o.stop.aborted) {
    const startMs = o.clock.nowMs();
    let reason = '';
    try {
      await o.knock();
      sent++;
      if (failures > 0) o.warn(`knock sent again after ${failures} failed ${failures === 1 ? 'try' : 'tries'}`);
      failures = 0;
    } catch (err) {
      if (isFatalKnockError(err)) throw err;
      failed++;
      failures++;
      reason = knockFailureText(err);
    }
    const delay = nextKnockDelayMs({ durationS: o.durationS, lastStartMs: startMs, nowMs: o.clock.nowMs(), failures });
    if (failures > 0) o.warn(`knock failed: ${reason} (${failures} in a row); retrying in ${formatWait(delay)}`);
    else o.onSent?.(delay);
    await sleep(o.clock, delay, o.stop);
  }
  return { sent, failed };
}

/** 1.5s, 22s, 15m (to a tenth of a second, or a minute from 2m on): for log lines. */
export function formatWait(ms: number): string {
  if (ms >= 120_000) return `${Math.round(ms / 60_000)}m`;
  return `${Number((ms / 1000).toFixed(1))}s`;
}
