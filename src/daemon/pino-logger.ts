/**
 * The daemon's Logger: pino, one JSON object per line on stdout (systemd's journal), ISO
 * timestamps, level names; optionally also appended to a file (knockd's LogFile) and sent to
 * syslog (knockd's UseSyslog) through one long-lived logger(1) process reading lines on stdin.
 * stdout and the file are written synchronously, so the line for a decision is out before the
 * next packet is handled and nothing is lost on a crash.
 */

import { spawn } from 'node:child_process';
import pino from 'pino';
import { KnockgateError } from '../core/errors.js';
import type { LogLevel } from '../config/config.js';
import type { Logger } from '../ports/logger.js';

export interface LogTargets {
  readonly file?: string | null;
  readonly syslog?: boolean;
}

export function createLogger(level: LogLevel, targets: LogTargets = {}): Logger {
  const streams: pino.StreamEntry[] = [{ level, stream: pino.destination({ dest: 1, sync: true }) }];
  if (targets.file) {
    try {
      streams.push({ level, stream: pino.destination({ dest: targets.file, sync: true, append: true, mkdir: true }) });
    } catch (err) {
      throw new KnockgateError('KG_STATE_WRITE_FAILED', `cannot open the log file ${targets.file}: ${(err as Error).message}`);
    }
  }
  if (targets.syslog) {
    const child = spawn('logger', ['-t', 'knockgated', '--id=' + String(process.pid)], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', () => undefined); // no logger(1): stdout still has every line
    child.stdin.on('error', () => undefined);
    child.unref();
    streams.push({ level, stream: child.stdin });
  }
  const p = pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    streams.length === 1 ? (streams[0] as pino.StreamEntry).stream : pino.multistream(streams),
  );
  return {
    error: (f, m) => p.error(f, m),
    warn: (f, m) => p.warn(f, m),
    info: (f, m) => p.info(f, m),
    debug: (f, m) => p.debug(f, m),
  };
}
