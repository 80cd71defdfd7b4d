/**
 * access.conf files for unit tests of the importer's stanza variables: each call writes a fresh
 * 0600 file in one temporary directory (removed after the test file), and errorAt asserts the
 * ConfigError an import throws names that file, line and variable.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { importAccessConf } from '../../src/config/fwknop-access-conf.js';
import { ConfigError } from '../../src/core/errors.js';

/** A stanza's first lines: keys and a port, so that only what a test adds is in question. */
export const BASE_STANZA = ['SOURCE ANY', 'KEY some-passphrase', 'HMAC_KEY some-hmac-key', 'OPEN_PORTS tcp/22'];

/** Registers the directory's removal with the calling test file's after(). */
export function accessConfFiles(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  return {
    dir,
    conf(...lines: string[]): string {
      const file = join(dir, `access-${++n}.conf`);
      writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
      return file;
    },
  };
}

export function errorAt(file: string, line: number, key: string, re: RegExp): void {
  assert.throws(
    () => importAccessConf(file),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.equal(e.file, file);
      assert.equal(e.line, line, e.message);
      assert.equal(e.key, key, e.message);
      assert.match(e.detail, re);
      return true;
    },
  );
}
