/**
 * The burnt counters of time-based sequence doors on disk (ports/totp-burnt.ts): one line per
 * burnt sequence, `DOOR COUNTER UNTIL_UNIX_MS`, appended and fsynced before burn() returns, so a
 * sequence is burnt on disk before the grant it buys is made and a restart (or a crash) never
 * makes it valid again. Cheap: one short append per completed knock, at most one per door and
 * period.
 *
 * At open, records whose UNTIL has passed are dropped and the file is rewritten (temporary file,
 * fsync, rename, fsync of the directory) when any was, so it holds only live records; a torn last
 * line (a crash in the middle of an append) is dropped the same way: its burn() never returned,
 * so no grant was made with it. While the daemon runs, each burn() forgets the records past their
 * time, and once REWRITE_AFTER_LINES lines have been appended since the last rewrite the file is
 * rewritten with the live ones (after the new record is durable: a failed rewrite leaves the
 * longer file, which is still right, and is tried again at the next burn). A line that is not a record is an error naming the file and line.
 * Past MAX_TOTP_BURNT_RECORDS live records the file is refused (it is not knockgate's).
 */

import { dirname } from 'node:path';
import { ConfigError, KnockgateError } from '../core/errors.js';
import { MAX_TOTP_BURNT_RECORDS } from '../core/limits.js';
import type { BurntCounterStore } from '../ports/totp-burnt.js';
import { type JournalFs, nodeJournalFs, writeFully } from './journal-fs.js';

/** Appended lines after which a running daemon rewrites the file with only the live records. */
const REWRITE_AFTER_LINES = 1_024;

const RECORD = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,31}) (\d{1,15}) (\d{1,16})$/;

interface Burnt {
  readonly door: string;
  readonly counter: number;
  readonly untilUnixMs: number;
}

const key = (door: string, counter: number): string => `${door} ${counter}`;
const line = (b: Burnt): string => `${b.door} ${b.counter} ${b.untilUnixMs}\n`;

export class TotpBurntFile implements BurntCounterStore {
  private readonly burnt = new Map<string, Burnt>();
  private appended = 0;

  private constructor(
    readonly path: string,
    private readonly fs: JournalFs,
  ) {}

  /** Reads the file (absent: none burnt), keeps the live records, rewrites it if some were not. */
  static open(path: string, nowUnixMs: number, fs: JournalFs = nodeJournalFs): TotpBurntFile {
    const file = new TotpBurntFile(path, fs);
    if (!fs.exists(path)) return file;
    const text = fs.readFile(path).toString('utf8');
    const lines = text.split('\n');
    const torn = lines.pop() !== ''; // the text after the last newline: '' unless an append was cut short
    let dropped = torn;
    lines.forEach((l, i) => {
      const m = RECORD.exec(l);
      if (m === null)
        throw new ConfigError(path, i + 1, undefined, 'not a burnt-sequence record (DOOR COUNTER UNTIL_UNIX_MS)');
      const b: Burnt = { door: m[1] as string, counter: Number(m[2]), untilUnixMs: Number(m[3]) };
      if (b.untilUnixMs <= nowUnixMs) dropped = true;
      else file.burnt.set(key(b.door, b.counter), b);
    });
    if (file.burnt.size > MAX_TOTP_BURNT_RECORDS)
      throw new ConfigError(path, undefined, undefined, `more than ${MAX_TOTP_BURNT_RECORDS} live records`);
    if (dropped) file.rewrite();
    return file;
  }

  isBurnt(door: string, counter: number): boolean {
    return this.burnt.has(key(door, counter));
  }

  /** Appends the record and fsyncs; throws KG_STATE_WRITE_FAILED (then no grant may be made). */
  burn(door: string, counter: number, untilUnixMs: number, nowUnixMs: number): void {
    const b: Burnt = { door, counter, untilUnixMs };
    let fd: number | undefined;
    try {
      this.fs.mkdirPrivate(dirname(this.path));
      fd = this.fs.openAppend(this.path);
      writeFully(this.fs, fd, Buffer.from(line(b), 'utf8'));
      this.fs.datasync(fd);
    } catch (err) {
      throw new KnockgateError(
        'KG_STATE_WRITE_FAILED',
        `cannot record a burnt sequence in ${this.path}: ${(err as Error).message}`,
        { cause: err },
      );
    } finally {
      if (fd !== undefined) this.fs.close(fd);
    }
    this.burnt.set(key(door, counter), b);
    for (const [k, old] of this.burnt) if (old.untilUnixMs <= nowUnixMs) this.burnt.delete(k);
    if (++this.appended < REWRITE_AFTER_LINES) return;
    try {
      this.rewrite();
    } catch {
      // The record is durable in the longer file; the next burn tries again.
    }
  }

  private rewrite(): void {
    const tmp = `${this.path}.tmp`;
    let fd: number | undefined;
    try {
      fd = this.fs.openTruncate(tmp);
      writeFully(this.fs, fd, Buffer.from([...this.burnt.values()].map(line).join(''), 'utf8'));
      this.fs.datasync(fd);
      this.fs.close(fd);
      fd = undefined;
      this.fs.rename(tmp, this.path);
      this.fs.syncDir(dirname(this.path));
      this.appended = 0;
    } catch (err) {
      if (fd !== undefined) this.fs.close(fd);
      throw new KnockgateError('KG_STATE_WRITE_FAILED', `cannot rewrite ${this.path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}
