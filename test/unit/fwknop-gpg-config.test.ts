/**
 * fwknop GnuPG stanzas in configuration: access.conf GPG_* (src/config/access-conf/stanza-gpg.ts,
 * through importAccessConf and the daemon's config loader) and a YAML stanza's `gpg`
 * (src/config/compile/fwknop-gpg.ts). What a user sees: the stanza's settings, and errors that
 * name the file, line and variable.
 */

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { importAccessConf } from '../../src/config/fwknop-access-conf.js';
import { parseConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';

const TMP = mkdtempSync(join(tmpdir(), 'kg-gpg-conf-'));
after(() => rmSync(TMP, { recursive: true, force: true }));
let n = 0;
function conf(...lines: string[]): string {
  const dir = join(TMP, `t${++n}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'access.conf');
  writeFileSync(file, `${lines.join('\n')}\n`);
  chmodSync(file, 0o600);
  return file;
}
function errorAt(line: number, key: string, re: RegExp, ...lines: string[]): void {
  const file = conf(...lines);
  let caught: unknown;
  try {
    importAccessConf(file);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.equal(caught.file, file);
  assert.equal(caught.line, line, caught.message);
  assert.equal(caught.key, key, caught.message);
  assert.match(caught.detail, re);
}

const FPR = 'ABEE6016AC8DCA1753322573818F9148FA940D2C';
const GPG = [
  'SOURCE ANY',
  'OPEN_PORTS tcp/22',
  'GPG_HOME_DIR /etc/fwknop/gnupg',
  'GPG_DECRYPT_ID ED3B28FD9EC18797',
  'GPG_DECRYPT_PW server pass',
];

describe('access.conf GnuPG stanzas', () => {
  it('imports a GnuPG-only stanza with fwknopd defaults, ids normalised', () => {
    const r = importAccessConf(conf(...GPG, 'GPG_REMOTE_ID 0x818f9148fa940d2c, C9337033'));
    const [s] = parse(r.stanzasYaml) as Record<string, unknown>[];
    assert.equal(s?.key, undefined);
    assert.equal(s?.key_base64, undefined);
    assert.deepEqual(s?.gpg, {
      home_dir: '/etc/fwknop/gnupg',
      exe: '/usr/bin/gpg',
      decrypt_id: 'ED3B28FD9EC18797',
      decrypt_pw: 'server pass',
      allow_no_pw: false,
      require_sig: true,
      ignore_sig_verify_error: false,
      remote_ids: ['818F9148FA940D2C', 'C9337033'],
      fingerprint_ids: [],
    });
  });

  it('loads into a door whose stanza carries the GnuPG settings (and a key too, when given)', () => {
    const file = conf(
      ...GPG,
      `GPG_FINGERPRINT_ID ${FPR}`,
      'GPG_IGNORE_SIG_VERIFY_ERROR Y',
      'GPG_EXE /usr/local/bin/gpg2',
      'HMAC_KEY_BASE64 Yh+xizBnl6FotC5ec7FanVGClRMlsOAPh2u6eovnerfBVKwaVKzjGoblFMHMc593TNyi0dWn4opLoTIV9q/ttg==',
      'SOURCE 198.18.0.0/15',
      'KEY rijndael-key',
      'OPEN_PORTS tcp/22',
      'GPG_HOME_DIR /g',
      'GPG_DECRYPT_ID ED3B28FD9EC18797',
      'GPG_ALLOW_NO_PW Y',
      'GPG_REQUIRE_SIG N',
    );
    const r = importAccessConf(file);
    const cfg = parseConfigText(join(dirname(file), 'knockgate.yaml'), r.yaml);
    const [a, b] = cfg.doors[0]?.fwknop?.stanzas ?? [];
    assert.equal(a?.key.length, 0, 'GnuPG only: no Rijndael key');
    assert.deepEqual(a?.gpg, {
      exe: '/usr/local/bin/gpg2',
      homeDir: '/etc/fwknop/gnupg',
      decryptId: 'ED3B28FD9EC18797',
      decryptPassphrase: new Uint8Array(Buffer.from('server pass')),
      requireSignature: true,
      ignoreVerifyError: true,
      remoteIds: [],
      fingerprints: [FPR],
    });
    assert.ok(a?.hmacKey !== null && a?.hmacKey.length === 64);
    assert.equal(Buffer.from(b?.key ?? []).toString(), 'rijndael-key');
    assert.equal(b?.gpg?.decryptPassphrase, null);
    assert.equal(b?.gpg?.requireSignature, false);
    assert.ok(
      r.warnings.some(
        (w) => w.line === 16 && /signatures are not checked in this stanza \(GPG_REQUIRE_SIG N\)/.test(w.message),
      ),
    );
  });

  it('GPG_REQUIRE_SIG (explicit or the default) without signer ids: an error at the variable', () => {
    errorAt(6, 'GPG_REQUIRE_SIG', /without GPG_REMOTE_ID or GPG_FINGERPRINT_ID/, ...GPG, 'GPG_REQUIRE_SIG Y');
    errorAt(3, 'GPG_HOME_DIR', /GPG_REQUIRE_SIG \(Y, the default\) without GPG_REMOTE_ID/, ...GPG);
  });

  it('a missing GPG_HOME_DIR, GPG_DECRYPT_ID or GPG_DECRYPT_PW: an error at the first GnuPG variable', () => {
    const [source, ports, , id, pw] = GPG as [string, string, string, string, string];
    errorAt(3, 'GPG_DECRYPT_ID', /without GPG_HOME_DIR/, source, ports, id, pw, `GPG_REMOTE_ID ${FPR}`);
    errorAt(3, 'GPG_HOME_DIR', /without GPG_DECRYPT_ID/, source, ports, 'GPG_HOME_DIR /g', pw, `GPG_REMOTE_ID ${FPR}`);
    errorAt(
      3,
      'GPG_HOME_DIR',
      /without GPG_DECRYPT_PW.*GPG_ALLOW_NO_PW Y/,
      source,
      ports,
      'GPG_HOME_DIR /g',
      id,
      `GPG_REMOTE_ID ${FPR}`,
    );
  });

  it('bad values: at their own line', () => {
    errorAt(6, 'GPG_REMOTE_ID', /"nothex" is not a key id/, ...GPG, 'GPG_REMOTE_ID C9337033,nothex');
    errorAt(6, 'GPG_FINGERPRINT_ID', /"C9337033" is not a fingerprint/, ...GPG, 'GPG_FINGERPRINT_ID C9337033');
    errorAt(
      3,
      'GPG_HOME_DIR',
      /"gnupg" must be an absolute path/,
      'SOURCE ANY',
      'OPEN_PORTS tcp/22',
      'GPG_HOME_DIR gnupg',
      'GPG_DECRYPT_ID ED3B28FD9EC18797',
      'GPG_DECRYPT_PW pw',
      `GPG_REMOTE_ID ${FPR}`,
    );
    errorAt(5, 'GPG_DECRYPT_PW', /__CHANGEME__/, ...GPG.slice(0, 4), 'GPG_DECRYPT_PW __CHANGEME__');
  });
});

describe('knockgate.yaml stanzas with gpg', () => {
  const yaml = (gpg: string): string =>
    [
      'interfaces: [lo]',
      'firewall: nftables',
      'doors:',
      '  - name: f',
      '    fwknop: { port: 62201 }',
      '    open: [22/tcp]',
      '    stanzas:',
      '      - source: [ANY]',
      `        gpg: ${gpg}`,
      '',
    ].join('\n');
  const load = (gpg: string) => {
    const file = join(TMP, `k${++n}.yaml`);
    writeFileSync(file, yaml(gpg));
    chmodSync(file, 0o600);
    return parseConfigText(file, yaml(gpg));
  };
  it('compiles a gpg mapping', () => {
    const cfg = load(`{ home_dir: /g, decrypt_id: ED3B28FD9EC18797, decrypt_pw: pw, remote_ids: ["0xc9337033"] }`);
    const st = cfg.doors[0]?.fwknop?.stanzas[0];
    assert.deepEqual(st?.gpg?.remoteIds, ['C9337033']);
    assert.equal(st?.gpg?.exe, '/usr/bin/gpg');
  });
  it('refuses require_sig without signers and a missing passphrase, naming the key', () => {
    assert.throws(
      () => load('{ home_dir: /g, decrypt_id: ED3B28FD9EC18797, decrypt_pw: pw }'),
      (e: unknown) => e instanceof ConfigError && /gpg/.test(e.message) && /remote_ids/.test(e.message),
    );
    assert.throws(
      () => load('{ home_dir: /g, decrypt_id: ED3B28FD9EC18797, remote_ids: [C9337033] }'),
      (e: unknown) => e instanceof ConfigError && /allow_no_pw/.test(e.message),
    );
  });
});
