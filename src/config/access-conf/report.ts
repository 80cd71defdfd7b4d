/**
 * Where things are in access.conf files, and the one place the import reports them: warnings
 * (things that do not carry over exactly) are collected in order; errors are ConfigErrors.
 *
 * Contract: every warning and error names the file and its 1-based line; line 0 means the file
 * as a whole and becomes a ConfigError without a line. `key` is the variable as written.
 */

import { ConfigError } from '../../core/errors.js';

export interface Loc {
  readonly file: string;
  /** 1-based; 0: the file as a whole. */
  readonly line: number;
}

/** A variable's value with where it was set. */
export interface Setting<T> extends Loc {
  readonly value: T;
  /** The variable as written, for messages. */
  readonly key: string;
}

export interface AccessConfWarning {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export class AccessConfReport {
  readonly warnings: AccessConfWarning[] = [];

  warn(at: Loc, message: string): void {
    this.warnings.push({ file: at.file, line: at.line, message });
  }

  /** Throws a ConfigError at `at` (a location, or a file as a whole). */
  fail(at: Loc | string, key: string | undefined, detail: string): never {
    if (typeof at === 'string') throw new ConfigError(at, undefined, key, detail);
    throw new ConfigError(at.file, at.line === 0 ? undefined : at.line, key, detail);
  }
}
