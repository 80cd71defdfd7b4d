/**
 * Structured logging, as the daemon needs it: one JSON object per line, with an `event` name.
 * Contract for callers: never pass a secret (keys, one-time sequences, knock ports of a door).
 */

export interface Logger {
  error(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  debug(fields: Record<string, unknown>, msg: string): void;
}

/** A logger that keeps lines in memory: the fake for tests. */
export class MemoryLogger implements Logger {
  readonly lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  error(fields: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: 'error', msg, fields });
  }
  warn(fields: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: 'warn', msg, fields });
  }
  info(fields: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: 'info', msg, fields });
  }
  debug(fields: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: 'debug', msg, fields });
  }
}
