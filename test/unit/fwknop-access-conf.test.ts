/**
 * Covers src/config/fwknop-access-conf.ts (importAccessConf): fwknop's sample access.conf stanza
 * (placeholders refused, keys set accepted), every supported variable with its fwknopd default,
 * Y/N booleans as add_acc_bool reads them, comma lists with blanks, comments and line syntax as
 * parse_access_file's sscanf reads them, %include (relative, absolute, fwknopd's depth limit, include
 * loops) and %include_folder (*.conf only, name order), the fwknop known-answer keys as a stanza,
 * warnings for what does not carry over (with file and line), ConfigErrors naming file, line and
 * variable, ACCESS_EXPIRE as mktime() computes it, and YAML that reads back verbatim and loads.
 * Fixtures: test/fixtures/fwknop/ and test/fixtures/fwknop-kat.json; everything else is written to
 * a temporary directory (mode 0600, as fwknopd wants).
 */

process.env.TZ = 'UTC';

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { importAccessConf, type AccessConfImport } from '../../src/config/fwknop-access-conf.js';
import { parseConfigText } from '../../src/config/load.js';
import { importConfig } from '../../src/config/import-config.js';
import { ConfigError, KnockgateError } from '../../src/core/errors.js';

/** The fixtures live in the source tree; the test runs from dist/test/unit or test/unit. */
const FIXTURES = ['../../../test/fixtures', '../fixtures']
  .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
  .find((dir) => existsSync(join(dir, 'fwknop'))) as string;
const FW = join(FIXTURES, 'fwknop');
const KAT = JSON.parse(readFileSync(join(FIXTURES, 'fwknop-kat.json'), 'utf8')) as Record<
  string,
  Record<string, string>
>;

const TMP = mkdtempSync(join(tmpdir(), 'kg-access-conf-'));
after(() => rmSync(TMP, { recursive: true, force: true }));
let counter = 0;
/** Writes files (relative names, '\n'-joined lines or raw Buffers) into a fresh directory; returns it. */
function tree(files: Record<string, string | string[] | Buffer>): string {
  const dir = join(TMP, `t${++counter}`);
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, Array.isArray(content) ? `${content.join('\n')}\n` : content);
    chmodSync(path, 0o600);
  }
  return dir;
}
/** One access.conf from lines; returns its path. */
const conf = (...lines: string[]): string => join(tree({ 'access.conf': lines }), 'access.conf');

type StanzaDoc = Record<string, unknown>;
const stanzas = (r: AccessConfImport): StanzaDoc[] => parse(r.stanzasYaml) as StanzaDoc[];
const only = (r: AccessConfImport): StanzaDoc => {
  const s = stanzas(r);
  assert.equal(s.length, 1);
  return s[0] as StanzaDoc;
};
const door = (r: AccessConfImport): Record<string, unknown> =>
  (parse(r.yaml) as { doors: Record<string, unknown>[] }).doors[0] as Record<string, unknown>;
const imp = (...lines: string[]): AccessConfImport => importAccessConf(conf(...lines));
/** Minimal valid stanza lines to append variables to. */
const BASE = ['SOURCE ANY', 'KEY some-passphrase', 'HMAC_KEY some-hmac-key', 'OPEN_PORTS tcp/22'];

function warningsAt(r: AccessConfImport, line: number, re?: RegExp): string[] {
  return r.warnings.filter((w) => w.line === line && (re === undefined || re.test(w.message))).map((w) => w.message);
}
function hasWarning(r: AccessConfImport, file: string, line: number, re: RegExp): void {
  assert.ok(
    r.warnings.some((w) => w.file === file && w.line === line && re.test(w.message)),
    `no warning ${re} at ${file}:${line}; got ${JSON.stringify(r.warnings, null, 1)}`,
  );
}
function throwsAt(
  fn: () => unknown,
  line: number | undefined,
  key: string | undefined,
  re: RegExp,
  file?: string,
): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.equal(caught.line, line, caught.message);
  assert.equal(caught.key, key, caught.message);
  if (file !== undefined) assert.equal(caught.file, file);
  assert.match(caught.detail, re);
  assert.ok(
    caught.message.startsWith(`${caught.file}${line === undefined ? '' : `:${line}`}: ${key ? `${key}: ` : ''}`),
    caught.message,
  );
  return caught;
}
const errorIn = (line: number, key: string | undefined, re: RegExp, ...lines: string[]): ConfigError => {
  const file = conf(...lines);
  return throwsAt(() => importAccessConf(file), line, key, re, file);
};

describe("fwknop's sample access.conf", () => {
  it('refuses the placeholder keys, as fwknopd does', () => {
    const file = join(FW, 'sample-access.conf');
    throwsAt(() => importAccessConf(file), 10, 'KEY_BASE64', /__CHANGEME__/, file);
  });

  it('imports the sample stanza once keys are set, with the commented GnuPG lines ignored', () => {
    const file = join(FW, 'sample-access-keys-set.conf');
    const r = importAccessConf(file);
    assert.deepEqual(only(r), {
      source: ['ANY'],
      destination: ['ANY'],
      open_ports: ['22/tcp'],
      key_base64: 'wzNP62oPPgEc+kXDPQLHPOayQBuNbYUTPP+QrErNDmg=',
      hmac_key_base64: 'Yh+xizBnl6FotC5ec7FanVGClRMlsOAPh2u6eovnerfBVKwaVKzjGoblFMHMc593TNyi0dWn4opLoTIV9q/ttg==',
      hmac_digest_type: 'sha256',
      encryption_mode: 'cbc',
      fw_access_timeout: '30s',
      max_fw_timeout: '300s',
      require_source_address: false,
    });
    const doc = parse(r.yaml) as Record<string, unknown>;
    assert.deepEqual(doc.interfaces, ['eth0']);
    assert.equal(doc.spa, undefined);
    assert.match(r.yaml, /^# imported from .*sample-access-keys-set\.conf by knockgate import\n/);
    assert.match(r.yaml, /^# spa:$/m);
    assert.deepEqual(door(r), {
      name: 'fwknop',
      fwknop: { port: 62201, capture: 'pcap' },
      open: ['22/tcp'],
      duration: '30s',
      max_duration: '300s',
      stanzas: [only(r)],
    });
    // Only the file-mode note (the repository's fixtures are 0644): nothing about the stanza.
    assert.deepEqual(
      r.warnings.filter((w) => !/mode 0/.test(w.message)),
      [],
    );
  });

  it('takes the SPA port and the interfaces from the options', () => {
    const r = importAccessConf(join(FW, 'sample-access-keys-set.conf'), { port: 40000, interfaces: ['ens3', 'wg0'] });
    assert.deepEqual((parse(r.yaml) as Record<string, unknown>).interfaces, ['ens3', 'wg0']);
    assert.deepEqual(door(r).fwknop, { port: 40000, capture: 'pcap' });
    throwsAt(
      () => importAccessConf(join(FW, 'sample-access-keys-set.conf'), { port: 70000 }),
      undefined,
      'port',
      /1 to 65535/,
    );
    throwsAt(
      () => importAccessConf(join(FW, 'sample-access-keys-set.conf'), { interfaces: [] }),
      undefined,
      'interfaces',
      /at least one/,
    );
  });
});

describe('every supported variable', () => {
  const file = join(FW, 'all-variables.conf');
  const r = importAccessConf(file);

  it('imports both stanzas of all-variables.conf exactly', () => {
    assert.deepEqual(stanzas(r), [
      {
        source: ['198.51.100.0/24', '203.0.113.7', '192.0.2.0/25'],
        destination: ['ANY'],
        open_ports: ['22/tcp', '1194/udp', '443/tcp'],
        restrict_ports: ['23/tcp'],
        key: 'correct horse battery',
        hmac_key: 'a different hmac secret',
        hmac_digest_type: 'sha512',
        encryption_mode: 'cbc',
        fw_access_timeout: '60s',
        max_fw_timeout: '600s',
        require_username: 'alice',
        require_source_address: true,
        access_expire_epoch: Date.UTC(2030, 11, 31) / 1000,
      },
      {
        source: ['ANY'],
        destination: ['10.0.0.1', '10.0.1.0/24'],
        open_ports: ['2222/tcp'],
        key_base64: 'uGhNomZ1Nc3N9HLT5+2vGWj/EVcbNt9Ktc/Uy88RDeM=',
        hmac_key_base64: 'AQcLrswZ/UZLNMA2HWygGA9EyHCKoPhI/zawT/mq99F+PvimeGiWQU9rHTAK6nnI7H4/uNkKWnliX4cBMEsDqw==',
        hmac_digest_type: 'sha3_256',
        encryption_mode: 'legacy',
        fw_access_timeout: '30s',
        max_fw_timeout: '300s',
        require_source_address: false,
        access_expire_epoch: 1798761600,
      },
    ]);
  });

  it('builds the door from the union of OPEN_PORTS and the longest MAX_FW_TIMEOUT', () => {
    const d = door(r);
    assert.deepEqual(d.open, ['22/tcp', '1194/udp', '443/tcp', '2222/tcp']);
    assert.equal(d.duration, '30s');
    assert.equal(d.max_duration, '600s');
  });

  it('notes the legacy-mode key truncation and the ACCESS_EXPIRE conversion', () => {
    hasWarning(r, file, 21, /legacy mode uses only the first 16 bytes/);
    hasWarning(r, file, 16, /start of 2030-12-31 in local standard time.*UTC\+00:00.*1924905600/);
  });

  it("applies fwknopd's defaults: any destination, 30 s, 300 s, CBC, SHA-256, no username, N", () => {
    assert.deepEqual(only(imp('SOURCE ANY', 'KEY k1', 'HMAC_KEY k2')), {
      source: ['ANY'],
      destination: ['ANY'],
      key: 'k1',
      hmac_key: 'k2',
      hmac_digest_type: 'sha256',
      encryption_mode: 'cbc',
      fw_access_timeout: '30s',
      max_fw_timeout: '300s',
      require_source_address: false,
    });
  });

  it('reads every HMAC digest type and encryption mode name case-insensitively', () => {
    for (const t of ['md5', 'SHA1', 'sha256', 'Sha384', 'sha512', 'SHA3_256', 'sha3_512']) {
      assert.equal(only(imp(...BASE, `HMAC_DIGEST_TYPE ${t}`)).hmac_digest_type, t.toLowerCase());
    }
    assert.equal(only(imp(...BASE, 'ENCRYPTION_MODE cbc')).encryption_mode, 'cbc');
    assert.equal(only(imp(...BASE, 'ENCRYPTION_MODE LEGACY')).encryption_mode, 'legacy');
  });

  it('reads FW_ACCESS_TIMEOUT and MAX_FW_TIMEOUT as strtol does, 0 meaning the default', () => {
    assert.equal(only(imp(...BASE, 'FW_ACCESS_TIMEOUT 0')).fw_access_timeout, '30s');
    assert.equal(only(imp(...BASE, 'MAX_FW_TIMEOUT 0')).max_fw_timeout, '300s');
    const r2 = imp(...BASE, 'FW_ACCESS_TIMEOUT 45s');
    assert.equal(only(r2).fw_access_timeout, '45s');
    assert.equal(warningsAt(r2, 5, /read.*as 45 seconds/).length, 1);
    const r3 = imp(...BASE, 'FW_ACCESS_TIMEOUT soon');
    assert.equal(only(r3).fw_access_timeout, '30s');
    assert.equal(warningsAt(r3, 5, /as 0, which means its default/).length, 1);
  });

  it("cuts timeouts beyond knockgate's 24 h (less access) and warns when MAX_FW_TIMEOUT < FW_ACCESS_TIMEOUT", () => {
    const r2 = imp(...BASE, 'FW_ACCESS_TIMEOUT 100000', 'MAX_FW_TIMEOUT 8388608');
    assert.equal(only(r2).fw_access_timeout, '86400s');
    assert.equal(only(r2).max_fw_timeout, '86400s');
    assert.equal(door(r2).max_duration, '86400s');
    assert.equal(warningsAt(r2, 5, /cut to it/).length, 1);
    assert.equal(warningsAt(r2, 6, /cut to it/).length, 1);
    const r3 = imp(...BASE, 'FW_ACCESS_TIMEOUT 120', 'MAX_FW_TIMEOUT 60');
    assert.equal(warningsAt(r3, 6, /MAX_FW_TIMEOUT \(60s\) < FW_ACCESS_TIMEOUT \(120s\)/).length, 1);
    assert.equal(door(r3).max_duration, '60s');
  });

  it('lets the last of KEY/KEY_BASE64 win, with a warning', () => {
    const r2 = imp('SOURCE ANY', 'KEY first', 'KEY_BASE64 c2Vjb25k', 'HMAC_KEY h', 'OPEN_PORTS tcp/22');
    assert.equal(only(r2).key_base64, 'c2Vjb25k');
    assert.equal(only(r2).key, undefined);
    assert.equal(warningsAt(r2, 3, /overrides KEY of .*:2.*last value/).length, 1);
    const r3 = imp(...BASE, 'OPEN_PORTS tcp/80');
    assert.deepEqual(only(r3).open_ports, ['80/tcp']);
  });

  it('decodes base64 keys as fwknop\'s b64_decode (up to the first "=") and writes them canonically', () => {
    assert.equal(only(imp('SOURCE ANY', 'KEY_BASE64 QUJD', 'HMAC_KEY x', 'OPEN_PORTS tcp/22')).key_base64, 'QUJD');
    assert.equal(
      only(imp('SOURCE ANY', 'KEY_BASE64 QUJD=garbage', 'HMAC_KEY x', 'OPEN_PORTS tcp/22')).key_base64,
      'QUJD',
    );
    assert.equal(only(imp('SOURCE ANY', 'KEY_BASE64 QUI', 'HMAC_KEY x', 'OPEN_PORTS tcp/22')).key_base64, 'QUI=');
  });

  it('writes a key that is not UTF-8 as key_base64 of the same bytes', () => {
    const bytes = Buffer.concat([
      Buffer.from('SOURCE ANY\nKEY pass'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('word\nHMAC_KEY h\nOPEN_PORTS tcp/22\n'),
    ]);
    const dir = tree({ 'access.conf': bytes });
    const s = only(importAccessConf(join(dir, 'access.conf')));
    assert.equal(s.key, undefined);
    assert.deepEqual(
      Buffer.from(s.key_base64 as string, 'base64'),
      Buffer.concat([Buffer.from('pass'), Buffer.from([0xff, 0xfe]), Buffer.from('word')]),
    );
  });

  it('quotes every string so that YAML reads it back verbatim', () => {
    const key = "pa\"ss\\word: #{x} 'q' é";
    const s = only(imp('SOURCE ANY', `KEY ${key}`, 'HMAC_KEY h', 'OPEN_PORTS tcp/22', 'REQUIRE_USERNAME o\'brien "x"'));
    assert.equal(s.key, key);
    assert.equal(s.require_username, 'o\'brien "x"');
  });
});

describe('booleans (add_acc_bool: a leading Y or y)', () => {
  const req = (v: string): AccessConfImport => imp(...BASE, `REQUIRE_SOURCE_ADDRESS ${v}`);
  it('reads Y, y and yes as yes, N and n as no', () => {
    for (const v of ['Y', 'y']) assert.equal(only(req(v)).require_source_address, true);
    for (const v of ['N', 'n']) assert.equal(only(req(v)).require_source_address, false);
    assert.deepEqual(warningsAt(req('Y'), 5), []);
  });
  it('follows fwknopd for other words, with a warning', () => {
    const yes = req('yes');
    assert.equal(only(yes).require_source_address, true);
    assert.equal(warningsAt(yes, 5, /reads "yes" as Y/).length, 1);
    for (const v of ['true', '1', 'on']) {
      const r = req(v);
      assert.equal(only(r).require_source_address, false);
      assert.equal(warningsAt(r, 5, new RegExp(`reads "${v}" as N`)).length, 1);
    }
  });
  it('takes REQUIRE_SOURCE as a synonym', () => {
    assert.equal(only(imp(...BASE, 'REQUIRE_SOURCE Y')).require_source_address, true);
  });
});

describe('lists, as expand_acc_int_list and expand_acc_port_list cut them', () => {
  it('skips blanks after commas and allows them before commas after an address', () => {
    const s = only(
      imp(
        'SOURCE   192.0.2.1 ,   198.51.100.0/24,203.0.113.0/28',
        'KEY k',
        'HMAC_KEY h',
        'OPEN_PORTS  tcp/22 ,  udp/53,tcp/443',
      ),
    );
    assert.deepEqual(s.source, ['192.0.2.1', '198.51.100.0/24', '203.0.113.0/28']);
    assert.deepEqual(s.open_ports, ['22/tcp', '53/udp', '443/tcp']);
  });
  it('refuses a blank between a CIDR mask and its comma, as fwknopd does ("Invalid IP mask str")', () => {
    errorIn(1, 'SOURCE', /invalid mask "24 "/, 'SOURCE 192.0.2.0/24 , 198.51.100.1', 'KEY k');
  });
  it('masks host bits, accepts dotted masks and /0.0.0.0, and collapses ANY', () => {
    assert.deepEqual(
      only(imp('SOURCE 10.1.2.3/8, 10.9.9.9/255.255.255.0', 'KEY k', 'HMAC_KEY h', 'OPEN_PORTS tcp/22')).source,
      ['10.0.0.0/8', '10.9.9.0/24'],
    );
    assert.deepEqual(only(imp('SOURCE 192.0.2.1/0.0.0.0', 'KEY k', 'HMAC_KEY h', 'OPEN_PORTS tcp/22')).source, [
      '0.0.0.0/0',
    ]);
    assert.deepEqual(only(imp('SOURCE 192.0.2.1, any', 'KEY k', 'HMAC_KEY h', 'OPEN_PORTS tcp/22')).source, ['ANY']);
  });
  it('reads addresses as inet_aton does, with a warning when the text is unusual', () => {
    const r = imp('SOURCE 10.1, 012.0.0.1, 192.0.2.1 10.1', 'KEY k', 'HMAC_KEY h', 'OPEN_PORTS tcp/22');
    assert.deepEqual(only(r).source, ['10.0.0.1', '192.0.2.1']);
    assert.equal(warningsAt(r, 1, /"10\.1" as 10\.0\.0\.1/).length, 1);
    assert.equal(warningsAt(r, 1, /"012\.0\.0\.1" as 10\.0\.0\.1/).length, 1);
    assert.equal(warningsAt(r, 1, /"192\.0\.2\.1 10\.1" as 192\.0\.2\.1/).length, 1);
  });
  it('refuses what fwknopd refuses, and non-contiguous masks', () => {
    errorIn(1, 'SOURCE', /inet_aton fails.*IPv4 only/, 'SOURCE 2001:db8::1', 'KEY k');
    errorIn(1, 'SOURCE', /mask must be 1 to 32/, 'SOURCE 192.0.2.0/0', 'KEY k');
    errorIn(1, 'SOURCE', /missing mask/, 'SOURCE 192.0.2.0/', 'KEY k');
    errorIn(1, 'SOURCE', /inet_aton fails/, 'SOURCE 192.0.2.1,', 'KEY k');
    errorIn(1, 'SOURCE', /not contiguous/, 'SOURCE 192.0.2.0/255.0.255.0', 'KEY k');
    errorIn(2, 'DESTINATION', /inet_aton fails/, 'SOURCE ANY', 'DESTINATION example.com', 'KEY k');
    errorIn(3, 'OPEN_PORTS', /invalid protocol.*"tcp \/22"/, 'SOURCE ANY', 'KEY k', 'OPEN_PORTS tcp /22');
    errorIn(3, 'OPEN_PORTS', /need proto\/port/, 'SOURCE ANY', 'KEY k', 'OPEN_PORTS 22');
    errorIn(3, 'RESTRICT_PORTS', /invalid protocol/, 'SOURCE ANY', 'KEY k', 'RESTRICT_PORTS icmp/0');
    errorIn(3, 'OPEN_PORTS', /must be in \[0,65535\]/, 'SOURCE ANY', 'KEY k', 'OPEN_PORTS tcp/65536');
    errorIn(3, 'OPEN_PORTS', /as port 0/, 'SOURCE ANY', 'KEY k', 'OPEN_PORTS tcp/ssh');
    errorIn(1, 'SOURCE', /address too long/, 'SOURCE 192.0.2.1 198.51.100.1', 'KEY k');
    errorIn(1, 'SOURCE', /32 characters or longer/, `SOURCE ${'1'.repeat(40)}`, 'KEY k');
  });
  it('reads ports as strtol does, with a warning for text after the number', () => {
    const r = imp(...BASE.slice(0, 3), 'OPEN_PORTS tcp/22x');
    assert.deepEqual(only(r).open_ports, ['22/tcp']);
    assert.equal(warningsAt(r, 4, /as tcp\/22/).length, 1);
  });
});

describe('line syntax (sscanf "%s %[^;\\n\\r]")', () => {
  it('skips "#" and ";" lines and blank lines, reads CRLF files and values ending at ";"', () => {
    const dir = tree({
      'access.conf':
        '# comment\r\n;also a comment\r\n\r\nSOURCE ANY\r\nKEY k;not part of it\r\nHMAC_KEY h\r\nOPEN_PORTS tcp/22 ; ports\r\n',
    });
    const r = importAccessConf(join(dir, 'access.conf'));
    assert.deepEqual(only(r).open_ports, ['22/tcp']);
    assert.equal(only(r).key, 'k');
    assert.equal(warningsAt(r, 5, /ends at ";".*"k"/).length, 1);
  });
  it('treats an indented "#" as a variable, as fwknopd does', () => {
    const r = imp(...BASE, '   # indented comment');
    assert.equal(warningsAt(r, 5, /unknown variable "#"/).length, 1);
  });
  it('keeps "#" inside a value (there are no end-of-line comments)', () => {
    const r = imp('SOURCE ANY', 'KEY secret # not a comment', 'HMAC_KEY h', 'OPEN_PORTS tcp/22');
    assert.equal(only(r).key, 'secret # not a comment');
    assert.equal(warningsAt(r, 2, /"#" here is part of the value/).length, 1);
  });
  it('cuts trailing blanks (2.6.11 chop_whitespace) but not after a one-character value', () => {
    const r = imp('SOURCE ANY', 'KEY secret  \t', 'HMAC_KEY h  ', 'OPEN_PORTS tcp/22');
    assert.equal(only(r).key, 'secret');
    assert.equal(only(r).hmac_key, 'h  ');
    assert.equal(warningsAt(r, 2, /2\.6\.10 keeps them/).length, 1);
  });
  it('cuts a ":" after the variable name', () => {
    assert.equal(only(imp('SOURCE: ANY', 'KEY: k', 'HMAC_KEY: h', 'OPEN_PORTS: tcp/22')).key, 'k');
  });
  it('refuses a variable without a value and a line of blanks', () => {
    errorIn(2, 'KEY', /needs "VARIABLE value"/, 'SOURCE ANY', 'KEY', 'HMAC_KEY h');
    errorIn(3, undefined, /needs "VARIABLE value"/, 'SOURCE ANY', 'KEY k', '   ', 'HMAC_KEY h');
    errorIn(2, 'KEY', /needs "VARIABLE value"/, 'SOURCE ANY', 'KEY ;comment only');
  });
  it('refuses a line fgets would split', () => {
    errorIn(2, undefined, /longer than 1023 bytes/, 'SOURCE ANY', `KEY ${'k'.repeat(1100)}`);
  });
  it('ignores (with a warning) variables before the first SOURCE of a file', () => {
    const r = imp('KEY orphan', 'OPEN_PORTS tcp/99', ...BASE);
    assert.equal(only(r).key, 'some-passphrase');
    assert.deepEqual(only(r).open_ports, ['22/tcp']);
    assert.equal(warningsAt(r, 1, /before the first SOURCE.*ignores it/).length, 1);
    assert.equal(warningsAt(r, 2, /before the first SOURCE/).length, 1);
  });
  it('refuses a file without any SOURCE', () => {
    const file = conf('# nothing here', 'KEY k');
    throwsAt(() => importAccessConf(file), undefined, 'SOURCE', /could not find a valid SOURCE/, file);
  });
  it('warns when the file is readable by others', () => {
    const file = conf(...BASE);
    chmodSync(file, 0o644);
    const r = importAccessConf(file);
    hasWarning(r, file, 0, /mode 0644.*0600/);
  });
});

/** Runs `fn` with the working directory at `dir`: relative includes are read from there. */
const inDir = <T>(dir: string, fn: () => T): T => {
  const was = process.cwd();
  process.chdir(dir);
  try {
    return fn();
  } finally {
    process.chdir(was);
  }
};

describe('%include and %include_folder', () => {
  it("reads a relative %include from the working directory, as fwknopd does, then the folder's *.conf in name order", () => {
    const main = join(FW, 'include-main.conf');
    const r = inDir(FW, () => importAccessConf(main));
    assert.deepEqual(
      stanzas(r).map((s) => [s.source, s.key, s.fw_access_timeout]),
      [
        [['192.0.2.1'], 'first-stanza-key', '30s'],
        [['192.0.2.2'], 'second-stanza-key', '30s'],
        // Variables after the %include_folder line still belong to the main file's stanza.
        [['ANY'], 'main-stanza-key', '45s'],
        [['192.0.2.10'], 'alpha-stanza-key', '30s'],
        [['192.0.2.20'], 'beta-stanza-key', '30s'],
      ],
    );
    hasWarning(
      r,
      main,
      4,
      /relative path "include\/first\.conf" read from the working directory as .*fwknop\/include\/first\.conf, as fwknopd does/,
    );
    hasWarning(r, join(FW, 'include', 'first.conf'), 5, /relative path "include\/sub\/second\.conf"/);
    hasWarning(r, main, 9, /2 files read in name order \(10-alpha\.conf, 20-beta\.conf\)/);
    assert.deepEqual(door(r).open, ['80/tcp', '8080/tcp', '22/tcp', '53/udp']);
    assert.ok(!r.stanzasYaml.includes('not-read'));
    // Each stanza names where it came from.
    assert.match(r.stanzasYaml, /^# .*include\/sub\/second\.conf:2$/m);
  });

  it('a relative %include missing from the working directory but beside the file: an error naming both paths', () => {
    const main = join(FW, 'include-main.conf');
    const e = throwsAt(
      () => inDir(tmpdir(), () => importAccessConf(main)),
      4,
      '%include',
      /fwknopd opens it from its working directory, as .*include\/first\.conf, which does not exist \(there is .*fixtures\/fwknop\/include\/first\.conf, beside this file: write that absolute path\)/,
      main,
    );
    assert.ok(e.message.startsWith(`${main}:4: %include: `));
  });

  it('an %include that cannot be opened names its line and the path tried', () => {
    const dir = tree({ 'x.conf': ['%include /nonexistent/knockgate-test/none.conf', ...BASE] });
    throwsAt(
      () => importAccessConf(join(dir, 'x.conf')),
      1,
      '%include',
      /could not open access file \/nonexistent\/knockgate-test\/none\.conf/,
    );
  });

  it('reads absolute paths as given, without a warning', () => {
    const dir = tree({
      'other/extra.conf': ['SOURCE 192.0.2.7', 'KEY extra-key', 'HMAC_KEY h', 'OPEN_PORTS tcp/22'],
      'd/x.conf': ['SOURCE 192.0.2.8', 'KEY x-key', 'HMAC_KEY h', 'OPEN_PORTS tcp/22'],
    });
    const file = conf(`%include ${join(dir, 'other', 'extra.conf')}`, `%include_folder ${join(dir, 'd')}/`, ...BASE);
    const r = importAccessConf(file);
    assert.deepEqual(
      stanzas(r).map((s) => s.source),
      [['192.0.2.7'], ['192.0.2.8'], ['ANY']],
    );
    assert.deepEqual(
      r.warnings.filter((w) => /relative|name order/.test(w.message)),
      [],
    );
  });

  it('refuses an include loop (fwknopd gives up at its depth limit)', () => {
    const b = join(FW, 'loop-b.conf');
    throwsAt(
      () => inDir(FW, () => importAccessConf(join(FW, 'loop-a.conf'))),
      4,
      '%include',
      /include loop: .*loop-a\.conf is already being read.*3 levels/,
      b,
    );
  });

  it("follows fwknopd's MAX_DEPTH: a file included twice over may not include another", () => {
    const ok = tree({
      '1.conf': ['%include 2.conf', ...BASE],
      '2.conf': ['%include 3.conf'],
      '3.conf': ['SOURCE 192.0.2.3', 'KEY k3', 'HMAC_KEY h'],
    });
    assert.equal(stanzas(inDir(ok, () => importAccessConf(join(ok, '1.conf')))).length, 2);
    const deep = tree({
      '1.conf': ['%include 2.conf', ...BASE],
      '2.conf': ['%include 3.conf'],
      '3.conf': ['# third level', '%include 4.conf'],
      '4.conf': ['SOURCE 192.0.2.4', 'KEY k4'],
    });
    throwsAt(
      () => inDir(deep, () => importAccessConf(join(deep, '1.conf'))),
      2,
      '%include',
      /deeper than 3 levels/,
      join(deep, '3.conf'),
    );
  });

  it('refuses a folder %include_folder-ing itself', () => {
    const dir = tree({ 'd/a.conf': ['%include_folder .', ...BASE] });
    throwsAt(
      () => inDir(join(dir, 'd'), () => importAccessConf(join(dir, 'd', 'a.conf'))),
      1,
      '%include_folder',
      /include loop/,
    );
  });

  it('refuses missing files and folders, and non-regular *.conf entries, at the directive', () => {
    errorIn(1, '%include', /could not open access file .*missing\.conf/, '%include /nonexistent/missing.conf', ...BASE);
    errorIn(1, '%include_folder', /could not be opened/, '%include_folder /nonexistent/dir', ...BASE);
    const dir = tree({ 'd/sub.conf/x': 'x', 'd/a.conf': BASE });
    const file = conf(`%include_folder ${join(dir, 'd')}`);
    throwsAt(() => importAccessConf(file), 1, '%include_folder', /sub\.conf is not a regular file/, file);
  });

  it('takes every entry whose last extension starts with ".conf", as parse_access_folder does', () => {
    const dir = tree({
      'd/a.conf': ['SOURCE 192.0.2.1', 'KEY a', 'HMAC_KEY h', 'OPEN_PORTS tcp/22'],
      'd/b.confx': ['SOURCE 192.0.2.2', 'KEY b', 'HMAC_KEY h', 'OPEN_PORTS tcp/22'],
      'd/c.conf.bak': ['SOURCE 192.0.2.3', 'KEY c'],
      'd/conf': ['SOURCE 192.0.2.4', 'KEY d'],
    });
    const r = importAccessConf(conf(`%include_folder ${join(dir, 'd')}`));
    assert.deepEqual(
      stanzas(r).map((s) => s.key),
      ['a', 'b'],
    );
  });

  it('refuses %include_keys (keys from elsewhere are not supported)', () => {
    errorIn(5, '%include_keys', /not supported.*put KEY/, ...BASE, '%include_keys /etc/fwknop/keys.conf');
  });
});

describe('the fwknop known-answer keys (test/fixtures/fwknop-kat.json)', () => {
  it('imports KEY_BASE64 + HMAC_KEY_BASE64 unchanged', () => {
    const k = KAT.kat1_client_T_mode as Record<string, string>;
    const s = only(
      imp(
        'SOURCE ANY',
        `KEY_BASE64 ${k.KEY_BASE64}`,
        `HMAC_KEY_BASE64 ${k.HMAC_KEY_BASE64}`,
        'HMAC_DIGEST_TYPE sha256',
        'OPEN_PORTS tcp/22',
        'REQUIRE_USERNAME root',
      ),
    );
    assert.equal(s.key_base64, k.KEY_BASE64);
    assert.equal(s.hmac_key_base64, k.HMAC_KEY_BASE64);
    assert.equal(s.hmac_digest_type, 'sha256');
    assert.equal(s.encryption_mode, 'cbc');
    assert.equal(s.require_username, 'root');
  });
  it('imports passphrase keys with HMAC SHA-512', () => {
    const k = KAT.kat3_passphrases_hmac_sha512 as Record<string, string>;
    const s = only(
      imp('SOURCE ANY', `KEY ${k.KEY}`, `HMAC_KEY ${k.HMAC_KEY}`, 'HMAC_DIGEST_TYPE sha512', 'OPEN_PORTS tcp/3333'),
    );
    assert.equal(s.key, 'anotherpassphrase');
    assert.equal(s.hmac_key, 'my-hmac-passphrase');
    assert.equal(s.hmac_digest_type, 'sha512');
  });
  it('imports a legacy stanza without HMAC, warning that it is weaker', () => {
    const k = KAT.kat4_legacy_iv_no_hmac_2610_client as Record<string, string>;
    const r = imp('SOURCE ANY', `KEY ${k.KEY}`, 'ENCRYPTION_MODE legacy', 'OPEN_PORTS tcp/2222');
    assert.equal(only(r).key, 'shortpw');
    assert.equal(only(r).encryption_mode, 'legacy');
    assert.equal(only(r).hmac_key, undefined);
    assert.equal(warningsAt(r, 1, /no HMAC_KEY.*not authenticated.*weaker/).length, 1);
  });
});

describe('unsupported variables', () => {
  const file = join(FW, 'unsupported.conf');
  const r = importAccessConf(file);
  it('still imports the stanza, with its GnuPG settings and its command execution as cmd_exec, without NAT', () => {
    const s = only(r);
    assert.equal(s.key, 'a-passphrase');
    assert.deepEqual(s.open_ports, ['22/tcp']);
    assert.deepEqual(
      Object.keys(s).filter((k) => /^(gpg|cmd|force|disable|forward)/i.test(k)),
      ['gpg', 'cmd_exec'],
    );
    assert.deepEqual(s.cmd_exec, { user: 'nobody' });
  });
  it('warns for each, naming file and line and what happens instead', () => {
    for (const line of [6, 7, 8, 9, 10]) assert.deepEqual(warningsAt(r, line), []); // GnuPG: supported
    hasWarning(r, file, 11, /command messages run any command the client sends.*cmd_allow in knockgate\.yaml/);
    assert.deepEqual(warningsAt(r, 12), []);
    // DISABLE_DNAT N, FORWARD_ALL N, FORCE_MASQUERADE N: fwknopd's defaults, so nothing to say.
    for (const line of [13, 14, 15]) assert.deepEqual(warningsAt(r, line), []);
    hasWarning(r, file, 16, /unknown variable "OPEN_PORT": fwknopd ignores it/);
    hasWarning(r, file, 17, /unknown variable "Key".*case-sensitively, so it is not KEY/);
  });
  it('refuses what would grant more than fwknopd if ignored', () => {
    errorIn(5, 'FORCE_SNAT', /FORCE_SNAT needs FORCE_NAT in the same stanza/, ...BASE, 'FORCE_SNAT 192.168.1.2');
    errorIn(5, 'FORCE_MASQUERADE', /needs FORCE_NAT/, ...BASE, 'FORCE_MASQUERADE Y');
    errorIn(5, 'FORWARD_ALL', /FORWARD_ALL=Y forwards every port/, ...BASE, 'FORWARD_ALL Y');
    errorIn(5, 'DISABLE_DNAT', /hook: forward/, ...BASE, 'DISABLE_DNAT Y');
  });
  it("imports FORCE_NAT (with FORCE_MASQUERADE or FORCE_SNAT) as the stanza's force_nat, and refuses what fwknopd refuses", () => {
    const one = (...lines: string[]) => only(importAccessConf(conf(...BASE, ...lines)));
    assert.deepEqual(one('FORCE_NAT 192.168.10.2 22').force_nat, { to: '192.168.10.2', port: 22, masquerade: false });
    assert.deepEqual(one('FORCE_NAT 192.168.10.2   2222', 'FORCE_MASQUERADE Y').force_nat, {
      to: '192.168.10.2',
      port: 2222,
      masquerade: true,
    });
    assert.deepEqual(one('FORCE_NAT 192.168.10.2 22', 'FORCE_SNAT 203.0.113.5').force_nat, {
      to: '192.168.10.2',
      port: 22,
      masquerade: false,
      snat: '203.0.113.5',
    });
    errorIn(5, 'FORCE_NAT', /need <IPv4 address> <PORT>/, ...BASE, 'FORCE_NAT 192.168.10.2');
    errorIn(5, 'FORCE_NAT', /need <IPv4 address> <PORT>/, ...BASE, 'FORCE_NAT 2001:db8::2 22');
    errorIn(5, 'FORCE_NAT', /invalid FORCE_NAT port "70000"/, ...BASE, 'FORCE_NAT 192.168.10.2 70000');
    errorIn(
      6,
      'FORCE_SNAT',
      /not both/,
      ...BASE,
      'FORCE_NAT 192.168.10.2 22',
      'FORCE_SNAT 203.0.113.5',
      'FORCE_MASQUERADE Y',
    );
  });

  it('takes ENCRYPTION_MODE Asymmetric as a no-op: GnuPG is what the GPG_* variables configure', () => {
    const r2 = imp('SOURCE ANY', 'KEY k', 'HMAC_KEY h', 'OPEN_PORTS tcp/22', 'ENCRYPTION_MODE Asymmetric');
    assert.equal(only(r2).encryption_mode, 'cbc');
    assert.ok(warningsAt(r2, 5, /"Asymmetric" is GnuPG, which the GPG_\* variables configure; ignored/).length === 1);
  });
});

describe('errors fwknopd would also raise', () => {
  it('a stanza without a key', () => {
    errorIn(1, 'KEY', /no keys found.*give KEY or KEY_BASE64/, 'SOURCE ANY', 'OPEN_PORTS tcp/22');
    errorIn(2, 'KEY_BASE64', /no keys found/, 'SOURCE ANY', 'KEY_BASE64 Q', 'OPEN_PORTS tcp/22');
  });
  it('placeholders, bad base64 and identical keys', () => {
    errorIn(2, 'KEY', /__CHANGEME__/, 'SOURCE ANY', 'KEY __changeme__');
    errorIn(3, 'HMAC_KEY', /__CHANGEME__/, 'SOURCE ANY', 'KEY k', 'HMAC_KEY __CHANGEME__');
    errorIn(3, 'GPG_DECRYPT_PW', /__CHANGEME__/, 'SOURCE ANY', 'KEY k', 'GPG_DECRYPT_PW __CHANGEME__');
    errorIn(2, 'KEY_BASE64', /doesn't look like base64/, 'SOURCE ANY', 'KEY_BASE64 not-base64!');
    errorIn(
      3,
      'HMAC_KEY_BASE64',
      /should not be identical/,
      'SOURCE ANY',
      'KEY_BASE64 c2FtZQ==',
      'HMAC_KEY_BASE64 c2FtZQ',
    );
    errorIn(3, 'HMAC_KEY', /should not be identical/, 'SOURCE ANY', 'KEY same', 'HMAC_KEY same');
  });
  it("unknown digest types and modes, with fwknop's spelling", () => {
    errorIn(
      5,
      'HMAC_DIGEST_TYPE',
      /must be one of \{md5,sha1,sha256,sha384,sha512,sha3_256,sha3_512\}/,
      ...BASE,
      'HMAC_DIGEST_TYPE sha3-256',
    );
    errorIn(5, 'ENCRYPTION_MODE', /unrecognized ENCRYPTION_MODE "pcbc"/, ...BASE, 'ENCRYPTION_MODE pcbc');
  });
  it('every Rijndael mode fwknop 2.6 implements: CBC, ECB, CFB, OFB, CTR and legacy, in any case', () => {
    for (const m of ['CTR', 'ecb', 'CFB', 'ofb', 'Cbc', 'legacy'])
      assert.equal(only(imp(...BASE, `ENCRYPTION_MODE ${m}`)).encryption_mode, m.toLowerCase());
  });
  it("timeouts out of fwknopd's range [0, 2<<22]", () => {
    errorIn(5, 'FW_ACCESS_TIMEOUT', /not in range \[0,8388608\]/, ...BASE, 'FW_ACCESS_TIMEOUT -1');
    errorIn(5, 'MAX_FW_TIMEOUT', /not in range/, ...BASE, 'MAX_FW_TIMEOUT 8388609');
  });
  it('dates fwknopd cannot read, and epochs that are not numbers', () => {
    errorIn(5, 'ACCESS_EXPIRE', /need MM\/DD\/YYYY/, ...BASE, 'ACCESS_EXPIRE 2027-01-01');
    errorIn(5, 'ACCESS_EXPIRE', /need MM\/DD\/YYYY/, ...BASE, 'ACCESS_EXPIRE 123/01/2027');
    errorIn(5, 'ACCESS_EXPIRE', /1970-01-01.*no expiry/, ...BASE, 'ACCESS_EXPIRE 01/01/1960');
    errorIn(
      5,
      'ACCESS_EXPIRE_EPOCH',
      /not a number of seconds.*strtoul would read 0.*no expiry/,
      ...BASE,
      'ACCESS_EXPIRE_EPOCH tomorrow',
    );
    errorIn(5, 'ACCESS_EXPIRE_EPOCH', /not a number of seconds/, ...BASE, 'ACCESS_EXPIRE_EPOCH -5');
  });
  it('keys knockgate and fwknopd cannot use (over 32 bytes in CBC mode)', () => {
    errorIn(2, 'KEY', /at most 32 bytes.*refuse every packet/, 'SOURCE ANY', `KEY ${'k'.repeat(33)}`, 'HMAC_KEY h');
  });
});

describe('ACCESS_EXPIRE and ACCESS_EXPIRE_EPOCH', () => {
  const epochIn = (tz: string, date: string): unknown => {
    const saved = process.env.TZ;
    process.env.TZ = tz;
    try {
      return only(imp(...BASE, `ACCESS_EXPIRE ${date}`)).access_expire_epoch;
    } finally {
      process.env.TZ = saved;
    }
  };
  it('is the start of the day, in local standard time (mktime with tm_isdst = 0)', () => {
    assert.equal(epochIn('UTC', '01/01/2027'), 1798761600);
    assert.equal(epochIn('Asia/Tokyo', '01/01/2027'), 1798761600 - 9 * 3600);
    // New York in July is on daylight time; tm_isdst = 0 makes mktime read 00:00 as EST.
    assert.equal(epochIn('America/New_York', '07/01/2027'), Date.UTC(2027, 6, 1) / 1000 + 5 * 3600);
    // Sydney in January is on daylight time; standard time is UTC+10.
    assert.equal(epochIn('Australia/Sydney', '01/01/2027'), 1798761600 - 10 * 3600);
  });
  it('reads dates as sscanf("%2d/%2d/%4d") and mktime do: two-digit years, normalised overflow', () => {
    assert.equal(epochIn('UTC', '3/10/01'), Date.UTC(2001, 2, 10) / 1000);
    assert.equal(epochIn('UTC', ' 1/ 2/99'), Date.UTC(2099, 0, 2) / 1000);
    assert.equal(epochIn('UTC', '13/40/27'), Date.UTC(2028, 1, 9) / 1000);
  });
  it('takes ACCESS_EXPIRE_EPOCH as is, 0 meaning no expiry, and the last of the two wins', () => {
    assert.equal(only(imp(...BASE, 'ACCESS_EXPIRE_EPOCH 1798761600')).access_expire_epoch, 1798761600);
    const none = imp(...BASE, 'ACCESS_EXPIRE_EPOCH 0');
    assert.equal(only(none).access_expire_epoch, undefined);
    assert.equal(warningsAt(none, 5, /means no expiry/).length, 1);
    assert.equal(
      only(imp(...BASE, 'ACCESS_EXPIRE 01/01/2027', 'ACCESS_EXPIRE_EPOCH 1900000000')).access_expire_epoch,
      1900000000,
    );
  });
});

describe('OPEN_PORTS absent', () => {
  it("warns per stanza that knockgate limits it to the door's ports", () => {
    const r = imp(
      'SOURCE ANY',
      'KEY k',
      'HMAC_KEY h',
      'RESTRICT_PORTS tcp/23',
      'SOURCE 192.0.2.1',
      'KEY k2',
      'HMAC_KEY h2',
      'OPEN_PORTS tcp/22',
    );
    assert.equal(stanzas(r)[0]?.open_ports, undefined);
    assert.deepEqual(stanzas(r)[0]?.restrict_ports, ['23/tcp']);
    assert.equal(
      warningsAt(r, 1, /no OPEN_PORTS: fwknopd opens whatever ports the client asks for.*door's "open" list/).length,
      1,
    );
    assert.deepEqual(door(r).open, ['22/tcp']);
  });
  it('knockgate import: without --open it writes nothing and says to give --open; with it, a door that loads', () => {
    const file = conf('SOURCE ANY', 'KEY k', 'HMAC_KEY h');
    const warnings: string[] = [];
    assert.throws(
      () => importConfig(file, 'fwknop', (w) => warnings.push(w)),
      (e: unknown) =>
        e instanceof KnockgateError &&
        e.exitCode === 64 &&
        /no stanza has OPEN_PORTS.*--open, e\.g\. knockgate import --open 22\/tcp/.test(e.message),
    );
    const yaml = importConfig(file, 'fwknop', (w) => warnings.push(w), { open: [{ proto: 'tcp', port: 22 }] });
    const cfg = parseConfigText(join(dirname(file), 'knockgate.yaml'), yaml);
    assert.deepEqual(cfg.doors[0]?.open, [{ proto: 'tcp', port: 22 }]);
    assert.ok(
      warnings.some((w) => /the door opens what --open gave, 22\/tcp/.test(w)),
      warnings.join('\n'),
    );
  });
  it("--open that leaves out a stanza's OPEN_PORTS: refused, naming the stanza's line", () => {
    const file = conf(...BASE, 'SOURCE 192.0.2.9', 'KEY k9', 'HMAC_KEY h9', 'OPEN_PORTS tcp/80');
    throwsAt(
      () => importConfig(file, 'fwknop', () => undefined, { open: [{ proto: 'tcp', port: 22 }] }),
      8,
      'OPEN_PORTS',
      /80\/tcp is not among the ports --open gave \(22\/tcp\)/,
    );
  });
  it("leaves the door's open list empty, with a warning, when no stanza has OPEN_PORTS", () => {
    const file = conf('SOURCE ANY', 'KEY k', 'HMAC_KEY h');
    const r = importAccessConf(file);
    assert.deepEqual(door(r).open, []);
    hasWarning(r, file, 0, /no stanza has OPEN_PORTS.*empty/);
  });
});

describe('the YAML', () => {
  it('is a configuration knockgate loads, with the same keys', () => {
    const k = KAT.kat1_client_T_mode as Record<string, string>;
    const file = conf(
      'SOURCE 192.0.2.0/24, 203.0.113.9',
      `KEY_BASE64 ${k.KEY_BASE64}`,
      `HMAC_KEY_BASE64 ${k.HMAC_KEY_BASE64}`,
      'OPEN_PORTS tcp/22, udp/1194',
      'RESTRICT_PORTS tcp/23',
      'REQUIRE_USERNAME root',
      'REQUIRE_SOURCE_ADDRESS Y',
      'ACCESS_EXPIRE_EPOCH 1900000000',
      'SOURCE ANY',
      'KEY pass phrase',
      'HMAC_KEY other',
      'HMAC_DIGEST_TYPE sha3_512',
      'OPEN_PORTS tcp/22',
      'MAX_FW_TIMEOUT 900',
    );
    const r = importAccessConf(file);
    const cfg = parseConfigText(join(dirname(file), 'knockgate.yaml'), r.yaml);
    const d = cfg.doors[0];
    assert.ok(d?.fwknop);
    assert.equal(d.fwknop.port, 62201);
    assert.equal(d.fwknop.capture, 'pcap');
    assert.equal(d.fwknop.maxDurationS, 900);
    const [a, b] = d.fwknop.stanzas;
    assert.deepEqual(Buffer.from(a?.key ?? []), Buffer.from(k.KEY_BASE64 as string, 'base64'));
    assert.deepEqual(Buffer.from(a?.hmacKey ?? []), Buffer.from(k.HMAC_KEY_BASE64 as string, 'base64'));
    assert.equal(a?.requireUsername, 'root');
    assert.equal(a?.requireSourceAddress, true);
    assert.equal(a?.expiresAtS, 1900000000);
    assert.equal(a?.maxTimeoutS, 300);
    assert.deepEqual(Buffer.from(b?.key ?? []).toString(), 'pass phrase');
    assert.equal(b?.hmacType, 'sha3-512');
    assert.equal(b?.maxTimeoutS, 900);
  });

  it('gives a stanzas list that a door can embed at any indentation', () => {
    const r = importAccessConf(join(FW, 'all-variables.conf'));
    const embedded = `stanzas:\n${r.stanzasYaml.replace(/^(?=.)/gm, '  ')}`;
    assert.deepEqual((parse(embedded) as { stanzas: unknown }).stanzas, stanzas(r));
  });
});

describe('a door that reads an access.conf (access_conf:)', () => {
  const yamlFor = (dir: string): { file: string; text: string } => ({
    file: join(dir, 'knockgate.yaml'),
    text: [
      'interfaces: [eth0]',
      'spa:',
      '  replay_journal: replay.journal',
      'doors:',
      '  - name: fw',
      '    fwknop: { port: 62201 }',
      '    access_conf: access.conf',
      '    open: [22/tcp]',
      '',
    ].join('\n'),
  });

  it('names the access.conf line whose OPEN_PORTS the door does not open, and the door', () => {
    const dir = tree({
      'access.conf': [
        'SOURCE ANY',
        ...BASE.slice(1),
        '',
        'SOURCE 10.0.0.0/8',
        'KEY other-pass',
        'HMAC_KEY other-hmac',
        'OPEN_PORTS tcp/22, tcp/80',
      ],
    });
    const { file, text } = yamlFor(dir);
    const err = throwsAt(
      () => parseConfigText(file, text),
      9,
      'OPEN_PORTS',
      /80\/tcp is not among the "open" ports of door "fw" \(.*knockgate\.yaml:8\)/,
      join(dir, 'access.conf'),
    );
    assert.equal(err.exitCode, 78);
  });

  it('names the included file when the stanza is there', () => {
    const dir = tree({
      'access.conf': ['%include more.conf'],
      'more.conf': ['SOURCE ANY', 'KEY k', 'HMAC_KEY h', 'OPEN_PORTS udp/53'],
    });
    const { file, text } = yamlFor(dir);
    throwsAt(
      () => inDir(dir, () => parseConfigText(file, text)),
      4,
      'OPEN_PORTS',
      /53\/udp is not among the "open" ports of door "fw"/,
      join(dir, 'more.conf'),
    );
  });

  it('still loads when every OPEN_PORTS port is one the door opens, stanzas in file order', () => {
    const dir = tree({ 'access.conf': [...BASE, 'SOURCE 192.0.2.1', 'KEY k2', 'HMAC_KEY h2'] });
    const { file, text } = yamlFor(dir);
    const cfg = parseConfigText(file, text);
    assert.equal(cfg.doors[0]?.fwknop?.stanzas.length, 2);
    assert.deepEqual(cfg.doors[0]?.fwknop?.stanzas[0]?.openPorts, [{ proto: 'tcp', port: 22 }]);
    assert.equal(cfg.doors[0]?.fwknop?.stanzas[1]?.openPorts, null);
  });
});
