// Invariant: parseConfigText, on any text, in bounded time (no super-linear YAML), either returns a frozen configuration within the bounds of src/core/limits.ts (unique door names, every door exactly one kind, ports and durations in range, SPA client ids unique, fwknop keys usable) that reloads identically and, when secrets are not protected, loads the same or fails asking for chmod 600; or throws a ConfigError (KG_CONFIG_INVALID, exit 78) naming the file and a line that exists in it (no line only for an empty document or one nested too deeply to parse), and never any other exception.
/**
 * Fuzz target for src/config/load.ts parseConfigText (and src/config/located-yaml.ts,
 * src/config/schema.ts under it). The file lives in a temporary directory holding a copy of
 * test/fixtures/fwknop/sample-access-keys-set.conf as access.conf, so that `access_conf:` seeds load too.
 * Seeds: the README's examples, imports of the knockd fixtures and of an access.conf, hand-made ones.
 */

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { parseConfigText } from '../../src/config/load.js';
import type { Config } from '../../src/config/config.js';
import { ConfigError } from '../../src/core/errors.js';
import { fuzzIn, REPO_ROOT, testTimeoutMs } from './harness.js';
import { assertConfig, assertLocatedConfigError } from './config-checks.js';

const DIR = mkdtempSync(join(tmpdir(), 'knockgate-fuzz-config-'));
after(() => rmSync(DIR, { recursive: true, force: true }));
const FILE = join(DIR, 'knockgate.yaml');
const ACCESS = join(DIR, 'access.conf');
copyFileSync(join(REPO_ROOT, 'test', 'fixtures', 'fwknop', 'sample-access-keys-set.conf'), ACCESS);
const ACCESS_TEXT = readFileSync(ACCESS, 'latin1');

/** What a door's compiled form looks like without KeyObjects, for comparing two loads. */
function comparable(c: Config): unknown {
  return JSON.parse(
    JSON.stringify(c, (_k, v: unknown) =>
      v instanceof Uint8Array
        ? Buffer.from(v).toString('hex')
        : typeof v === 'object' && v !== null && 'asymmetricKeyType' in v
          ? 'KeyObject'
          : v,
    ),
  );
}

/** No content node: an empty file or only comments, where a missing key has no line to point at. */
function emptyDocument(text: string): boolean {
  try {
    return parseDocument(text).contents === null;
  } catch {
    return false;
  }
}

function checkConfig(input: Uint8Array): string {
  const text = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8'); // as readConfigFile reads it
  let config: Config;
  try {
    config = parseConfigText(FILE, text, true);
  } catch (e) {
    return assertLocatedConfigError(e, {
      file: FILE,
      text,
      // access_conf names another file; whatever path it gives, the error names that file.
      others: (f) => (f === ACCESS ? ACCESS_TEXT : /access_conf/.test(text) ? null : undefined),
      wholeFile: (err) => err.file !== FILE || /^YAML: nested too deeply/.test(err.detail) || emptyDocument(text),
    });
  }
  assertConfig(config, FILE);
  assert.deepEqual(comparable(parseConfigText(FILE, text, true)), comparable(config), 'a second load differs');
  try {
    assert.deepEqual(
      comparable(parseConfigText(FILE, text, false)),
      comparable(config),
      'secretsProtected changed the result',
    );
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    assert.match(e.detail, /chmod 600/);
  }
  const kinds = config.doors.map((d) => (d.spa ? 'spa' : d.fwknop ? 'fwknop' : d.sequence ? 'seq' : 'otp'));
  return `ok:${[...new Set(kinds)].sort().join('+')}`;
}

const DICTIONARY = [
  'interfaces',
  'firewall',
  'nftables',
  'none',
  'nft_table',
  'max_tracked_sequences',
  'log_level',
  'log_file',
  'syslog',
  'pid_file',
  'spa',
  'server_key',
  'freshness',
  'replay_journal',
  'max_replay_entries',
  'doors',
  'name',
  'sequence',
  'one_time_sequences',
  'sequence_timeout',
  'tcp_flags',
  'open',
  'duration',
  'max_duration',
  'hide_knock_ports',
  'start_command',
  'stop_command',
  'command_timeout',
  'start_shell',
  'start_shell_6',
  'stop_shell',
  'stop_shell_6',
  'target',
  'clients',
  'id',
  'psk',
  'public_key',
  'allow',
  'other_address',
  'widest_prefix',
  'ipv4',
  'ipv6',
  'fwknop',
  'port',
  'capture',
  'socket',
  'pcap',
  'access_conf',
  'stanzas',
  'source',
  'destination',
  'open_ports',
  'restrict_ports',
  'key',
  'key_base64',
  'hmac_key',
  'hmac_key_base64',
  'hmac_digest_type',
  'encryption_mode',
  'legacy',
  'cbc',
  'fw_access_timeout',
  'max_fw_timeout',
  'require_username',
  'require_source_address',
  'access_expire_epoch',
  'any',
  'eth0',
  'ANY',
  '- ',
  ': ',
  '  ',
  '[',
  ']',
  '{',
  '}',
  '&a ',
  '*a',
  '<<: ',
  '!!binary ',
  '!!str ',
  '!!int ',
  '!!map ',
  '? ',
  '---\n',
  '...\n',
  '|\n',
  '>-\n',
  '%YAML 1.2\n',
  '22/tcp',
  '7000/udp',
  '8000:udp',
  '65536',
  '0',
  '30s',
  '1d',
  '86401s',
  '500ms',
  '99ms',
  '1h',
  'syn,!ack',
  'any',
  '{ip}',
  '{door}',
  '{{',
  '}}',
  '/bin/true',
  'true',
  'false',
  'null',
  '~',
  '10.0.0.1',
  '2001:db8::1',
  '192.0.2.0/24',
  'AAAAAAAAAAAAAAAAAAAAAA',
  'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  'access.conf',
];

describe('fuzz: configuration files (src/config/load.ts parseConfigText)', () => {
  it('config-yaml', { timeout: testTimeoutMs() }, async (t) => {
    await fuzzIn(t, {
      name: 'config-yaml',
      kind: 'text',
      maxBytes: 16_384,
      dictionary: DICTIONARY,
      check: checkConfig,
    });
  });

  it('regression: nested collection keys are refused at once (toJS took exponential time), a too-deep document is a ConfigError', () => {
    const nested = (n: number): string => `a:\n  - ${'? '.repeat(n)}x\n`;
    const t0 = performance.now();
    assert.throws(
      () => parseConfigText(FILE, nested(400)),
      (e: unknown) => e instanceof ConfigError && e.line === 2 && /plain value/.test(e.detail),
    );
    assert.ok(performance.now() - t0 < 1_000, 'nested keys are slow again');
    assert.throws(
      () => parseConfigText(FILE, `interfaces: [eth0]\n[a, b]: 1\n`),
      (e: unknown) => e instanceof ConfigError && e.line === 2,
    );
    assert.throws(
      () => parseConfigText(FILE, `x: &k a\n*k : 1\n`),
      (e: unknown) => e instanceof ConfigError && e.line === 2,
    );
    for (const deep of [
      `a: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`,
      `a: ${'{a: '.repeat(5_000)}1${'}'.repeat(5_000)}\n`,
      `${'- '.repeat(5_000)}x\n`,
    ]) {
      assert.throws(
        () => parseConfigText(FILE, deep),
        (e: unknown) => e instanceof ConfigError && e.file === FILE,
      );
    }
  });

  it('regression: an unresolved or excessive YAML alias is a located ConfigError, not a ReferenceError', () => {
    for (const [text, line] of [
      ['a: *b\n', 1],
      ['interfaces: [eth0]\ndoors:\n  - name: ssh\n    sequence: *seq\n    open: [22]\n', 4],
      [`a: &a [1]\nb: [${new Array(150).fill('*a').join(', ')}]\n`, 2],
    ] as const) {
      assert.throws(
        () => parseConfigText(FILE, text),
        (e: unknown) => e instanceof ConfigError && e.file === FILE && e.line === line,
        text,
      );
    }
  });
});
