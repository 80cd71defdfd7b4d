// Invariant: importKnockdConf, on any text, in bounded time, either throws a ConfigError (KG_CONFIG_INVALID) naming the file and a line that exists in it (no line only for "no door sections"), never any other exception; or returns warnings sorted by line, each line 0 (whole file) or one of the file's, and YAML that parseConfigText loads into a valid firewall-less configuration with one door per knockd door section, each running knockd's shell commands.
/**
 * Fuzz target for src/config/knockd-conf.ts importKnockdConf (pure: the caller reads the file).
 * Seeds: test/fixtures/knockd/*.conf and hand-made files using every key; the text is decoded as
 * readConfigFile decodes it (UTF-8).
 */

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importKnockdConf, type KnockdImport } from '../../src/config/knockd-conf.js';
import { parseConfigText } from '../../src/config/load.js';
import { fuzzIn, testTimeoutMs } from './harness.js';
import { assertConfig, assertLocatedConfigError, lineCount } from './config-checks.js';

const DIR = mkdtempSync(join(tmpdir(), 'knockgate-fuzz-knockd-'));
after(() => rmSync(DIR, { recursive: true, force: true }));
const FILE = join(DIR, 'knockd.conf');
const YAML_FILE = join(DIR, 'knockgate.yaml');

/** Door sections as knockd sees them: trimmed lines `[name]`, other than `[options]`, that are not comments. */
function doorSections(text: string): number {
  let n = 0;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '');
    if (line.length >= 3 && line.startsWith('[') && line.endsWith(']') && line !== '[options]') n++;
  }
  return n;
}

function checkKnockd(input: Uint8Array): string {
  const text = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  let imported: KnockdImport;
  try {
    imported = importKnockdConf(FILE, text);
  } catch (e) {
    return assertLocatedConfigError(e, { file: FILE, text, wholeFile: (err) => /^no door sections/.test(err.detail) });
  }
  const lines = lineCount(text);
  let last = 0;
  for (const w of imported.warnings) {
    assert.ok(Number.isInteger(w.line) && w.line >= 0 && w.line <= lines, `warning at line ${w.line} of ${lines}`);
    assert.ok(w.line >= last, 'warnings not sorted by line');
    last = w.line;
  }
  // The import is a configuration knockgate runs: it must load, not fail.
  let config: ReturnType<typeof parseConfigText> | undefined;
  try {
    config = parseConfigText(YAML_FILE, imported.yaml, true);
  } catch (e) {
    assert.fail(`the imported YAML does not load: ${(e as Error).message}\n--- YAML ---\n${imported.yaml}`);
  }
  assertConfig(config, YAML_FILE);
  assert.equal(config.firewall, 'none');
  assert.equal(config.doors.length, doorSections(text), 'one door per knockd door section');
  for (const d of config.doors)
    assert.ok(d.shell !== null && d.startCommand === null, `door ${d.name} does not run knockd's commands`);
  return `ok:${Math.min(config.doors.length, 3)}:${imported.warnings.length > 0 ? 'warn' : 'clean'}`;
}

const DICTIONARY = [
  '[options]',
  '[',
  ']',
  '=',
  ',',
  ':',
  '#',
  '!',
  'UseSyslog',
  'LogFile',
  'PidFile',
  'Interface',
  'Sequence',
  'One_Time_Sequences',
  'Seq_Timeout',
  'Timeout',
  'TCPFlags',
  'Target',
  'Start_Command',
  'Command',
  'Start_Command_6',
  'Command_6',
  'Cmd_Timeout',
  'Stop_Command',
  'Stop_Command_6',
  'syn',
  'fin',
  'rst',
  'psh',
  'ack',
  'urg',
  '!ack',
  'syn|ack',
  'tcp',
  'udp',
  'UDP',
  '%IP%',
  '7000',
  '65535',
  '65536',
  '0',
  '-1',
  '+5',
  '99999999999',
  ' 12abc',
  '192.0.2.1',
  '::1',
  '2001:DB8::1',
  'eth0',
  '/var/log/knockd.log',
  'relative/path',
  '\u00a0',
  '\ufeff',
  '\v',
  '\f',
];

describe('fuzz: knockd.conf importer (src/config/knockd-conf.ts)', () => {
  it('knockd-conf', { timeout: testTimeoutMs() }, async (t) => {
    await fuzzIn(t, {
      name: 'knockd-conf',
      kind: 'text',
      maxBytes: 16_384,
      dictionary: DICTIONARY,
      check: checkKnockd,
    });
  });
});
