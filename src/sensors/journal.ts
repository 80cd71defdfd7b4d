/**
 * The systemd journal as a source of kernel log lines (sensor kernel-log, `source: journal`):
 * `journalctl -k -f -o json -n 0` spawned with an argv array (no shell), one JSON object per line
 * on its stdout. Only entries of `_TRANSPORT=kernel` count as the kernel's (`-k` asks for those
 * alone; the field is checked again). MESSAGE is a string, or an array of bytes when it is not
 * valid UTF-8. An entry longer than MAX_JOURNAL_ENTRY_BYTES, or not JSON, is skipped.
 *
 * Contract: open() fails with KG_CAPTURE_FAILED when the program cannot be found; journalctl
 * exiting later is a fault (logged by the daemon), and it is started again after
 * JOURNAL_RESTART_MS, until close(). The journal does not say what it lost: lost() is 0.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { KnockgateError } from '../core/errors.js';
import { MAX_JOURNAL_ENTRY_BYTES } from '../core/limits.js';
import type { FaultHandler, LineSink, LineSource } from './line-source.js';

/** Wait before journalctl is started again after it exited. */
const JOURNAL_RESTART_MS = 1_000;
export const JOURNALCTL_ARGS = ['-k', '-f', '-o', 'json', '-n', '0', '--no-pager'] as const;

export function followJournal(sink: LineSink, fault: FaultHandler, program = 'journalctl'): LineSource {
  const path = resolveProgram(program);
  if (path === null)
    throw new KnockgateError(
      'KG_CAPTURE_FAILED',
      `cannot read the journal: ${program} was not found (install systemd's journalctl, or use source: kmsg)`,
    );
  let closed = false;
  let child: ChildProcess | null = null;
  let restart: NodeJS.Timeout | null = null;

  const start = (): void => {
    let buffered = '';
    let skipping = false;
    const c = spawn(path, [...JOURNALCTL_ARGS], { stdio: ['ignore', 'pipe', 'ignore'] });
    child = c;
    c.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      let from = 0;
      for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', from)) {
        const piece = chunk.slice(from, nl);
        from = nl + 1;
        if (!skipping && buffered.length + piece.length <= MAX_JOURNAL_ENTRY_BYTES) entry(buffered + piece);
        buffered = '';
        skipping = false;
      }
      buffered += chunk.slice(from);
      if (buffered.length > MAX_JOURNAL_ENTRY_BYTES) {
        buffered = '';
        skipping = true;
      }
    });
    c.on('error', (err) => fault(`journalctl: ${err.message}`));
    c.on('exit', (code, signal) => {
      if (closed) return;
      fault(`journalctl exited (${signal ?? code}); starting it again in ${JOURNAL_RESTART_MS} ms`);
      restart = setTimeout(() => {
        restart = null;
        if (!closed) start();
      }, JOURNAL_RESTART_MS);
    });
  };

  const entry = (text: string): void => {
    let e: { MESSAGE?: unknown; _TRANSPORT?: unknown };
    try {
      e = JSON.parse(text) as typeof e;
    } catch {
      return;
    }
    const m = e.MESSAGE;
    const message =
      typeof m === 'string'
        ? m
        : Array.isArray(m) && m.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)
          ? Buffer.from(m as number[]).toString('utf8')
          : null;
    if (message !== null && !closed) sink(message, e._TRANSPORT === 'kernel');
  };

  start();
  return {
    name: 'kernel-log:journal',
    lost: () => 0,
    close: () => {
      if (closed) return;
      closed = true;
      if (restart !== null) clearTimeout(restart);
      const c = child as ChildProcess | null;
      if (c !== null && c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    },
  };
}

/** The program's absolute path: as given when absolute, else the first executable on PATH. */
function resolveProgram(program: string): string | null {
  const candidates = isAbsolute(program)
    ? [program]
    : (process.env.PATH ?? '/usr/bin:/bin').split(delimiter).map((d) => join(d, program));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  return null;
}
