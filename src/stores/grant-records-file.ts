/**
 * The grant book's labels as one JSON file (ports/grant-records.ts), beside the pending stop
 * commands: `grants-<table>.json`. Rewritten whole, atomically: a temporary file (0600) written
 * fully and fsynced, renamed over the old one, the directory fsynced; so after a crash the file is
 * the old or the new list, never a mix. Writes are coalesced (at most one per
 * GRANT_RECORDS_COALESCE_MS; flush() at stop writes the last change at once): the labels are not
 * what security depends on (see the port).
 *
 * A file that is absent is an empty list; one that cannot be read or parsed is `problem` (naming
 * the file and what is wrong), the list is empty, and the next write replaces it.
 */

import { dirname } from 'node:path';
import { KnockgateError } from '../core/errors.js';
import { GRANT_RECORDS_COALESCE_MS } from '../core/limits.js';
import type { GrantRecordStore, StoredGrant } from '../ports/grant-records.js';
import { type JournalFs, nodeJournalFs, writeFully } from './journal-fs.js';

const FORMAT = 'knockgate-grants/1';

export class GrantRecordsFile implements GrantRecordStore {
  private pending: (() => readonly StoredGrant[]) | null = null;
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    readonly path: string,
    readonly loaded: readonly StoredGrant[],
    readonly problem: string | null,
    private readonly fs: JournalFs,
    private readonly onWriteError: (err: KnockgateError) => void,
  ) {}

  /** Reads what is recorded; never throws for the file's content (see `problem`). */
  static open(
    path: string,
    onWriteError: (err: KnockgateError) => void,
    fs: JournalFs = nodeJournalFs,
  ): GrantRecordsFile {
    let loaded: StoredGrant[] = [];
    let problem: string | null = null;
    if (fs.exists(path)) {
      try {
        loaded = parseGrants(fs.readFile(path).toString('utf8'));
      } catch (err) {
        problem = `${path}: the grant records cannot be read (${(err as Error).message}); grants found in the kernel are listed with door unknown, and the file is replaced at the next change`;
      }
    }
    return new GrantRecordsFile(path, loaded, problem, fs, onWriteError);
  }

  changed(current: () => readonly StoredGrant[]): void {
    this.pending = current;
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      try {
        this.flush();
      } catch (err) {
        this.onWriteError(err as KnockgateError);
      }
    }, GRANT_RECORDS_COALESCE_MS);
    this.timer.unref();
  }

  flush(): void {
    const current = this.pending;
    if (current === null) return;
    this.pending = null;
    this.write(current());
  }

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private write(grants: readonly StoredGrant[]): void {
    const tmp = `${this.path}.tmp`;
    const data = Buffer.from(`${JSON.stringify({ format: FORMAT, grants })}\n`, 'utf8');
    let fd: number | undefined;
    try {
      this.fs.mkdirPrivate(dirname(this.path));
      fd = this.fs.openTruncate(tmp);
      writeFully(this.fs, fd, data);
      this.fs.datasync(fd);
      this.fs.close(fd);
      fd = undefined;
      this.fs.rename(tmp, this.path);
      this.fs.syncDir(dirname(this.path));
    } catch (err) {
      if (fd !== undefined) this.fs.close(fd);
      throw new KnockgateError(
        'KG_STATE_WRITE_FAILED',
        `cannot write the grant records ${this.path}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}

function parseGrants(text: string): StoredGrant[] {
  const doc = JSON.parse(text) as { format?: unknown; grants?: unknown };
  if (typeof doc !== 'object' || doc === null || doc.format !== FORMAT) throw new Error(`not a ${FORMAT} document`);
  if (!Array.isArray(doc.grants)) throw new Error('no "grants" list');
  return doc.grants.map((g: unknown, i): StoredGrant => {
    const o = g as Record<string, unknown>;
    const ok =
      typeof o === 'object' &&
      o !== null &&
      typeof o.id === 'string' &&
      typeof o.door === 'string' &&
      typeof o.source === 'string' &&
      (o.family === 4 || o.family === 6) &&
      Array.isArray(o.ports) &&
      o.ports.every((p) => typeof p === 'string') &&
      (o.client === undefined || typeof o.client === 'string') &&
      Number.isSafeInteger(o.sinceUnixMs) &&
      Number.isSafeInteger(o.untilUnixMs);
    if (!ok) throw new Error(`record ${i} is incomplete`);
    return Object.freeze({
      id: o.id as string,
      door: o.door as string,
      source: o.source as string,
      family: o.family as 4 | 6,
      ports: Object.freeze([...(o.ports as string[])]),
      ...(o.client !== undefined ? { client: o.client as string } : {}),
      sinceUnixMs: o.sinceUnixMs as number,
      untilUnixMs: o.untilUnixMs as number,
    });
  });
}
