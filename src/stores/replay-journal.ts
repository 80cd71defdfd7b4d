/**
 * The local ReplayStore: an append-only journal file plus the in-memory window.
 *
 * Each accepted packet appends one line `EXPIRES_AT_MS KEY\n`. Records are group-committed: the
 * admits of one turn of the event loop (one batch of datagrams from the socket or the capture) go
 * in one write that ends with fdatasync, right after that turn (setImmediate), so a burst of
 * packets costs a few syncs, not one each. The write and the sync are synchronous calls: ~0.3 ms
 * of blocking, against ~1.3 ms of round trips through libuv's thread pool for the same work, and
 * that time is on the path of every grant. admit() resolves 'fresh' only
 * after its line is on disk, and the daemon grants only after that: a packet accepted once is
 * never accepted again, also after a crash or SIGKILL. A torn last line (a crash mid-write) is
 * skipped at load; its packet was never granted, so nothing is lost that mattered.
 *
 * The journal is compacted (live lines rewritten to a temporary file, synced, renamed over) when it
 * holds more than twice the live keys plus COMPACT_SLACK lines, so it stays bounded by the window.
 */

import { existsSync, fdatasyncSync, mkdirSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KnockgateError } from '../core/errors.js';
import { ReplayWindow, type ReplayVerdict } from '../core/replay-window.js';
import type { ReplayStore } from '../ports/replay-store.js';

const COMPACT_SLACK_LINES = 10_000;
const LINE = /^(\d{1,16}) ([0-9a-f]{1,128})$/;

interface Pending {
  readonly line: string;
  readonly resolve: (v: ReplayVerdict) => void;
  readonly reject: (e: unknown) => void;
}

export class ReplayJournal implements ReplayStore {
  private pending: Pending[] = [];
  private flushing = false;
  /** A flush is due at the end of this turn of the event loop. */
  private scheduled = false;
  private lines: number;
  /** When expired keys were last pruned from memory (the window's clock). */
  private prunedAtMs = -Infinity;

  private constructor(
    private readonly path: string,
    private handle: FileHandle,
    private readonly window: ReplayWindow,
    private readonly nowMs: () => number,
    lines: number,
    /** Lines that could not be read at load (torn or foreign). */
    readonly skippedAtLoad: number,
  ) {
    this.lines = lines;
  }

  /** Opens (creating with mode 0600 in a 0700 directory if needed) and loads the journal. */
  static async open(path: string, capacity: number, nowMs: () => number): Promise<ReplayJournal> {
    const window = new ReplayWindow(capacity);
    let lines = 0;
    let skipped = 0;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      if (existsSync(path)) {
        const now = nowMs();
        const bytes = readFileSync(path);
        // A crash mid-write leaves a torn last line: cut it off, or the next record would be glued
        // to it and become unreadable itself. The cut is found in the bytes, not in decoded text:
        // a file that is not UTF-8 decodes to a different length.
        const end = bytes.lastIndexOf(0x0a) + 1;
        if (end < bytes.length) {
          truncateSync(path, end);
          skipped++;
        }
        for (const text of bytes.toString('utf8', 0, end).split('\n')) {
          if (text === '') continue;
          lines++;
          const m = LINE.exec(text);
          if (!m) {
            skipped++;
            continue;
          }
          window.restore(m[2] as string, Number(m[1]), now);
        }
      }
      const handle = await open(path, 'a', 0o600);
      return new ReplayJournal(path, handle, window, nowMs, lines, skipped);
    } catch (err) {
      throw new KnockgateError('KG_STATE_WRITE_FAILED', `cannot open the replay journal ${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  get size(): number {
    return this.window.size;
  }

  seen(key: string): boolean {
    return this.window.has(key, this.nowMs());
  }

  admit(key: string, expiresAtMs: number): Promise<ReplayVerdict> {
    if (!/^[0-9a-f]{1,128}$/.test(key)) return Promise.reject(new Error('replay keys are lower-case hex'));
    const verdict = this.window.admit(key, expiresAtMs, this.nowMs());
    if (verdict !== 'fresh') return Promise.resolve(verdict);
    return new Promise((resolve, reject) => {
      this.pending.push({ line: `${Math.trunc(expiresAtMs)} ${key}\n`, resolve, reject });
      if (!this.flushing && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          void this.flush();
        });
      }
    });
  }

  async close(): Promise<void> {
    while (this.flushing || this.scheduled) await new Promise((r) => setImmediate(r));
    await this.handle.close();
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        try {
          writeAllSync(this.handle.fd, Buffer.from(batch.map((p) => p.line).join(''), 'utf8'));
          fdatasyncSync(this.handle.fd);
          this.lines += batch.length;
          for (const p of batch) p.resolve('fresh');
        } catch (err) {
          const e = new KnockgateError('KG_STATE_WRITE_FAILED', `cannot write the replay journal ${this.path}: ${(err as Error).message}`, { cause: err });
          for (const p of batch) p.reject(e);
        }
        // Once the journal is worth compacting, forget expired keys (at most once a second), so
        // that the test below compares with the live keys, not everything since the last prune.
        const now = this.nowMs();
        if (this.lines > COMPACT_SLACK_LINES && now - this.prunedAtMs >= 1000) {
          this.window.prune(now);
          this.prunedAtMs = now;
        }
        if (this.lines > 2 * this.window.size + COMPACT_SLACK_LINES) await this.compact();
      }
    } finally {
      this.flushing = false;
    }
  }

  private async compact(): Promise<void> {
    const now = this.nowMs();
    this.window.prune(now);
    const tmp = `${this.path}.compact`;
    let live = 0;
    let body = '';
    for (const [key, expiry] of this.window.entries(now)) {
      body += `${expiry} ${key}\n`;
      live++;
    }
    try {
      const out = await open(tmp, 'w', 0o600);
      try {
        await out.write(body);
        await out.datasync();
      } finally {
        await out.close();
      }
      await rename(tmp, this.path);
      const dir = await open(dirname(this.path), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
      const old = this.handle;
      this.handle = await open(this.path, 'a', 0o600);
      await old.close();
      this.lines = live;
    } catch {
      // Compaction is an optimisation: the old journal is still complete and correct.
    }
  }
}

function writeAllSync(fd: number, bytes: Buffer): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done);
}
