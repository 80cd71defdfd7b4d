/**
 * The audit trail as a JSON-lines file (ports/audit-log.ts): one JSON object and a newline per
 * record, appended with O_APPEND, written whole (short writes looped) and fdatasync'ed before
 * append() returns. The file and its directory are created 0600 / 0700 (the trail names clients
 * and addresses); the file is never followed through a symbolic link.
 *
 * Rotation, both kinds safe for "each record exactly once":
 *   - by size, by knockgated itself: when the next line would take the file past `maxBytes`, the
 *     file is closed, `.keep-1` → `.keep`, ..., `.1` → `.2`, the file → `.1` (renames, so no line is
 *     copied), the directory synced, a new file opened, and the line written there;
 *   - from outside (logrotate's default create mode, or a `mv`): the daemon keeps appending to
 *     the file it holds open until reopen() (SIGHUP), which opens the configured path anew; each
 *     line is written once, to whichever file was open.
 *
 * A failed append throws KG_STATE_WRITE_FAILED naming the file; what it wrote is cut off again
 * (ftruncate to the size before), so the file never keeps half a line. If even that fails the next
 * line starts on a new line, and readers (audit/read-audit.ts) skip a line that is not JSON.
 */

import { dirname } from 'node:path';
import { KnockgateError } from '../core/errors.js';
import { MAX_AUDIT_LINE_BYTES } from '../core/limits.js';
import type { AuditLog, AuditRecord } from '../ports/audit-log.js';
import { type JournalFs, nodeJournalFs, writeFully } from './journal-fs.js';

export interface AuditFileOptions {
  /** Rotate before a line would take the file past this. */
  readonly maxBytes: number;
  /** Rotated files kept: `.1` (newest) to `.keep`. */
  readonly keep: number;
  readonly fs?: JournalFs;
}

export class AuditFile implements AuditLog {
  private fd: number | null = null;
  private size = 0;
  /** A failed append left a fragment that could not be cut off: begin the next line on a new line. */
  private torn = false;
  private readonly fs: JournalFs;

  private constructor(
    readonly path: string,
    private readonly options: AuditFileOptions,
  ) {
    this.fs = options.fs ?? nodeJournalFs;
  }

  /** Opens (creating) the file for appending; throws KG_STATE_WRITE_FAILED naming it. */
  static open(path: string, options: AuditFileOptions): AuditFile {
    const f = new AuditFile(path, options);
    f.guard('cannot open', () => f.openFile());
    return f;
  }

  append(record: AuditRecord): void {
    const line = Buffer.from(`${this.torn ? '\n' : ''}${JSON.stringify(record)}\n`, 'utf8');
    if (line.length > MAX_AUDIT_LINE_BYTES)
      throw new KnockgateError('KG_STATE_WRITE_FAILED', `audit record of ${line.length} bytes is too long`);
    this.guard('cannot write', () => {
      if (this.fd === null) this.openFile();
      if (this.size > 0 && this.size + line.length > this.options.maxBytes) this.rotate();
      const fd = this.fd as number;
      const before = this.size;
      try {
        writeFully(this.fs, fd, line);
        this.fs.datasync(fd);
      } catch (err) {
        try {
          this.fs.truncate(fd, before);
        } catch {
          this.torn = true;
        }
        throw err;
      }
      this.size = before + line.length;
      this.torn = false;
    });
  }

  reopen(): void {
    this.guard('cannot reopen', () => {
      this.closeFile();
      this.openFile();
    });
  }

  close(): void {
    this.closeFile();
  }

  private openFile(): void {
    const created = !this.fs.exists(this.path);
    this.fs.mkdirPrivate(dirname(this.path));
    const fd = this.fs.openAppend(this.path);
    this.fd = fd;
    this.size = this.fs.size(fd);
    // A new directory entry is durable only once its directory is synced.
    if (created) this.fs.syncDir(dirname(this.path));
  }

  private closeFile(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    this.fs.close(fd);
  }

  /** `.N-1` → `.N`, ..., the file → `.1` (the oldest beyond `keep` replaced), then a new file. */
  private rotate(): void {
    this.closeFile();
    const { keep } = this.options;
    for (let i = keep - 1; i >= 1; i--)
      if (this.fs.exists(`${this.path}.${i}`)) this.fs.rename(`${this.path}.${i}`, `${this.path}.${i + 1}`);
    this.fs.rename(this.path, `${this.path}.1`);
    this.fs.syncDir(dirname(this.path));
    this.openFile();
  }

  private guard(what: string, f: () => void): void {
    try {
      f();
    } catch (err) {
      if (err instanceof KnockgateError) throw err;
      throw new KnockgateError(
        'KG_STATE_WRITE_FAILED',
        `${what} the audit trail ${this.path}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
}
