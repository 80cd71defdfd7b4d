/**
 * The file operations the replay journal depends on, as a narrow port, so that tests can inject
 * the faults a disk really produces (short writes, ENOSPC, EIO, a failing rename or fsync) into
 * real files. `nodeJournalFs` is the real thing: synchronous node:fs calls (the journal's writes
 * are on the grant path, where a thread-pool round trip costs more than the write; see
 * replay-journal.ts).
 *
 * Contract: `write` may write fewer bytes than asked (the caller loops and verifies); every other
 * call either does all it says or throws.
 */

import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
  constants,
} from 'node:fs';

export interface JournalFs {
  exists(path: string): boolean;
  mkdirPrivate(dir: string): void;
  readFile(path: string): Buffer;
  /** Opens for appending, creating with mode 0600; never follows a symlink. */
  openAppend(path: string): number;
  /** Creates or truncates for writing, mode 0600; never follows a symlink. */
  openTruncate(path: string): number;
  /** Writes from `buffer[offset..]`; returns how many bytes were written (maybe fewer). */
  write(fd: number, buffer: Buffer, offset: number): number;
  datasync(fd: number): void;
  truncate(fd: number, length: number): void;
  size(fd: number): number;
  close(fd: number): void;
  rename(from: string, to: string): void;
  unlink(path: string): void;
  /** fsync of a directory, so that a rename in it is durable. */
  syncDir(dir: string): void;
}

const NOFOLLOW = constants.O_NOFOLLOW;

export const nodeJournalFs: JournalFs = {
  exists: (path) => existsSync(path),
  mkdirPrivate: (dir) => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  },
  readFile: (path) => readFileSync(path),
  openAppend: (path) => openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | NOFOLLOW, 0o600),
  openTruncate: (path) => openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | NOFOLLOW, 0o600),
  write: (fd, buffer, offset) => writeSync(fd, buffer, offset),
  datasync: (fd) => fdatasyncSync(fd),
  truncate: (fd, length) => ftruncateSync(fd, length),
  size: (fd) => fstatSync(fd).size,
  close: (fd) => closeSync(fd),
  rename: (from, to) => renameSync(from, to),
  unlink: (path) => unlinkSync(path),
  syncDir: (dir) => {
    const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  },
};

/** Writes all of `bytes` at the file's end, looping over short writes; throws on any error. */
export function writeFully(fs: JournalFs, fd: number, bytes: Buffer): void {
  for (let done = 0; done < bytes.length; ) {
    const n = fs.write(fd, bytes, done);
    if (!(n > 0))
      throw Object.assign(new Error(`write made no progress at byte ${done} of ${bytes.length}`), { code: 'EIO' });
    done += n;
  }
}
