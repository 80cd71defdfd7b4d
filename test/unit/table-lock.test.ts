/**
 * Covers src/stores/table-lock.ts in a temp dir: a second lock on the same table (another fd, as a
 * second daemon would have) is refused with KG_ALREADY_RUNNING naming the holder's PID, the table
 * and the file; the lock is free again after release(); the file holds our PID, is 0600 in a 0700
 * directory, and is named after the table and the network namespace's inode; a symlink in its
 * place is refused and its target left untouched.
 */

import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KnockgateError } from '../../src/core/errors.js';
import { lockTable } from '../../src/stores/table-lock.js';

describe('table lock', () => {
  let root: string;
  let dir: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kg-lock-'));
    dir = join(root, 'run');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('refuses a second lock on the same table, naming the holder, then allows it after release', () => {
    const first = lockTable('knockgate', { dir });
    assert.throws(
      () => lockTable('knockgate', { dir }),
      (err: unknown) => {
        assert.ok(err instanceof KnockgateError);
        assert.equal(err.code, 'KG_ALREADY_RUNNING');
        assert.equal(err.exitCode, 75);
        assert.match(
          err.message,
          new RegExp(
            `^knockgated \\(PID ${process.pid}\\) already manages table inet knockgate in this network namespace`,
          ),
        );
        assert.ok(err.message.includes(first.file), err.message);
        return true;
      },
    );
    assert.equal(
      readFileSync(first.file, 'utf8'),
      `${process.pid}\n`,
      'the refused attempt left the holder’s PID in place',
    );
    first.release();
    first.release();
    assert.equal(existsSync(first.file), false);
    const again = lockTable('knockgate', { dir });
    assert.equal(readFileSync(again.file, 'utf8'), `${process.pid}\n`);
    again.release();
  });

  it('locks per table, in a 0700 directory, a 0600 file named after the table and the netns inode', () => {
    const a = lockTable('knockgate', { dir });
    const b = lockTable('other_table', { dir });
    const netns = statSync('/proc/self/ns/net').ino;
    assert.equal(a.file, join(dir, `knockgate.${netns}.lock`));
    assert.equal(b.file, join(dir, `other_table.${netns}.lock`));
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(a.file).mode & 0o777, 0o600);
    a.release();
    b.release();
  });

  it('takes over a stale file left by a holder that died (no lock on it), replacing its PID', () => {
    const netns = statSync('/proc/self/ns/net').ino;
    const first = lockTable('knockgate', { dir });
    first.release();
    writeFileSync(join(dir, `knockgate.${netns}.lock`), '99999999\n', { mode: 0o600 });
    const lock = lockTable('knockgate', { dir });
    assert.equal(readFileSync(lock.file, 'utf8'), `${process.pid}\n`);
    lock.release();
  });

  it('refuses a symlink in place of the lock file and leaves its target alone', () => {
    const netns = statSync('/proc/self/ns/net').ino;
    lockTable('knockgate', { dir }).release();
    const target = join(root, 'victim');
    writeFileSync(target, 'precious\n');
    symlinkSync(target, join(dir, `knockgate.${netns}.lock`));
    assert.throws(
      () => lockTable('knockgate', { dir }),
      (err: unknown) => err instanceof KnockgateError && err.code === 'KG_STATE_WRITE_FAILED',
    );
    assert.equal(readFileSync(target, 'utf8'), 'precious\n');
  });
});
