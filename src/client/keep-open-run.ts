/**
 * One `keep-open` session around the loop (keep-open.ts): what ends it, and the exit status.
 *
 *   - SIGTERM or SIGINT (when `handleSignals`): with no command, the loop stops and the status is
 *     0; with a command, the signal is passed on to it and the session ends when it does.
 *   - `whilePid` ending: as SIGTERM (the command, if any, gets SIGTERM).
 *   - `command` (argv, no shell): started once the first knock has been sent, so that it finds the
 *     door open; its end ends the session, with its exit status (child-command.ts).
 *   - `until` settling (connect --keep-open: the relay ended): the loop stops, status 0.
 *   - a usage or configuration error from a knock: the command, if any, gets SIGTERM, and the
 *     error is thrown (the CLI prints it and exits with its status).
 * Every way out prints at most one line (through `say`), and leaves no timer or listener behind.
 */

import type { ChildProcess } from 'node:child_process';
import { KEEP_OPEN_PID_POLL_MS } from '../core/limits.js';
import type { Clock, Timer } from '../ports/clock.js';
import { commandEnded, startCommand } from './child-command.js';
import { formatWait, keepOpen } from './keep-open.js';
import { watchPid } from './watch-pid.js';

export interface KeepOpenSession {
  readonly clock: Clock;
  readonly knock: () => Promise<{ address: string; port: number }>;
  readonly durationS: number;
  readonly whilePid?: number;
  readonly command?: readonly string[];
  readonly until?: Promise<unknown>;
  readonly handleSignals: boolean;
  readonly verbose: boolean;
  /** One line to stderr, without the `knockgate:` prefix. */
  readonly say: (line: string) => void;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export async function runKeepOpen(o: KeepOpenSession): Promise<number> {
  const stop = new AbortController();
  let child: ChildProcess | null = null;
  let stopLine: string | null = null;
  const cleanups: (() => void)[] = [];

  const end = (line: string, signal: NodeJS.Signals): void => {
    if (child !== null) {
      child.kill(signal);
      return;
    }
    stopLine ??= line;
    stop.abort();
  };
  if (o.handleSignals)
    for (const sig of SIGNALS) {
      const on = (): void => end(`stopped by ${sig}`, sig);
      process.on(sig, on);
      cleanups.push(() => process.off(sig, on));
    }
  if (o.whilePid !== undefined) {
    const pid = o.whilePid;
    const timer: Timer = watchPid(o.clock, pid, KEEP_OPEN_PID_POLL_MS, () =>
      end(`process ${pid} ended; stopped`, 'SIGTERM'),
    );
    cleanups.push(() => timer.cancel());
  }
  o.until?.then(
    () => stop.abort(),
    () => stop.abort(),
  );

  let firstSent: () => void = () => {};
  const sentOnce = new Promise<void>((resolve) => {
    firstSent = resolve;
  });
  let last: { address: string; port: number } | null = null;
  const loop = keepOpen({
    clock: o.clock,
    durationS: o.durationS,
    stop: stop.signal,
    knock: async () => {
      last = await o.knock();
    },
    warn: o.say,
    onSent: (nextInMs) => {
      firstSent();
      if (o.verbose && last)
        o.say(`knocked ${last.address} port ${last.port}/udp for ${o.durationS}s; next in ${formatWait(nextInMs)}`);
    },
  });

  try {
    let status = 0;
    if (o.command !== undefined) {
      const argv = o.command;
      const started = await Promise.race([sentOnce.then(() => true), loop.then(() => false)]);
      if (started && !stop.signal.aborted) {
        child = await startCommand(argv);
        const ran = child;
        // A stop that came while it was being started (end() saw no child yet) is passed on now.
        if (stop.signal.aborted) ran.kill('SIGTERM');
        status = await Promise.race([commandEnded(ran), loop.then(() => commandEnded(ran))]);
        child = null;
        stop.abort();
      }
    }
    const tally = await loop;
    if (stopLine !== null)
      o.say(`${stopLine} (${tally.sent} knock${tally.sent === 1 ? '' : 's'} sent, ${tally.failed} failed)`);
    return status;
  } catch (err) {
    (child as ChildProcess | null)?.kill('SIGTERM');
    stop.abort();
    await loop.catch(() => undefined); // its own error is the one thrown, or it ended on the abort
    throw err;
  } finally {
    for (const c of cleanups) c();
  }
}
