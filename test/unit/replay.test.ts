/**
 * Covers the SPA replay store (rung 8 of docs/protocol.md):
 *   src/core/replay-window.ts   ReplayWindow: fresh / replayed / expired-then-fresh, capacity ('full'
 *                               only when every entry is live; expired ones are pruned to make room),
 *                               restore() skipping expired keys, prune(), entries()
 *   src/stores/replay-journal.ts ReplayJournal (temp dirs): a 'fresh' line is on disk when admit
 *                               resolves; a reopen (restart) answers 'replayed' for keys admitted
 *                               before and 'fresh' once they expired; group commit under 200
 *                               concurrent admits; same key twice concurrently; torn and garbage
 *                               lines skipped and counted; mode 0600; compaction; non-hex keys refused.
 * Properties state their invariant in the first line of their description.
 */

import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ReplayWindow } from '../../src/core/replay-window.js';
import { ReplayJournal } from '../../src/stores/replay-journal.js';

const T0 = 1_767_225_600_000;

/** A clock the test moves by hand. */
function clock(start = T0): { now: () => number; set: (t: number) => void; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, set: (v) => (t = v), advance: (ms) => (t += ms) };
}

const keyOf = (i: number): string => i.toString(16).padStart(64, '0');
/** The records of a journal as `EXPIRES KEY`, each checked to carry its CRC-32 (the record format). */
const linesOf = (file: string): string[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const m = /^(\d+ [0-9a-f]+) ([0-9a-f]{8})$/.exec(l);
      if (
        m &&
        crc32(m[1] as string)
          .toString(16)
          .padStart(8, '0') === m[2]
      )
        return m[1] as string;
      return l; // a legacy or foreign line, as it is
    });

// ---------------------------------------------------------------------------------------------

describe('ReplayWindow', () => {
  it('fresh, then replayed while live, then fresh again once expired', () => {
    const w = new ReplayWindow(10);
    assert.equal(w.admit('aa', T0 + 1000, T0), 'fresh');
    assert.equal(w.admit('aa', T0 + 1000, T0 + 1), 'replayed');
    assert.equal(w.admit('aa', T0 + 1000, T0 + 999), 'replayed');
    // Expiry is exclusive: at expiresAt the key is gone.
    assert.equal(w.admit('aa', T0 + 5000, T0 + 1000), 'fresh');
    assert.equal(w.admit('aa', T0 + 5000, T0 + 4999), 'replayed');
    assert.equal(w.size, 1);
  });

  it('distinct keys are independent', () => {
    const w = new ReplayWindow(10);
    assert.equal(w.admit('aa', T0 + 1000, T0), 'fresh');
    assert.equal(w.admit('ab', T0 + 1000, T0), 'fresh');
    assert.equal(w.size, 2);
  });

  it('at capacity with every entry live, a new key is "full" and not recorded', () => {
    const w = new ReplayWindow(3);
    for (const k of ['01', '02', '03']) assert.equal(w.admit(k, T0 + 1000, T0), 'fresh');
    assert.equal(w.admit('04', T0 + 1000, T0 + 10), 'full');
    assert.equal(w.size, 3);
    // A key already present is still answered 'replayed', not 'full'.
    assert.equal(w.admit('02', T0 + 1000, T0 + 10), 'replayed');
    // '04' was not recorded: still full, not replayed.
    assert.equal(w.admit('04', T0 + 1000, T0 + 20), 'full');
  });

  it('at capacity, expired entries are pruned to make room; live ones are kept', () => {
    const w = new ReplayWindow(3);
    assert.equal(w.admit('01', T0 + 100, T0), 'fresh');
    assert.equal(w.admit('02', T0 + 5000, T0), 'fresh');
    assert.equal(w.admit('03', T0 + 5000, T0), 'fresh');
    assert.equal(w.admit('04', T0 + 5000, T0 + 100), 'fresh'); // '01' expired at T0 + 100
    assert.equal(w.size, 3);
    assert.equal(w.admit('02', T0 + 5000, T0 + 200), 'replayed');
    assert.equal(w.admit('04', T0 + 5000, T0 + 200), 'replayed');
    assert.equal(w.admit('05', T0 + 5000, T0 + 200), 'full');
  });

  it('an expired key re-admitted at capacity is fresh (it replaces itself)', () => {
    const w = new ReplayWindow(2);
    w.admit('01', T0 + 100, T0);
    w.admit('02', T0 + 5000, T0);
    assert.equal(w.admit('01', T0 + 5000, T0 + 100), 'fresh');
    assert.equal(w.size, 2);
  });

  it('restore() loads live keys and skips expired ones', () => {
    const w = new ReplayWindow(10);
    w.restore('aa', T0 + 1000, T0);
    w.restore('bb', T0, T0); // expires exactly now: skipped
    w.restore('cc', T0 - 1, T0);
    assert.equal(w.size, 1);
    assert.equal(w.admit('aa', T0 + 1000, T0 + 1), 'replayed');
    assert.equal(w.admit('bb', T0 + 1000, T0 + 1), 'fresh');
    assert.equal(w.admit('cc', T0 + 1000, T0 + 1), 'fresh');
  });

  it('restore() of a key twice keeps the later expiry', () => {
    const w = new ReplayWindow(10);
    w.restore('aa', T0 + 5000, T0);
    w.restore('aa', T0 + 1000, T0);
    assert.equal(w.admit('aa', T0 + 9000, T0 + 2000), 'replayed');
  });

  it('prune() forgets exactly the expired keys and entries() lists only live ones', () => {
    const w = new ReplayWindow(10);
    w.admit('01', T0 + 100, T0);
    w.admit('02', T0 + 200, T0);
    w.admit('03', T0 + 300, T0);
    assert.deepEqual([...w.entries(T0 + 200)], [['03', T0 + 300]]);
    assert.equal(w.prune(T0 + 200), 2);
    assert.equal(w.size, 1);
    assert.equal(w.prune(T0 + 200), 0);
  });

  it('a live key is always "replayed"; any other key is "full" exactly when capacity live keys are held, else "fresh" (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            key: fc.constantFrom('01', '02', '03', '04', '05'),
            ttl: fc.integer({ min: 1, max: 1000 }),
            step: fc.integer({ min: 0, max: 300 }),
          }),
          { maxLength: 60 },
        ),
        (ops) => {
          const w = new ReplayWindow(3);
          const model = new Map<string, number>(); // live expiries per the spec
          let now = T0;
          for (const { key, ttl, step } of ops) {
            now += step;
            const v = w.admit(key, now + ttl, now);
            const seen = model.get(key);
            if (seen !== undefined && seen > now) {
              assert.equal(v, 'replayed');
              continue;
            }
            const live = [...model.values()].filter((e) => e > now).length;
            if (live >= 3) {
              assert.equal(v, 'full');
              continue;
            }
            assert.equal(v, 'fresh');
            model.set(key, now + ttl);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('ReplayJournal', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'knockgate-replay-'));
    file = join(dir, 'state', 'replay.journal');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('admit resolves "fresh" only once its line is on disk', async () => {
    const j = await ReplayJournal.open(file, 1000, clock().now);
    try {
      assert.equal(await j.admit('abcd', T0 + 120_000), 'fresh');
      assert.deepEqual(linesOf(file), [`${T0 + 120_000} abcd`]);
      assert.equal(await j.admit('0123', T0 + 60_000.7), 'fresh');
      assert.deepEqual(linesOf(file), [`${T0 + 120_000} abcd`, `${T0 + 60_000} 0123`]);
      assert.equal(j.size, 2);
    } finally {
      await j.close();
    }
  });

  it('a replayed key resolves "replayed" and writes nothing', async () => {
    const j = await ReplayJournal.open(file, 1000, clock().now);
    try {
      assert.equal(await j.admit('abcd', T0 + 1000), 'fresh');
      assert.equal(await j.admit('abcd', T0 + 1000), 'replayed');
      assert.equal(linesOf(file).length, 1);
    } finally {
      await j.close();
    }
  });

  it('creates the file with mode 0600 (and its missing directory)', async () => {
    const j = await ReplayJournal.open(file, 1000, clock().now);
    try {
      assert.ok(existsSync(file));
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, 'state')).mode & 0o077, 0, 'the directory is not open to group or others');
    } finally {
      await j.close();
    }
  });

  it('after a restart, keys admitted before are "replayed"; once expired they are "fresh"', async () => {
    const c = clock();
    const first = await ReplayJournal.open(file, 1000, c.now);
    assert.equal(await first.admit('aa01', T0 + 10_000), 'fresh');
    assert.equal(await first.admit('aa02', T0 + 60_000), 'fresh');
    await first.close();

    c.set(T0 + 5_000);
    const second = await ReplayJournal.open(file, 1000, c.now);
    try {
      assert.equal(second.skippedAtLoad, 0);
      assert.equal(second.size, 2);
      assert.equal(await second.admit('aa01', T0 + 10_000), 'replayed');
      assert.equal(await second.admit('aa02', T0 + 60_000), 'replayed');
    } finally {
      await second.close();
    }

    c.set(T0 + 10_000); // aa01 has expired, aa02 has not
    const third = await ReplayJournal.open(file, 1000, c.now);
    try {
      assert.equal(third.size, 1);
      assert.equal(await third.admit('aa01', T0 + 70_000), 'fresh');
      assert.equal(await third.admit('aa02', T0 + 60_000), 'replayed');
    } finally {
      await third.close();
    }
  });

  it('200 concurrent admits all resolve "fresh", the file holds 200 lines, and they share a few syncs (group commit)', async () => {
    const j = await ReplayJournal.open(file, 1000, clock().now);
    // Count fdatasync calls while the burst runs (the journal syncs with fs.fdatasyncSync).
    const original = fs.fdatasyncSync;
    let syncs = 0;
    fs.fdatasyncSync = (fd: number): void => {
      syncs++;
      original(fd);
    };
    syncBuiltinESMExports();
    try {
      const keys = Array.from({ length: 200 }, (_, i) => keyOf(i));
      const verdicts = await Promise.all(keys.map((k) => j.admit(k, T0 + 120_000)));
      assert.deepEqual(
        verdicts,
        keys.map(() => 'fresh'),
      );
      const lines = linesOf(file);
      assert.equal(lines.length, 200);
      assert.deepEqual(new Set(lines), new Set(keys.map((k) => `${T0 + 120_000} ${k}`)));
      assert.ok(syncs >= 1 && syncs <= 5, `${syncs} syncs for 200 admits`);
    } finally {
      fs.fdatasyncSync = original;
      syncBuiltinESMExports();
      await j.close();
    }
  });

  it('the same key twice concurrently: one "fresh", one "replayed", one line', async () => {
    const j = await ReplayJournal.open(file, 1000, clock().now);
    try {
      const verdicts = await Promise.all([j.admit('beef', T0 + 1000), j.admit('beef', T0 + 1000)]);
      assert.deepEqual([...verdicts].sort(), ['fresh', 'replayed']);
      assert.deepEqual(linesOf(file), [`${T0 + 1000} beef`]);
    } finally {
      await j.close();
    }
  });

  it('at capacity a new key resolves "full" and writes nothing', async () => {
    const j = await ReplayJournal.open(file, 2, clock().now);
    try {
      assert.equal(await j.admit('01', T0 + 1000), 'fresh');
      assert.equal(await j.admit('02', T0 + 1000), 'fresh');
      assert.equal(await j.admit('03', T0 + 1000), 'full');
      assert.equal(linesOf(file).length, 2);
    } finally {
      await j.close();
    }
  });

  it('a torn last line (no newline) is skipped at load and counted in skippedAtLoad', async () => {
    const first = await ReplayJournal.open(file, 1000, clock().now);
    assert.equal(await first.admit('aa01', T0 + 60_000), 'fresh');
    await first.close();
    const whole = `${T0 + 60_000} aa02\n`;
    appendFileSync(file, whole.slice(0, 7)); // a crash mid-write: half the line, no newline
    const second = await ReplayJournal.open(file, 1000, clock().now);
    try {
      assert.equal(second.skippedAtLoad, 1);
      assert.equal(second.size, 1);
      assert.equal(await second.admit('aa01', T0 + 60_000), 'replayed');
    } finally {
      await second.close();
    }
  });

  it('a record appended after a torn last line survives the next restart', async () => {
    mkdirSync(join(dir, 'state'));
    writeFileSync(file, `${T0 + 60_000} aa01\n${T0 + 60_000} aa`); // torn: "… aa02" never finished
    const second = await ReplayJournal.open(file, 1000, clock().now);
    assert.equal(await second.admit('bb01', T0 + 60_000), 'fresh');
    await second.close();
    const third = await ReplayJournal.open(file, 1000, clock().now);
    try {
      assert.equal(await third.admit('bb01', T0 + 60_000), 'replayed');
    } finally {
      await third.close();
    }
  });

  it('garbage lines are skipped and counted; the good lines around them are loaded', async () => {
    const good = [`${T0 + 60_000} aa01`, `${T0 + 60_000} aa02`];
    const garbage = [
      'hello world',
      `${T0 + 60_000} AA03`,
      `${T0 + 60_000}  aa04`,
      `-5 aa05`,
      `aa06 ${T0 + 60_000}`,
      `${T0 + 60_000} aa07 extra`,
      '\u0000\u0001',
    ];
    mkdirSync(join(dir, 'state'));
    writeFileSync(file, [good[0], ...garbage, good[1], ''].join('\n'));
    const j = await ReplayJournal.open(file, 1000, clock().now);
    try {
      assert.equal(j.skippedAtLoad, garbage.length);
      assert.equal(j.size, 2);
      assert.equal(await j.admit('aa01', T0 + 60_000), 'replayed');
      assert.equal(await j.admit('aa02', T0 + 60_000), 'replayed');
      assert.equal(await j.admit('aa07', T0 + 60_000), 'fresh');
    } finally {
      await j.close();
    }
  });

  it('keys must be lower-case hex: anything else rejects and is not recorded', async () => {
    const j = await ReplayJournal.open(file, 1000, clock().now);
    try {
      for (const bad of ['', 'ABCD', 'xyz', 'ab cd', 'ab\n1 cd', 'a'.repeat(129)]) {
        await assert.rejects(j.admit(bad, T0 + 1000), /lower-case hex/, JSON.stringify(bad));
      }
      assert.equal(j.size, 0);
      assert.equal(readFileSync(file, 'utf8'), '');
    } finally {
      await j.close();
    }
  });

  it('compacts: after many keys expire and more arrive, the file shrinks to the live keys', async () => {
    // Compaction runs when lines > 2 × live + 10 000. 10 live keys and 10 290 short-lived ones fill a
    // window of capacity 10 300; once the short ones expire, one more admit prunes them and leaves
    // 10 301 lines for 11 live keys.
    const started = Date.now();
    const c = clock();
    const j = await ReplayJournal.open(file, 10_300, c.now);
    const liveKeys = Array.from({ length: 10 }, (_, i) => `f${keyOf(i)}`);
    try {
      const shortKeys = Array.from({ length: 10_290 }, (_, i) => keyOf(i));
      const verdicts = await Promise.all([
        ...liveKeys.map((k) => j.admit(k, T0 + 600_000)),
        ...shortKeys.map((k) => j.admit(k, T0 + 1_000)),
      ]);
      assert.ok(verdicts.every((v) => v === 'fresh'));
      const bigBytes = statSync(file).size;
      assert.equal(linesOf(file).length, 10_300);

      c.advance(2_000); // the short keys expire
      assert.equal(await j.admit('cafe', T0 + 600_000), 'fresh');
      // Compaction runs after the batch has resolved: wait for the rename (at most 2 s).
      for (let waited = 0; statSync(file).size >= bigBytes / 100 && waited < 2_000; waited += 10)
        await new Promise((r) => setTimeout(r, 10));
      const lines = linesOf(file);
      assert.ok(statSync(file).size < bigBytes / 100, `file shrank from ${bigBytes} to ${statSync(file).size} bytes`);
      assert.deepEqual(new Set(lines), new Set([...liveKeys, 'cafe'].map((k) => `${T0 + 600_000} ${k}`)));
      assert.equal(statSync(file).mode & 0o777, 0o600, 'the compacted file is still 0600');
      assert.ok(!existsSync(`${file}.compact`), 'no temporary file left behind');

      // Admits after compaction go to the new file.
      assert.equal(await j.admit('d00d', T0 + 600_000), 'fresh');
      assert.ok(linesOf(file).includes(`${T0 + 600_000} d00d`));
    } finally {
      await j.close();
    }
    // And a restart still knows every live key.
    const again = await ReplayJournal.open(file, 10_300, c.now);
    try {
      for (const k of [...liveKeys, 'cafe', 'd00d']) assert.equal(await again.admit(k, T0 + 600_000), 'replayed', k);
      assert.equal(await again.admit(keyOf(0), T0 + 600_000), 'fresh');
    } finally {
      await again.close();
    }
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 5_000, `compaction case took ${elapsed} ms`);
  });

  it('compacts once the keys have expired, also when the window is far from its capacity', async () => {
    const c = clock();
    const j = await ReplayJournal.open(file, 1_000_000, c.now);
    try {
      const shortKeys = Array.from({ length: 10_100 }, (_, i) => keyOf(i));
      await Promise.all(shortKeys.map((k) => j.admit(k, T0 + 1_000)));
      const bigBytes = statSync(file).size;
      c.advance(2_000); // every key has expired: 10 100 lines, 0 live keys
      assert.equal(await j.admit('cafe', T0 + 600_000), 'fresh');
      for (let waited = 0; statSync(file).size >= bigBytes / 100 && waited < 300; waited += 10)
        await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(linesOf(file), [`${T0 + 600_000} cafe`]);
    } finally {
      await j.close();
    }
  });
});
