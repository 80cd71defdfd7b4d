/**
 * A fresh temporary directory for each test of the enclosing describe() (or file), removed after
 * it, and files written into it with an exact mode (chmod after the write: the umask does not
 * apply), as key-file tests need.
 */

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'node:test';

export interface TempDir {
  /** A path in the current test's directory. */
  path(name: string): string;
  /** Writes `data` to `name` with exactly `mode`; returns its path. */
  put(name: string, data: string | Uint8Array, mode?: number): string;
}

export function useTempDir(prefix: string): TempDir {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  return {
    path: (name) => join(dir, name),
    put(name, data, mode = 0o600) {
      const file = join(dir, name);
      writeFileSync(file, data, { mode });
      chmodSync(file, mode);
      return file;
    },
  };
}
