/**
 * One knockgated per nftables table and network namespace: an exclusive flock(2) on
 * RUN_DIR/<table>.<netns inode>.lock (RUN_DIR is /run/knockgate, 0700), held for the life of the
 * process. A second daemon that would manage the same table in the same namespace is refused with
 * KG_ALREADY_RUNNING (exit 75) naming the table, the lock file and the holder's PID, before it
 * touches the firewall or the PID file. Tables live per network namespace, so the inode of
 * /proc/self/ns/net is part of the name: daemons in other namespaces never contend.
 *
 * Contract of lockTable(table, { dir? }):
 *   - the directory is created 0700 if missing; an existing one must be a real directory (not a
 *     symlink) that neither group nor others can write, else KG_STATE_WRITE_FAILED;
 *   - the file is opened O_RDWR|O_CREAT|O_NOFOLLOW (a symlink there is refused), mode 0600, must be
 *     a regular file; it is never truncated before the lock is held;
 *   - once locked: the path must still name the locked inode (a holder that was exiting may have
 *     unlinked it; then retry, at most LOCK_ATTEMPTS times), then the file is truncated, our PID
 *     written in full and fsync'd;
 *   - the fd stays open (close-on-exec, as Node opens every file) until release() or exit; the
 *     kernel drops the lock when the process dies in any way, SIGKILL included;
 *   - release() (also run at process exit) unlinks the file while still holding the lock, then
 *     closes it. Idempotent.
 * `dir` exists for tests; the daemon always uses RUN_DIR.
 */

import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { KnockgateError } from '../core/errors.js';
import { loadNativeAddon } from '../sensors/native-addon.js';

export const RUN_DIR = '/run/knockgate';
const LOCK_ATTEMPTS = 5;

interface FlockBinding {
  tryLockExclusive(fd: number): boolean;
}

export interface TableLock {
  readonly file: string;
  release(): void;
}

function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new KnockgateError(
      'KG_STATE_WRITE_FAILED',
      `cannot create the lock directory ${dir}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const st = lstatSync(dir);
  if (!st.isDirectory())
    throw new KnockgateError(
      'KG_STATE_WRITE_FAILED',
      `the lock directory ${dir} is not a directory (a symlink is refused)`,
    );
  if ((st.mode & 0o022) !== 0)
    throw new KnockgateError(
      'KG_STATE_WRITE_FAILED',
      `the lock directory ${dir} is writable by group or others (mode ${(st.mode & 0o777).toString(8)}); chmod 700 it`,
    );
}

function readHolder(fd: number): string {
  const buf = Buffer.alloc(32);
  try {
    const n = readSync(fd, buf, 0, buf.length, 0);
    const pid = buf.subarray(0, n).toString('latin1').trim();
    return /^\d{1,10}$/.test(pid) ? pid : 'unknown';
  } catch {
    return 'unknown';
  }
}

function writeFully(fd: number, data: Buffer): void {
  let at = 0;
  while (at < data.length) at += writeSync(fd, data, at, data.length - at, at);
}

export function lockTable(table: string, options: { dir?: string } = {}): TableLock {
  const dir = options.dir ?? RUN_DIR;
  ensureDir(dir);
  const netns = statSync('/proc/self/ns/net').ino;
  const file = join(dir, `${table}.${netns}.lock`);
  const flock = loadNativeAddon<FlockBinding>('flock.node', 'file-lock binding');
  for (let attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    } catch (err) {
      throw new KnockgateError(
        'KG_STATE_WRITE_FAILED',
        `cannot open the lock file ${file}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    let locked = false;
    try {
      const st = fstatSync(fd);
      if (!st.isFile())
        throw new KnockgateError('KG_STATE_WRITE_FAILED', `the lock file ${file} is not a regular file`);
      if (!flock.tryLockExclusive(fd)) {
        const pid = readHolder(fd);
        throw new KnockgateError(
          'KG_ALREADY_RUNNING',
          `knockgated (PID ${pid}) already manages table inet ${table} in this network namespace (lock ${file}); stop it first or set nft_table to a different name`,
        );
      }
      locked = true;
      let current: number | undefined;
      try {
        current = lstatSync(file).ino;
      } catch {
        current = undefined;
      }
      if (current !== st.ino) {
        closeSync(fd);
        continue; // the holder unlinked it on its way out; lock the new file
      }
      ftruncateSync(fd, 0);
      writeFully(fd, Buffer.from(`${process.pid}\n`));
      fsyncSync(fd);
    } catch (err) {
      try {
        closeSync(fd);
      } catch {
        /* closed */
      }
      if (err instanceof KnockgateError) throw err;
      throw new KnockgateError(
        'KG_STATE_WRITE_FAILED',
        `cannot ${locked ? 'write' : 'lock'} the lock file ${file}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      process.removeListener('exit', release);
      try {
        if (lstatSync(file).ino === fstatSync(fd).ino) unlinkSync(file);
      } catch {
        /* already gone */
      }
      closeSync(fd);
    };
    process.once('exit', release);
    return { file, release };
  }
  throw new KnockgateError(
    'KG_STATE_WRITE_FAILED',
    `the lock file ${file} kept being replaced while locking it (${LOCK_ATTEMPTS} attempts)`,
  );
}
