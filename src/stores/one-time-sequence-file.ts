/**
 * A one-time sequence file on disk (format: core/one-time-sequences.ts). The current sequence is
 * the first unused line. markUsed() writes `#` over the line's first byte and fsyncs before it
 * returns: a sequence is burnt on disk before the grant it buys is made, so a crash can lose a
 * sequence but never let one be used twice. If the file was edited under us, the grant is refused
 * and the file re-read, rather than burning a byte that now belongs to another line.
 */

import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { readTrustedFile } from '../config/trusted-file.js';
import { ConfigError, KnockgateError } from '../core/errors.js';
import { formatEndpoint } from '../core/endpoint.js';
import { MAX_ONE_TIME_SEQUENCE_FILE_BYTES } from '../core/limits.js';
import { parseOneTimeSequenceBytes, type OneTimeSequence } from '../core/one-time-sequences.js';
import type { OneTimeSequenceStore } from '../ports/one-time-sequences.js';

function readUnused(path: string): OneTimeSequence[] {
  // Owner, writability and directories: trusted-file.ts (an editable file is a free sequence).
  const { data: bytes, stat: st } = readTrustedFile(path, {
    maxBytes: MAX_ONE_TIME_SEQUENCE_FILE_BYTES,
    what: 'cannot read one-time sequences',
  });
  if ((st.mode & 0o004) !== 0)
    throw new ConfigError(
      path,
      undefined,
      undefined,
      'one-time sequences are secrets: the file must not be world-readable (chmod 600)',
    );
  const parsed = parseOneTimeSequenceBytes(bytes);
  if (!parsed.ok) throw new ConfigError(path, parsed.line, undefined, parsed.error);
  return [...parsed.unused];
}

const sameSteps = (a: OneTimeSequence, b: OneTimeSequence): boolean =>
  a.steps.map(formatEndpoint).join(',') === b.steps.map(formatEndpoint).join(',');

export class OneTimeSequenceFile implements OneTimeSequenceStore {
  private constructor(
    readonly path: string,
    private unused: OneTimeSequence[],
  ) {}

  /** Reads and checks the file; throws ConfigError naming the line of a bad sequence. */
  static load(path: string): OneTimeSequenceFile {
    return new OneTimeSequenceFile(path, readUnused(path));
  }

  /** The sequence in force, or null when every line is used. */
  current(): OneTimeSequence | null {
    return this.unused[0] ?? null;
  }

  remaining(): number {
    return this.unused.length;
  }

  /** The unused sequences, in order (a dry run copies them into memory). */
  unusedSequences(): readonly OneTimeSequence[] {
    return [...this.unused];
  }

  /**
   * Burns the current sequence on disk (durably) and moves to the next one. Throws
   * KG_STATE_WRITE_FAILED when it cannot, in which case no grant may be made.
   */
  markUsed(seq: OneTimeSequence): void {
    if (this.unused[0] !== seq) throw new Error('markUsed: not the current sequence');
    let onDisk: OneTimeSequence[];
    try {
      onDisk = readUnused(this.path);
    } catch (err) {
      throw new KnockgateError('KG_STATE_WRITE_FAILED', `cannot re-read ${this.path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const match = onDisk.find((s) => s.offset === seq.offset && sameSteps(s, seq));
    if (match === undefined) {
      this.unused = onDisk;
      throw new KnockgateError(
        'KG_STATE_WRITE_FAILED',
        `${this.path} changed on disk; re-read it, the knock is not honoured`,
      );
    }
    let fd: number | undefined;
    try {
      fd = openSync(this.path, 'r+');
      writeSync(fd, '#', seq.offset, 'utf8');
      fsyncSync(fd);
    } catch (err) {
      throw new KnockgateError(
        'KG_STATE_WRITE_FAILED',
        `cannot mark a one-time sequence used in ${this.path}: ${(err as Error).message}`,
        { cause: err },
      );
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    this.unused = onDisk.filter((s) => s !== match);
  }
}
