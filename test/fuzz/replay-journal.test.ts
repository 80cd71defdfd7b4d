// Invariant: ReplayJournal.open, on any journal that is UTF-8 text, never throws; it cuts the file to its last complete line (a byte prefix), remembers every well-formed unexpired record `EXPIRES_AT_MS KEY`, skips at most the lines it could not read, and a key admitted afterwards is still remembered after close and reopen (no record is lost to what the file held before).
/**
 * Fuzz target for the replay journal's line parsing, src/stores/replay-journal.ts. The parsing is
 * inside ReplayJournal.open (no pure function is exported), so every input is written to a journal
 * file first; on tmpfs (/dev/shm) when there is one, so that fdatasync costs nothing.
 *
 * A journal that is not UTF-8 is covered by the regression test below.
 */

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplayJournal } from '../../src/stores/replay-journal.js';
import { fuzzIn, testTimeoutMs } from './harness.js';

function tempDir(): string {
  try {
    return mkdtempSync(join('/dev/shm', 'knockgate-fuzz-journal-'));
  } catch {
    return mkdtempSync(join(tmpdir(), 'knockgate-fuzz-journal-'));
  }
}
const DIR = tempDir();
after(() => rmSync(DIR, { recursive: true, force: true }));
const FILE = join(DIR, 'replay.journal');
const NOW_MS = 1_700_000_000_000;
const CAPACITY = 100_000;
/** The record format, from the file's contract: `EXPIRES_AT_MS KEY`, decimal and lower-case hex. */
const RECORD = /^(\d{1,16}) ([0-9a-f]{1,128})$/;
const FRESH_KEY = `${'f'.repeat(63)}0`;

/** Valid UTF-8 only: invalid sequences become U+FFFD, as a UTF-8 decoder reads them (the regression test covers the rest). */
const asUtf8 = (b: Uint8Array): Buffer =>
  Buffer.from(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8'), 'utf8');

async function checkJournal(input: Uint8Array): Promise<string> {
  const bytes = asUtf8(input);
  writeFileSync(FILE, bytes, { mode: 0o600 });
  const j = await ReplayJournal.open(FILE, CAPACITY, () => NOW_MS);
  let torn: boolean;
  let key = FRESH_KEY;
  try {
    const end = bytes.lastIndexOf(0x0a) + 1;
    torn = end < bytes.length;
    assert.deepEqual(readFileSync(FILE), bytes.subarray(0, end), 'the journal was not cut to its last complete line');
    const lines = bytes
      .subarray(0, end)
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '');
    assert.ok(j.skippedAtLoad <= lines.length + (torn ? 1 : 0), `skipped ${j.skippedAtLoad} of ${lines.length} lines`);
    for (const l of lines) {
      const m = RECORD.exec(l);
      if (m && Number(m[1]) > NOW_MS) assert.ok(j.seen(m[2] as string), `record ${l} not remembered`);
    }
    if (lines.some((l) => l.endsWith(` ${FRESH_KEY}`))) key = '0'.repeat(64);
    const verdict = await j.admit(key, NOW_MS + 60_000);
    if (verdict !== 'fresh') return verdict;
  } finally {
    await j.close();
  }
  const again = await ReplayJournal.open(FILE, CAPACITY, () => NOW_MS);
  try {
    assert.ok(again.seen(key), 'REPLAY: a key admitted and synced is forgotten after reopening');
    assert.equal(again.skippedAtLoad, j.skippedAtLoad - (torn ? 1 : 0), 'the new record made another line unreadable');
  } finally {
    await again.close();
  }
  return `ok:skipped${Math.min(j.skippedAtLoad, 3)}:${torn ? 'torn' : 'whole'}:${j.size > 0 ? 'live' : 'empty'}`;
}

describe('fuzz: replay journal lines (src/stores/replay-journal.ts)', () => {
  it('replay-journal', { timeout: testTimeoutMs() }, async (t) => {
    await fuzzIn(t, {
      name: 'replay-journal',
      kind: 'text',
      maxBytes: 4_096,
      dictionary: [
        '\n',
        ' ',
        '0',
        '9999999999999999',
        '99999999999999999',
        '1700000000001',
        'abcdef',
        'ABCDEF',
        'f'.repeat(128),
        'f'.repeat(129),
        '\u00e9',
      ],
      check: checkJournal,
    });
  });

  it('regression: a torn last line that is not UTF-8 is cut at the byte, and the next record survives a restart', async () => {
    writeFileSync(FILE, Uint8Array.from([0xff, 0xff, 0xff, 0x0a, 0x31]), { mode: 0o600 });
    const j = await ReplayJournal.open(FILE, CAPACITY, () => NOW_MS);
    await j.admit(FRESH_KEY, NOW_MS + 60_000);
    await j.close();
    const again = await ReplayJournal.open(FILE, CAPACITY, () => NOW_MS);
    const seen = again.seen(FRESH_KEY);
    await again.close();
    assert.ok(seen, `REPLAY: the record was glued to the torn line: ${JSON.stringify(readFileSync(FILE, 'latin1'))}`);
  });
});
