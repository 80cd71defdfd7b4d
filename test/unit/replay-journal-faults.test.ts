/**
 * Covers src/stores/replay-journal.ts against a failing disk (test/support/faulty-journal-fs.ts
 * injects the faults into real files): a record that was synced is never lost, whatever came
 * before it in the file, and a failure the journal cannot repair makes it refuse packets (issue
 * "Every promise holds at the edges", items 13 and 14).
 */

import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { journalRecord, ReplayJournal } from '../../src/stores/replay-journal.js';
import { FaultyJournalFs } from '../support/faulty-journal-fs.js';

const T0 = 1_790_000_000_000;
const keyOf = (i: number): string => i.toString(16).padStart(64, '0');

describe('replay journal on a failing disk', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kg-journal-faults-'));
    file = join(dir, 'replay.journal');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a write torn by ENOSPC is cut back: the next good record survives a restart, nothing is skipped', async () => {
    for (const code of ['ENOSPC', 'EIO']) {
      rmSync(file, { force: true });
      const fs = new FaultyJournalFs();
      fs.failWriteCode = code;
      const j = await ReplayJournal.open(file, 1000, () => T0, fs);
      assert.equal(await j.admit('aa01', T0 + 60_000), 'fresh');
      fs.tearNextWriteAt = 7;
      await assert.rejects(j.admit('aa02', T0 + 60_000), /cannot write the replay journal/);
      assert.equal(await j.admit('aa03', T0 + 60_000), 'fresh');
      await j.close();
      assert.equal(
        readFileSync(file, 'utf8'),
        journalRecord(T0 + 60_000, 'aa01') + journalRecord(T0 + 60_000, 'aa03'),
        'the fragment was not cut back',
      );
      const again = await ReplayJournal.open(file, 1000, () => T0);
      try {
        assert.ok(again.seen('aa01'));
        assert.ok(
          again.seen('aa03'),
          `REPLAY after ${code}: the synced record was glued to the fragment: ${JSON.stringify(readFileSync(file, 'utf8'))}`,
        );
        assert.equal(again.skippedAtLoad, 0, 'the fragment is still in the file');
      } finally {
        await again.close();
      }
    }
  });

  it('when the cut itself fails, every later packet is refused until restart (nothing appended behind a fragment)', async () => {
    const fs = new FaultyJournalFs();
    const j = await ReplayJournal.open(file, 1000, () => T0, fs);
    fs.tearNextWriteAt = 5;
    fs.failTruncate = true;
    await assert.rejects(j.admit('bb01', T0 + 60_000), /cannot write/);
    const sizeAfterFault = readFileSync(file).length;
    await assert.rejects(j.admit('bb02', T0 + 60_000), /refused until knockgated restarts/);
    assert.equal(readFileSync(file).length, sizeAfterFault, 'a record was appended behind the fragment');
    await j.close();
  });

  it('a checksummed record glued behind a fragment (from a version without the cut) is still read; a corrupted one is not', async () => {
    mkdirSync(dir, { recursive: true });
    const good = journalRecord(T0 + 60_000, 'cc03');
    const corrupted = journalRecord(T0 + 60_000, 'cc04').replace('cc04', 'cc05');
    writeFileSync(file, `${T0 + 60_000} cc0${journalRecord(T0 + 60_000, 'cc01')}17${good}${corrupted}`);
    const j = await ReplayJournal.open(file, 1000, () => T0);
    try {
      assert.ok(j.seen('cc01'), 'record behind a fragment of digits and hex');
      assert.ok(j.seen('cc03'), 'record behind a fragment of digits');
      assert.ok(!j.seen('cc05') && !j.seen('cc04'), 'a record whose CRC does not match was trusted');
      assert.equal(j.skippedAtLoad, 1);
    } finally {
      await j.close();
    }
  });

  /** Fills a journal so that the next admit compacts it (lines > 2 × live + 10 000). */
  async function nearCompaction(fs: FaultyJournalFs, live: number) {
    let now = T0;
    const j = await ReplayJournal.open(file, 20_000, () => now, fs);
    const liveKeys = Array.from({ length: live }, (_, i) => keyOf(1_000_000 + i));
    await Promise.all(liveKeys.map((k) => j.admit(k, T0 + 600_000)));
    await Promise.all(Array.from({ length: 10_300 }, (_, i) => j.admit(keyOf(i), T0 + 1_000)));
    now = T0 + 2_000; // the short keys expire
    return { j, liveKeys };
  }

  it('compaction with short writes keeps every live record (writes are looped and the size checked)', async () => {
    const fs = new FaultyJournalFs();
    const { j, liveKeys } = await nearCompaction(fs, 200);
    fs.maxBytesPerWrite = 4_096;
    assert.equal(await j.admit('cafe', T0 + 600_000), 'fresh');
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    await j.close();
    assert.ok(readFileSync(file).length < 300 * 110, `not compacted: ${readFileSync(file).length} bytes`);
    const again = await ReplayJournal.open(file, 20_000, () => T0 + 2_000);
    try {
      const lost = [...liveKeys, 'cafe'].filter((k) => !again.seen(k));
      assert.equal(lost.length, 0, `${lost.length} of ${liveKeys.length + 1} live records forgotten by compaction`);
    } finally {
      await again.close();
    }
  });

  it('compaction that runs out of space before the rename leaves the old journal in force, complete', async () => {
    const fs = new FaultyJournalFs();
    const { j, liveKeys } = await nearCompaction(fs, 200);
    fs.failWritesTo = '.compact';
    assert.equal(await j.admit('cafe', T0 + 600_000), 'fresh');
    assert.equal(await j.admit('d00d', T0 + 600_000), 'fresh', 'the journal stopped taking records');
    await j.close();
    assert.ok(fs.refusedWrites > 0, 'compaction was not attempted');
    assert.ok(!existsSync(`${file}.compact`), 'temporary file left behind');
    const again = await ReplayJournal.open(file, 20_000, () => T0 + 2_000);
    try {
      assert.equal([...liveKeys, 'cafe', 'd00d'].filter((k) => !again.seen(k)).length, 0);
    } finally {
      await again.close();
    }
  });

  it('a failure after the rename (directory sync) is fatal: every later packet is refused, none is granted on an unknown file', async () => {
    const fs = new FaultyJournalFs();
    const { j } = await nearCompaction(fs, 10);
    fs.failSyncDir = true;
    assert.equal(await j.admit('cafe', T0 + 600_000), 'fresh'); // its record was synced before compaction
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    await assert.rejects(j.admit('d00d', T0 + 600_000), /after the rename.*refused until knockgated restarts/);
    await j.close();
  });
});
