// Invariant: importAccessConf, on any access.conf bytes (with its %include targets), in bounded time, either throws a ConfigError (KG_CONFIG_INVALID) naming the file it read and a line that exists in that file (no line only for a whole-file fault), never any other exception; or returns warnings that name a line of the file they are about (0 = the whole file), one YAML stanza per SOURCE, and a configuration that parseConfigText loads into one fwknop door with those stanzas whenever the stanzas' OPEN_PORTS give the door 1 to 64 ports.
/**
 * Fuzz target for src/config/fwknop-access-conf.ts importAccessConf. It reads files, so every input
 * is written to access.conf (mode 0600) in a temporary directory that also holds copies of the
 * fixtures it may include (include/, conf.d/, loop-a.conf, loop-b.conf from test/fixtures/fwknop).
 * The bytes are read as fwknopd reads them (latin1, byte for byte).
 */

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { importAccessConf, type AccessConfImport } from '../../src/config/fwknop-access-conf.js';
import { parseConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';
import { MAX_OPEN_PORTS_PER_DOOR } from '../../src/core/limits.js';
import { fuzzIn, REPO_ROOT, testTimeoutMs } from './harness.js';
import { assertConfig, assertLocatedConfigError, lineCount } from './config-checks.js';

const DIR = mkdtempSync(join(tmpdir(), 'knockgate-fuzz-access-'));
after(() => rmSync(DIR, { recursive: true, force: true }));
const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'fwknop');
for (const f of ['include', 'conf.d', 'loop-a.conf', 'loop-b.conf'])
  cpSync(join(FIXTURES, f), join(DIR, f), { recursive: true });
const FILE = join(DIR, 'access.conf');
const YAML_FILE = join(DIR, 'knockgate.yaml');

/** The text of a file an error or a warning may name: the input, or any regular file it could include. */
function textOf(file: string, input: string): string | null | undefined {
  if (file === FILE) return input;
  try {
    return existsSync(file) && statSync(file).isFile() ? readFileSync(file, 'latin1') : null;
  } catch {
    return null;
  }
}

const WHOLE_FILE =
  /could not find a valid SOURCE stanza|is not a regular file|is larger than|could not open access file|include loop|more than \d+ access files/;

function checkAccess(input: Uint8Array): string {
  writeFileSync(FILE, input, { mode: 0o600 });
  const text = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
  let imported: AccessConfImport;
  try {
    imported = importAccessConf(FILE);
  } catch (e) {
    return assertLocatedConfigError(e, {
      file: FILE,
      text,
      others: (f) => textOf(f, text),
      wholeFile: (err) => WHOLE_FILE.test(err.detail),
    });
  }
  for (const w of imported.warnings) {
    const of = textOf(w.file, text);
    assert.notEqual(of, undefined, `a warning names ${w.file}`);
    assert.ok(Number.isInteger(w.line) && w.line >= 0, `warning line ${w.line}`);
    if (typeof of === 'string')
      assert.ok(w.line <= lineCount(of), `warning at line ${w.line} of a ${lineCount(of)}-line file`);
  }
  const stanzas = parseYaml(imported.stanzasYaml) as unknown[];
  assert.ok(Array.isArray(stanzas) && stanzas.length >= 1, 'no stanza');
  const ports = new Set<string>();
  for (const s of stanzas as { open_ports?: string[] }[]) for (const p of s.open_ports ?? []) ports.add(p);
  const yaml = imported.yaml;
  try {
    const config = parseConfigText(YAML_FILE, yaml, true);
    assertConfig(config, YAML_FILE);
    assert.equal(config.doors.length, 1);
    assert.equal(config.doors[0]?.fwknop?.stanzas.length, stanzas.length, 'one compiled stanza per SOURCE');
  } catch (e) {
    if (!(e instanceof ConfigError) || (ports.size >= 1 && ports.size <= MAX_OPEN_PORTS_PER_DOOR)) {
      assert.fail(`the imported configuration does not load: ${(e as Error).message}\n--- YAML ---\n${yaml}`);
    }
    assert.match(e.key ?? '', /^doors\[0\]\.open/, `expected only the door's "open" list to be refused: ${e.message}`);
  }
  return `ok:${Math.min(stanzas.length, 3)}:${ports.size === 0 ? 'no-ports' : 'ports'}`;
}

const DICTIONARY = [
  'SOURCE',
  'DESTINATION',
  'OPEN_PORTS',
  'RESTRICT_PORTS',
  'KEY',
  'KEY_BASE64',
  'HMAC_KEY',
  'HMAC_KEY_BASE64',
  'HMAC_DIGEST_TYPE',
  'ENCRYPTION_MODE',
  'FW_ACCESS_TIMEOUT',
  'MAX_FW_TIMEOUT',
  'REQUIRE_USERNAME',
  'REQUIRE_SOURCE_ADDRESS',
  'REQUIRE_SOURCE',
  'ACCESS_EXPIRE',
  'ACCESS_EXPIRE_EPOCH',
  'FORCE_NAT',
  'FORWARD_ALL',
  'DISABLE_DNAT',
  'GPG_HOME_DIR',
  'ENABLE_CMD_EXEC',
  'CMD_CYCLE_OPEN',
  'CMD_CYCLE_CLOSE',
  'CMD_CYCLE_TIMER',
  'NONE',
  '$SRC',
  '$PROTO',
  '$',
  '%include',
  '%include_folder',
  '%include_keys',
  'include/first.conf',
  'conf.d/',
  'loop-b.conf',
  'access.conf',
  'ANY',
  'any',
  'tcp/22',
  'udp/53',
  'TCP/0',
  'tcp/65536',
  'tcp/-1',
  '0x7f.1',
  '010.0.0.1',
  '10.0.0.0/8',
  '/255.255.255.0',
  '/33',
  '/0',
  'sha3_256',
  'SHA512',
  'md5',
  'legacy',
  'CBC',
  'ECB',
  'Y',
  'N',
  'yes',
  '__CHANGEME__',
  '12/31/2030',
  '02/30/99',
  '-1',
  '0',
  '8388608',
  '8388609',
  '99999999999999999999',
  'uGhNomZ1Nc3N9HLT5+2vGWj/EVcbNt9Ktc/Uy88RDeM=',
  '=',
  ';',
  ':',
  ' ',
  '\t',
  '\r',
  '#',
];

describe('fuzz: fwknop access.conf importer (src/config/fwknop-access-conf.ts)', () => {
  it('access-conf', { timeout: testTimeoutMs() }, async (t) => {
    await fuzzIn(t, { name: 'access-conf', kind: 'text', maxBytes: 8_192, dictionary: DICTIONARY, check: checkAccess });
  });
});
