/**
 * The daemon's Logger: pino, one JSON object per line on stdout (systemd's journal or a file), ISO
 * timestamps, level names. Written synchronously so that the line for a decision is out before
 * the next packet is handled and nothing is lost on a crash.
 */

import pino from 'pino';
import type { LogLevel } from '../config/config.js';
import type { Logger } from '../ports/logger.js';

export function createLogger(level: LogLevel): Logger {
  const p = pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: 1, sync: true }),
  );
  return {
    error: (f, m) => p.error(f, m),
    warn: (f, m) => p.warn(f, m),
    info: (f, m) => p.info(f, m),
    debug: (f, m) => p.debug(f, m),
  };
}
