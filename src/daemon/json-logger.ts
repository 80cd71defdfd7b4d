/**
 * The daemon's Logger: one JSON object per line on stdout (systemd's journal), with `level`,
 * `time` (ISO 8601), `pid`, the fields, and `msg`; optionally also appended to a file (knockd's
 * LogFile) and sent to syslog (knockd's UseSyslog) through one long-lived logger(1) process
 * reading lines on stdin.
 *
 * stdout and the file are written synchronously, so the line for a decision is out before the
 * next packet is handled and nothing is lost on a crash. Our own ~70 lines rather than a logging
 * library: the daemon writes a few lines a second (drop reasons are rate-limited), and every
 * megabyte of idle memory counts (docs/benchmarks.md).
 */

import { spawn } from 'node:child_process';
import { closeSync, constants, mkdirSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { KnockgateError } from '../core/errors.js';
import { MAX_LOG_WRITE_ATTEMPTS } from '../core/limits.js';
import type { LogLevel } from '../config/config.js';
import type { Logger } from '../ports/logger.js';
import { openNoFollow } from '../config/trusted-file.js';

export interface LogTargets {
  /** Default true. */
  readonly stdout?: boolean;
  readonly file?: string | null;
  readonly syslog?: boolean;
}

const SEVERITY: Readonly<Record<LogLevel, number>> = { debug: 20, info: 30, warn: 40, error: 50 };
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of `text` to `fd`; a line that cannot be written is dropped, never thrown. */
function writeLine(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let done = 0;
  for (let attempt = 0; done < bytes.length && attempt < MAX_LOG_WRITE_ATTEMPTS; ) {
    try {
      done += writeSync(fd, bytes, done);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      attempt++;
      Atomics.wait(sleeper, 0, 0, 1);
    }
  }
}

export function createLogger(level: LogLevel, targets: LogTargets = {}): Logger {
  const fds = targets.stdout === false ? [] : [1];
  if (targets.file) {
    try {
      mkdirSync(dirname(targets.file), { recursive: true });
    } catch (err) {
      throw new KnockgateError(
        'KG_STATE_WRITE_FAILED',
        `cannot open the log file ${targets.file}: ${(err as Error).message}`,
      );
    }
    // Not through a symbolic link, and only a regular file of root's or ours (trusted-file.ts).
    fds.push(openNoFollow(targets.file, constants.O_WRONLY | constants.O_APPEND, 0o640, 'log file'));
  }
  let syslog: NodeJS.WritableStream | undefined;
  if (targets.syslog) {
    const child = spawn('logger', ['-t', 'knockgated', `--id=${process.pid}`], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', () => undefined); // no logger(1): stdout still has every line
    child.stdin.on('error', () => undefined);
    child.unref();
    syslog = child.stdin;
  }
  const threshold = SEVERITY[level];
  const emit = (name: LogLevel, fields: Record<string, unknown>, msg: string): void => {
    if (SEVERITY[name] < threshold) return;
    const line = `${JSON.stringify({ level: name, time: new Date().toISOString(), pid: process.pid, ...fields, msg })}\n`;
    for (const fd of fds) writeLine(fd, line);
    syslog?.write(line);
  };
  process.once('exit', () => {
    for (const fd of fds) if (fd !== 1) closeSync(fd);
  });
  return {
    error: (f, m) => emit('error', f, m),
    warn: (f, m) => emit('warn', f, m),
    info: (f, m) => emit('info', f, m),
    debug: (f, m) => emit('debug', f, m),
  };
}
