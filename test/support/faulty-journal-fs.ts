/**
 * The journal's file port over real files, with the faults a disk really produces injected on
 * demand: short writes, ENOSPC/EIO part-way through a write, a failing truncate, rename or
 * directory sync. Each fault is armed by the test and fires as described on its field.
 */

import { nodeJournalFs, type JournalFs } from '../../src/stores/journal-fs.js';

const fault = (code: string): Error => Object.assign(new Error(`${code}: injected`), { code });

export class FaultyJournalFs implements JournalFs {
  /** The next write writes this many bytes (a fragment), then throws `failWriteCode`. */
  tearNextWriteAt: number | null = null;
  failWriteCode = 'ENOSPC';
  /** Every write writes at most this many bytes (short writes, no error). */
  maxBytesPerWrite = Infinity;
  /** Writes to paths ending with this fail with ENOSPC at once (e.g. '.compact'). */
  failWritesTo: string | null = null;
  failTruncate = false;
  failSyncDir = false;
  writes = 0;
  /** Writes refused through `failWritesTo`. */
  refusedWrites = 0;
  private readonly paths = new Map<number, string>();

  exists = nodeJournalFs.exists;
  mkdirPrivate = nodeJournalFs.mkdirPrivate;
  readFile = nodeJournalFs.readFile;
  datasync = nodeJournalFs.datasync;
  size = nodeJournalFs.size;
  rename = nodeJournalFs.rename;
  unlink = nodeJournalFs.unlink;

  openAppend(path: string): number {
    const fd = nodeJournalFs.openAppend(path);
    this.paths.set(fd, path);
    return fd;
  }
  openTruncate(path: string): number {
    const fd = nodeJournalFs.openTruncate(path);
    this.paths.set(fd, path);
    return fd;
  }
  close(fd: number): void {
    this.paths.delete(fd);
    nodeJournalFs.close(fd);
  }
  write(fd: number, buffer: Buffer, offset: number): number {
    this.writes++;
    if (this.failWritesTo !== null && (this.paths.get(fd) ?? '').endsWith(this.failWritesTo)) {
      this.refusedWrites++;
      throw fault('ENOSPC');
    }
    if (this.tearNextWriteAt !== null) {
      const n = this.tearNextWriteAt;
      this.tearNextWriteAt = null;
      if (n > 0) nodeJournalFs.write(fd, buffer.subarray(offset, offset + n), 0);
      throw fault(this.failWriteCode);
    }
    const end = Math.min(buffer.length, offset + this.maxBytesPerWrite);
    return nodeJournalFs.write(fd, buffer.subarray(0, end), offset);
  }
  truncate(fd: number, length: number): void {
    if (this.failTruncate) throw fault('EIO');
    nodeJournalFs.truncate(fd, length);
  }
  syncDir(dir: string): void {
    if (this.failSyncDir) throw fault('EIO');
    nodeJournalFs.syncDir(dir);
  }
}
