/**
 * The pending stop commands file (ports/pending-commands.ts): one JSON document holding every
 * record, rewritten whole on each change: a temporary file (0600, in a 0700 directory) is written
 * fully, fsynced, renamed over the old one, and the directory is fsynced, so after a crash the file
 * is either the old or the new list, never a mix. Any failure throws KG_STATE_WRITE_FAILED and the
 * in-memory list is left as it was on disk.
 *
 * A file that exists but cannot be parsed is a clear error at load (KG_STATE_WRITE_FAILED naming
 * the file), never treated as empty: an empty list would silently forget stop commands that must
 * still run. The operator inspects it (it holds argv lists) and removes or fixes it. A file (or a
 * directory leading to it) that another user owns or could write is a ConfigError at open
 * (trusted-file.ts): its records would be commands run as root.
 */

import {
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { checkTrustedDirectories, readTrustedFile } from '../config/trusted-file.js';
import { dirname } from 'node:path';
import { KnockgateError } from '../core/errors.js';
import type { PendingCommand, PendingCommandStore } from '../ports/pending-commands.js';

const FORMAT = 'knockgate-pending-commands/1';

export class PendingCommandsFile implements PendingCommandStore {
  private records: PendingCommand[];

  private constructor(
    readonly path: string,
    records: PendingCommand[],
  ) {
    this.records = records;
  }

  /** Reads the file (absent: an empty list). Throws on an unreadable or malformed file. */
  static open(path: string): PendingCommandsFile {
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new KnockgateError(
        'KG_STATE_WRITE_FAILED',
        `cannot create the directory of ${path}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    // The records are argv lists run as root: the file and its directories must be trusted
    // (trusted-file.ts), also before the first record is written there (ConfigError otherwise).
    checkTrustedDirectories(path);
    if (!existsSync(path)) return new PendingCommandsFile(path, []);
    const text = readTrustedFile(path, { what: 'cannot read the pending stop commands' }).data.toString('utf8');
    return new PendingCommandsFile(path, parseRecords(path, text));
  }

  list(): readonly PendingCommand[] {
    return [...this.records];
  }

  put(record: PendingCommand): void {
    const next = this.records.filter((r) => r.id !== record.id);
    next.push(record);
    this.write(next);
  }

  remove(id: string): void {
    if (!this.records.some((r) => r.id === id)) return;
    this.write(this.records.filter((r) => r.id !== id));
  }

  private write(next: PendingCommand[]): void {
    const tmp = `${this.path}.tmp`;
    const data = Buffer.from(`${JSON.stringify({ format: FORMAT, pending: next })}\n`, 'utf8');
    let fd: number | undefined;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
      renameSync(tmp, this.path);
      const dir = openSync(dirname(this.path), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      try {
        unlinkSync(tmp);
      } catch {
        /* already gone or renamed */
      }
      throw new KnockgateError(
        'KG_STATE_WRITE_FAILED',
        `cannot write the pending stop commands ${this.path}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    this.records = next;
  }
}

function parseRecords(path: string, text: string): PendingCommand[] {
  const bad = (why: string): never => {
    throw new KnockgateError(
      'KG_STATE_WRITE_FAILED',
      `${path}: the pending stop commands file is malformed (${why}); inspect it, then fix or remove it`,
    );
  };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return bad((err as Error).message);
  }
  if (typeof doc !== 'object' || doc === null || (doc as { format?: unknown }).format !== FORMAT)
    return bad(`not a ${FORMAT} document`);
  const pending = (doc as { pending?: unknown }).pending;
  if (!Array.isArray(pending)) return bad('no "pending" list');
  return pending.map((r: unknown, i): PendingCommand => {
    const o = r as Record<string, unknown>;
    const ok =
      typeof o === 'object' &&
      o !== null &&
      typeof o.id === 'string' &&
      typeof o.door === 'string' &&
      (o.which === 'stop4' || o.which === 'stop6' || o.which === 'stop_command' || o.which === 'cmd_cycle_close') &&
      typeof o.source === 'string' &&
      (o.family === 4 || o.family === 6) &&
      Number.isSafeInteger(o.dueUnixMs) &&
      Number.isSafeInteger(o.timeoutMs) &&
      (o.timeoutMs as number) > 0 &&
      Array.isArray(o.argv) &&
      o.argv.length > 0 &&
      o.argv.every((a) => typeof a === 'string');
    if (!ok) return bad(`record ${i} is incomplete`);
    return Object.freeze({
      id: o.id as string,
      door: o.door as string,
      which: o.which as PendingCommand['which'],
      source: o.source as string,
      family: o.family as 4 | 6,
      dueUnixMs: o.dueUnixMs as number,
      argv: Object.freeze([...(o.argv as string[])]),
      timeoutMs: o.timeoutMs as number,
    });
  });
}
