/**
 * access.conf files (and a minimal fwknop knockgate.yaml) for unit tests of the stanza variables:
 * each conf() call writes a fresh 0600 file in one temporary directory (removed after the test
 * file), and errorAt asserts the ConfigError an import throws names that file, line and variable.
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

/**
 * A knockgate.yaml with one fwknop door (firewall: none) and one YAML stanza with keys: the
 * stanza's further lines are `lines`, from line 10 on.
 */
export function fwknopStanzaYaml(lines: readonly string[]): string {
  return [
    'interfaces: [lo]',
    'firewall: none',
    'doors:',
    '  - name: fw',
    '    fwknop: { port: 62201 }',
    '    stanzas:',
    '      - source: ANY',
    '        key_base64: "c29tZS1wYXNzcGhyYXNl"',
    '        hmac_key_base64: "c29tZS1obWFjLWtleQ=="',
    ...lines.map((l) => `        ${l}`),
    '',
  ].join('\n');
}
