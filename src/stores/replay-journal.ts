/**
 * The local ReplayStore: an append-only journal file plus the in-memory window.
 *
 * Each accepted packet appends one record `EXPIRES_AT_MS KEY CRC\n`, where CRC is the CRC-32 of
 * `EXPIRES_AT_MS KEY` in eight hex digits. Records are group-committed: the admits of one batch of
 * datagrams from the socket or the capture (the binding hands a whole batch to JavaScript in one
 * call, and admit() is called synchronously for each) go in one write that ends with fdatasync,
 * as soon as that batch has been handled (a microtask, not a later phase of the event loop, which
 * would add ~0.1 ms to every grant), so a burst of packets costs a few syncs, not one each. The write and the sync are synchronous calls: ~0.3 ms of blocking, against ~1.3 ms
 * of round trips through libuv's thread pool for the same work, and that time is on the path of
 * every grant. admit() resolves 'fresh' only after its record is on disk, and the daemon grants
 * only after that: a packet accepted once is never accepted again, also after a crash or SIGKILL.
 *
 * What a failing disk cannot do to it (every file operation goes through the JournalFs port):
 *   - a torn record is detected wherever it is (the CRC), and one glued to a fragment is still
 *     found at the end of its line, so a record that was synced is never lost to the bytes before it;
 *   - after a failed or short write the file is cut back to the end of the last good record
 *     (verified with fstat) before anything else is written; if even that fails, the journal
 *     refuses every packet until knockgated restarts (fail closed), rather than append behind a
 *     fragment;
 *   - compaction writes the live records fully to a temporary file, checks its size, syncs it,
 *     renames it over the journal and syncs the directory; a failure before the rename leaves the
 *     old journal in force, a failure after it makes the journal refuse every packet (fatal: which
 *     file holds the truth is then unknown).
 * Records of the earlier format (`EXPIRES_AT_MS KEY`, no CRC) are still read, so an upgrade
 * forgets nothing.
 *
 * A packet whose owner is known (core/replay-window.ts: the client or stanza that authenticated
 * it) is recorded as `EXPIRES_AT_MS KEY OWNER TIMESTAMP_MS CRC` (CRC over all four fields), so that
 * the owner's high-water mark is rebuilt at load: the owned records in the file are all loaded,
 * expired or not, and only then pruned, and compaction keeps every record the window retains.
 *
 * The journal is compacted when it holds more than twice the live keys plus REPLAY_JOURNAL_COMPACT_SLACK_LINES lines,
 * so it stays bounded by the window.
 */

import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { KnockgateError } from '../core/errors.js';
import { REPLAY_JOURNAL_COMPACT_SLACK_LINES, REPLAY_JOURNAL_PRUNE_INTERVAL_MS } from '../core/limits.js';
import { ReplayWindow, type ReplayOwner, type ReplayVerdict } from '../core/replay-window.js';
import type { LocalReplayCache, ReplayStore } from '../ports/replay-store.js';
import { nodeJournalFs, writeFully, type JournalFs } from './journal-fs.js';

const RECORD = /^(\d{1,16}) ([0-9a-f]{1,128}) ([0-9a-f]{8})$/;
const OWNED_RECORD = /^(\d{1,16}) ([0-9a-f]{1,128}) ([0-9a-f]{1,128}) (\d{1,16}) ([0-9a-f]{8})$/;
const LEGACY_RECORD = /^(\d{1,16}) ([0-9a-f]{1,128})$/;
/** A checksummed record at the end of a line that has a fragment glued before it. */
const GLUED_RECORD = /(\d{1,16}) ([0-9a-f]{1,128}) ([0-9a-f]{8})$/;
const GLUED_OWNED_RECORD = /(\d{1,16}) ([0-9a-f]{1,128}) ([0-9a-f]{1,128}) (\d{1,16}) ([0-9a-f]{8})$/;
const HEX = /^[0-9a-f]{1,128}$/;

interface Pending {
  readonly record: string;
  readonly resolve: (v: ReplayVerdict) => void;
  readonly reject: (e: unknown) => void;
}

/** One record line, checksummed; with the owner and timestamp when the packet has an owner. */
export function journalRecord(expiresAtMs: number, key: string, owner?: ReplayOwner): string {
  const body =
    owner === undefined
      ? `${Math.trunc(expiresAtMs)} ${key}`
      : `${Math.trunc(expiresAtMs)} ${key} ${owner.id} ${Math.trunc(owner.timestampMs)}`;
  return `${body} ${checksum(body)}\n`;
}

interface ParsedRecord {
  readonly expiresAtMs: number;
  readonly key: string;
  readonly owner?: ReplayOwner;
}

function checksum(body: string): string {
  return crc32(body).toString(16).padStart(8, '0');
}

/** An owned record at the very start of `text`, if its CRC holds. */
function parseOwned(text: string): ParsedRecord | null {
  const o = OWNED_RECORD.exec(text);
  if (o === null || checksum(`${o[1]} ${o[2]} ${o[3]} ${o[4]}`) !== o[5]) return null;
  return { expiresAtMs: Number(o[1]), key: o[2] as string, owner: { id: o[3] as string, timestampMs: Number(o[4]) } };
}

/** The record a line holds: checksummed, legacy, or checksummed behind a glued fragment. */
function parseLine(text: string): ParsedRecord | null {
  const owned = parseOwned(text);
  if (owned) return owned;
  const m = RECORD.exec(text);
  if (m && checksum(`${m[1]} ${m[2]}`) === m[3]) return { expiresAtMs: Number(m[1]), key: m[2] as string };
  const legacy = LEGACY_RECORD.exec(text);
  if (legacy) return { expiresAtMs: Number(legacy[1]), key: legacy[2] as string };
  // A fragment may end in digits or hex that the pattern would take for the record's own: try
  // every start the pattern allows, shortest fields first, and keep the one whose CRC holds.
  const gluedOwned = GLUED_OWNED_RECORD.exec(text);
  if (gluedOwned) {
    for (let start = gluedOwned.index; start < text.length; start++) {
      const g = parseOwned(text.slice(start));
      if (g) return g;
    }
  }
  const glued = GLUED_RECORD.exec(text);
  if (glued) {
    for (let start = glued.index; start < text.length; start++) {
      const g = RECORD.exec(text.slice(start));
      if (g && checksum(`${g[1]} ${g[2]}`) === g[3]) return { expiresAtMs: Number(g[1]), key: g[2] as string };
    }
  }
  return null;
}

export class ReplayJournal implements ReplayStore {
  private pending: Pending[] = [];
  private flushing = false;
  /** A flush is due at the end of this turn of the event loop. */
  private scheduled = false;
  private lines: number;
  /** When expired keys were last pruned from memory (the window's clock). */
  private prunedAtMs = -Infinity;
  /** Bytes of the file that hold whole, synced records. */
  private goodEnd: number;
  /** Set when the file can no longer be trusted to take a record: every admit is then refused. */
  private broken: KnockgateError | null = null;

  private constructor(
    private readonly path: string,
    private readonly fs: JournalFs,
    private fd: number,
    private readonly window: ReplayWindow,
    private readonly nowMs: () => number,
    lines: number,
    goodEnd: number,
    /** Lines that could not be read at load (torn or foreign). */
    readonly skippedAtLoad: number,
  ) {
    this.lines = lines;
    this.goodEnd = goodEnd;
  }

  /** Opens (creating with mode 0600 in a 0700 directory if needed) and loads the journal. */
  static async open(
    path: string,
    capacity: number,
    nowMs: () => number,
    fs: JournalFs = nodeJournalFs,
    perClientCapacity: number = capacity,
  ): Promise<ReplayJournal> {
    const window = new ReplayWindow(capacity, perClientCapacity);
    let lines = 0;
    let skipped = 0;
    try {
      fs.mkdirPrivate(dirname(path));
      let end = 0;
      let torn = false;
      if (fs.exists(path)) {
        const now = nowMs();
        const bytes = fs.readFile(path);
        // A crash mid-write leaves a torn last line: it is cut off below, so the next record is not
        // glued to it. The cut is found in the bytes, not in decoded text: a file that is not UTF-8
        // decodes to a different length.
        end = bytes.lastIndexOf(0x0a) + 1;
        torn = end < bytes.length;
        if (torn) skipped++;
        for (const text of bytes.toString('utf8', 0, end).split('\n')) {
          if (text === '') continue;
          lines++;
          const r = parseLine(text);
          if (r === null) skipped++;
          else window.restore(r.key, r.expiresAtMs, now, r.owner);
        }
        window.prune(now);
      }
      const fd = fs.openAppend(path);
      if (torn) {
        fs.truncate(fd, end);
        fs.datasync(fd);
      }
      if (fs.size(fd) !== end) throw new Error(`the file is ${fs.size(fd)} bytes after loading ${end}`);
      return new ReplayJournal(path, fs, fd, window, nowMs, lines, end, skipped);
    } catch (err) {
      throw new KnockgateError(
        'KG_STATE_WRITE_FAILED',
        `cannot open the replay journal ${path}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  get size(): number {
    return this.window.size;
  }

  get capacity(): number {
    return this.window.capacity;
  }

  /** Whether `key` is recorded and unexpired (in memory: admitted keys count from admit() on). */
  seen(key: string): boolean {
    return this.window.has(key, this.nowMs());
  }

  /** The port's local cache: the journal's window is the whole truth of a local store. */
  readonly local: LocalReplayCache = { seen: (key) => this.seen(key) };

  admit(key: string, expiresAtMs: number, owner?: ReplayOwner): Promise<ReplayVerdict> {
    if (!HEX.test(key)) return Promise.reject(new Error('replay keys are lower-case hex'));
    if (
      owner !== undefined &&
      (!HEX.test(owner.id) || !Number.isSafeInteger(Math.trunc(owner.timestampMs)) || owner.timestampMs < 0)
    ) {
      return Promise.reject(new Error('replay owners are lower-case hex with a non-negative timestamp'));
    }
    if (this.broken) return Promise.reject(this.broken);
    if (owner !== undefined) owner = { id: owner.id, timestampMs: Math.trunc(owner.timestampMs) };
    const verdict = this.window.admit(key, expiresAtMs, this.nowMs(), owner);
    if (verdict !== 'fresh') return Promise.resolve(verdict);
    return new Promise((resolve, reject) => {
      this.pending.push({ record: journalRecord(expiresAtMs, key, owner), resolve, reject });
      if (!this.flushing && !this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => {
          this.scheduled = false;
          void this.flush();
        });
      }
    });
  }

  async close(): Promise<void> {
    while (this.flushing || this.scheduled) await new Promise((r) => setImmediate(r));
    this.fs.close(this.fd);
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        if (this.broken) {
          for (const p of batch) p.reject(this.broken);
          continue;
        }
        const bytes = Buffer.from(batch.map((p) => p.record).join(''), 'utf8');
        try {
          writeFully(this.fs, this.fd, bytes);
          this.fs.datasync(this.fd);
          this.goodEnd += bytes.length;
          this.lines += batch.length;
          for (const p of batch) p.resolve('fresh');
        } catch (err) {
          const e = new KnockgateError(
            'KG_STATE_WRITE_FAILED',
            `cannot write the replay journal ${this.path}: ${(err as Error).message}`,
            { cause: err },
          );
          for (const p of batch) p.reject(e);
          this.cutBack(e);
        }
        // Once the journal is worth compacting, forget expired keys (at most once a second), so
        // that the test below compares with the live keys, not everything since the last prune.
        const now = this.nowMs();
        if (
          this.lines > REPLAY_JOURNAL_COMPACT_SLACK_LINES &&
          now - this.prunedAtMs >= REPLAY_JOURNAL_PRUNE_INTERVAL_MS
        ) {
          this.window.prune(now);
          this.prunedAtMs = now;
        }
        if (!this.broken && this.lines > 2 * this.window.size + REPLAY_JOURNAL_COMPACT_SLACK_LINES) this.compact();
      }
    } finally {
      this.flushing = false;
    }
  }

  /** After a failed write: cut the file back to its last good record, or refuse from now on. */
  private cutBack(cause: KnockgateError): void {
    try {
      this.fs.truncate(this.fd, this.goodEnd);
      this.fs.datasync(this.fd);
      const size = this.fs.size(this.fd);
      if (size !== this.goodEnd) throw new Error(`the file is ${size} bytes, expected ${this.goodEnd}`);
    } catch (err) {
      this.broken = new KnockgateError(
        'KG_STATE_WRITE_FAILED',
        `the replay journal ${this.path} could not be cut back after a failed write (${cause.message}; then ${(err as Error).message}): every SPA packet is refused until knockgated restarts`,
        { cause: err },
      );
    }
  }

  private compact(): void {
    const now = this.nowMs();
    this.window.prune(now);
    const tmp = `${this.path}.compact`;
    let live = 0;
    const records: string[] = [];
    for (const [key, expiry, owner, timestampMs] of this.window.entries(now)) {
      records.push(
        journalRecord(expiry, key, owner === undefined ? undefined : { id: owner, timestampMs: timestampMs ?? 0 }),
      );
      live++;
    }
    const body = Buffer.from(records.join(''), 'utf8');
    // Before the rename: a failure leaves the old journal, complete and correct, in force.
    try {
      const out = this.fs.openTruncate(tmp);
      try {
        writeFully(this.fs, out, body);
        const size = this.fs.size(out);
        if (size !== body.length) throw new Error(`wrote ${size} of ${body.length} bytes`);
        this.fs.datasync(out);
      } finally {
        this.fs.close(out);
      }
    } catch {
      try {
        this.fs.unlink(tmp);
      } catch {
        // nothing to remove
      }
      return;
    }
    // After the rename, the compacted file is the journal: any failure is fatal.
    try {
      this.fs.rename(tmp, this.path);
      this.fs.syncDir(dirname(this.path));
      const fd = this.fs.openAppend(this.path);
      const size = this.fs.size(fd);
      if (size !== body.length) throw new Error(`the compacted journal is ${size} bytes, expected ${body.length}`);
      const old = this.fd;
      this.fd = fd;
      this.fs.close(old);
      this.goodEnd = body.length;
      this.lines = live;
    } catch (err) {
      this.broken = new KnockgateError(
        'KG_STATE_WRITE_FAILED',
        `compacting the replay journal ${this.path} failed after the rename (${(err as Error).message}): every SPA packet is refused until knockgated restarts`,
        { cause: err },
      );
    }
  }
}
