/**
 * Covers the files of time-based sequence doors, in temp dirs:
 *   src/stores/totp-burnt-file.ts  burnt counters survive a reopen (a restart); records past their
 *                                  window are dropped and the file rewritten; a torn last line (a
 *                                  crash mid-append) is dropped; a line that is not a record is a
 *                                  ConfigError naming file and line; a failed write throws
 *                                  KG_STATE_WRITE_FAILED
 *   src/stores/totp-key-files.ts   the secret and the client credential read back what was written;
 *                                  refused when readable by group or others, of another kind, or
 *                                  with a bad setting (the key named)
 */

import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, KnockgateError } from '../../src/core/errors.js';
import { TotpBurntFile } from '../../src/stores/totp-burnt-file.js';
import { MemoryBurntCounters } from '../../src/ports/totp-burnt.js';
import {
  readTotpCredential,
  readTotpSecret,
  totpCredentialText,
  totpSecretText,
} from '../../src/stores/totp-key-files.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kg-totp-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
const write = (name: string, text: string, mode = 0o600): string => {
  const file = join(dir, name);
  writeFileSync(file, text, { mode });
  chmodSync(file, mode);
  return file;
};

describe('TotpBurntFile', () => {
  it('what was burnt is burnt after a reopen; expired records are dropped and the file rewritten', () => {
    const file = join(dir, 'state', 'totp-burnt-knockgate.txt');
    const a = TotpBurntFile.open(file, 1_000);
    assert.equal(a.isBurnt('ssh', 7), false);
    a.burn('ssh', 7, 5_000, 1_000);
    a.burn('web', 7, 9_000, 1_000);
    assert.equal(a.isBurnt('ssh', 7), true);
    assert.equal(a.isBurnt('ssh', 8), false);
    assert.equal(a.isBurnt('web', 7), true);
    const b = TotpBurntFile.open(file, 4_999);
    assert.equal(b.isBurnt('ssh', 7), true, 'a restart keeps it');
    const c = TotpBurntFile.open(file, 5_000);
    assert.equal(c.isBurnt('ssh', 7), false, 'past its window it is forgotten');
    assert.equal(c.isBurnt('web', 7), true);
    assert.equal(readFileSync(file, 'utf8'), 'web 7 9000\n');
  });

  it('a torn last line is dropped; a line that is not a record names the line', () => {
    const file = write('burnt.txt', 'ssh 1 9000\nssh 2 90');
    const f = TotpBurntFile.open(file, 0);
    assert.equal(f.isBurnt('ssh', 1), true);
    assert.equal(f.isBurnt('ssh', 2), false);
    assert.equal(readFileSync(file, 'utf8'), 'ssh 1 9000\n');
    write('bad.txt', 'ssh 1 9000\nhello\n');
    assert.throws(
      () => TotpBurntFile.open(join(dir, 'bad.txt'), 0),
      (e: unknown) => e instanceof ConfigError && e.line === 2 && e.exitCode === 78,
    );
  });

  it('a write that fails throws KG_STATE_WRITE_FAILED and burns nothing in memory', () => {
    const f = TotpBurntFile.open(join(dir, 'no-such-file-parent', 'x'), 0);
    writeFileSync(join(dir, 'no-such-file-parent'), 'a file where the directory should be');
    assert.throws(
      () => f.burn('ssh', 1, 9_000, 0),
      (e: unknown) => e instanceof KnockgateError && e.code === 'KG_STATE_WRITE_FAILED',
    );
    assert.equal(f.isBurnt('ssh', 1), false);
  });
});

describe('burnt counters stay bounded while the daemon runs', () => {
  it('the file store forgets records past their time, and rewrites the file after 1,024 appends', () => {
    const file = join(dir, 'burnt.txt');
    const f = TotpBurntFile.open(file, 0);
    for (let c = 0; c < 1_024; c++) f.burn('ssh', c, (c + 2) * 1_000, c * 1_000);
    assert.equal(f.isBurnt('ssh', 1_023), true);
    assert.equal(f.isBurnt('ssh', 1_022), true);
    assert.equal(f.isBurnt('ssh', 1_020), false, 'past its time: forgotten');
    assert.equal(readFileSync(file, 'utf8'), 'ssh 1022 1024000\nssh 1023 1025000\n');
  });

  it('the memory store forgets records past their time', () => {
    const m = new MemoryBurntCounters();
    for (let c = 0; c < 100; c++) m.burn('ssh', c, (c + 2) * 1_000, c * 1_000);
    assert.equal(m.size, 2);
    assert.equal(m.isBurnt('ssh', 99), true);
  });
});

describe('time-based key files', () => {
  it('the secret reads back; a file readable by others or of another kind is refused', () => {
    const file = write('ssh.totp', totpSecretText(SECRET));
    assert.deepEqual(readTotpSecret(file), SECRET);
    chmodSync(file, 0o644);
    assert.throws(
      () => readTotpSecret(file),
      (e: unknown) => e instanceof ConfigError && /chmod 600/.test(e.message),
    );
    const other = write('other', 'kind: knockgate-server-key-v1\nprivate_key: AAAA\n');
    assert.throws(
      () => readTotpSecret(other),
      (e: unknown) => e instanceof ConfigError && e.key === 'kind',
    );
    assert.throws(
      () => readTotpSecret(join(dir, 'absent.totp')),
      (e: unknown) => e instanceof ConfigError && e.exitCode === 78 && /add-client NAME --totp/.test(e.message),
    );
    const short = write('short', 'kind: knockgate-totp-secret-v1\nsecret: AAAA\n');
    assert.throws(
      () => readTotpSecret(short),
      (e: unknown) => e instanceof ConfigError && e.key === 'secret',
    );
  });

  it('the credential reads back; a bad setting names its key', () => {
    const cred = {
      name: 'alice',
      server: 'gw.example.net',
      secret: SECRET,
      parameters: { door: 'ssh', steps: 4, periodMs: 30_000, low: 20_000, high: 29_999, protocol: 'mixed' as const },
    };
    const text = totpCredentialText(cred);
    assert.deepEqual(readTotpCredential(write('alice.totp', text)), cred);
    for (const [from, to, key] of [
      ['steps: 4', 'steps: 1', 'steps'],
      ['period: 30', 'period: 2', 'period'],
      ['ports: 20000-29999', 'ports: 20000', 'ports'],
      ['protocol: mixed', 'protocol: icmp', 'protocol'],
      ['door: "ssh"', 'door: ""', 'door'],
    ] as const) {
      const bad = write(`bad-${key}`, text.replace(from, to));
      assert.throws(
        () => readTotpCredential(bad),
        (e: unknown) => e instanceof ConfigError && e.key === key,
        key,
      );
    }
  });
});
