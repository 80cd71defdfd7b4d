/**
 * Covers the per-owner high-water mark of the replay store (core/replay-window.ts,
 * stores/replay-journal.ts): a packet accepted at T, the wall clock stepped forward past its
 * expiry, a prune (or a restart, or a compaction), the clock stepped back: the copy is refused,
 * as 'replayed' (its key was kept, since it holds its owner's mark) or 'behind-high-water' (a
 * newer packet of the same owner let the old key go). Other owners are not affected.
 */

import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplayWindow } from '../../src/core/replay-window.js';
import { ReplayJournal } from '../../src/stores/replay-journal.js';
import { replayExpiryMs } from '../../src/core/freshness.js';

const T = 1_767_225_600_000;
const W = 120_000;
const DAY = 86_400_000;
const A = 'aa'.repeat(16);
const B = 'bb'.repeat(16);
const key = (owner: string, i: number): string => owner + i.toString(16).padStart(32, '0');

describe('ReplayWindow high-water mark', () => {
  it('accepted at T, clock forward past expiry, prune, clock back: the copy is refused', () => {
    const w = new ReplayWindow(100);
    assert.equal(w.admit(key(A, 1), replayExpiryMs(T, W), T, { id: A, timestampMs: T }), 'fresh');
    w.prune(T + DAY);
    assert.notEqual(w.admit(key(A, 1), replayExpiryMs(T, W), T + 1000, { id: A, timestampMs: T }), 'fresh');
  });

  it('a newer packet of the owner lets the old key go, and the old one is then behind the mark', () => {
    const w = new ReplayWindow(100);
    assert.equal(w.admit(key(A, 1), replayExpiryMs(T, W), T, { id: A, timestampMs: T }), 'fresh');
    // The clock is a day ahead; the client's (or an attacker's replayed) packets follow it.
    assert.equal(w.admit(key(A, 2), replayExpiryMs(T + DAY, W), T + DAY, { id: A, timestampMs: T + DAY }), 'fresh');
    assert.equal(w.prune(T + DAY), 1);
    assert.equal(w.size, 1);
    // Back to T: the first packet is fresh by the clock, but behind A's mark.
    assert.equal(w.admit(key(A, 1), replayExpiryMs(T, W), T + 1000, { id: A, timestampMs: T }), 'behind-high-water');
    // Another client is not held back by A's mark.
    assert.equal(w.admit(key(B, 1), replayExpiryMs(T, W), T + 1000, { id: B, timestampMs: T }), 'fresh');
  });

  it('a packet within the window below the mark is still admitted (out-of-order delivery)', () => {
    const w = new ReplayWindow(100);
    assert.equal(w.admit(key(A, 2), replayExpiryMs(T + 10_000, W), T, { id: A, timestampMs: T + 10_000 }), 'fresh');
    assert.equal(w.admit(key(A, 1), replayExpiryMs(T, W), T, { id: A, timestampMs: T }), 'fresh');
    // At the edge: timestamp + window + margin equal to the mark is refused.
    const edge = T + 10_000 - (replayExpiryMs(0, W) - 0);
    assert.equal(w.admit(key(A, 3), replayExpiryMs(edge, W), T, { id: A, timestampMs: edge }), 'behind-high-water');
    assert.equal(w.admit(key(A, 4), replayExpiryMs(edge + 1, W), T, { id: A, timestampMs: edge + 1 }), 'fresh');
  });
});

describe('ReplayJournal high-water mark is durable', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kg-hw-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('accepted at T, restart with the clock a day ahead, restart with it back: the copy is refused', async () => {
    const file = join(dir, 'replay.journal');
    let now = T;
    const clock = (): number => now;
    let j = await ReplayJournal.open(file, 1000, clock);
    assert.equal(await j.admit(key(A, 1), replayExpiryMs(T, W), { id: A, timestampMs: T }), 'fresh');
    await j.close();
    now = T + DAY;
    j = await ReplayJournal.open(file, 1000, clock);
    await j.close();
    now = T + 1000;
    j = await ReplayJournal.open(file, 1000, clock);
    assert.notEqual(await j.admit(key(A, 1), replayExpiryMs(T, W), { id: A, timestampMs: T }), 'fresh');
    assert.equal(j.seen(key(A, 1)), true);
    await j.close();
  });

  it('the mark survives a restart and a compaction: an old packet behind it is refused', async () => {
    const file = join(dir, 'replay.journal');
    let now = T;
    const clock = (): number => now;
    let j = await ReplayJournal.open(file, 100_000, clock);
    assert.equal(await j.admit(key(A, 1), replayExpiryMs(T, W), { id: A, timestampMs: T }), 'fresh');
    now = T + DAY;
    assert.equal(await j.admit(key(A, 2), replayExpiryMs(T + DAY, W), { id: A, timestampMs: T + DAY }), 'fresh');
    // Enough other packets, later expired, to make the journal compact.
    const others: Promise<unknown>[] = [];
    for (let i = 0; i < 10_100; i++) others.push(j.admit(key(B, i), now + 10, { id: B, timestampMs: now - W }));
    await Promise.all(others);
    now += 2000;
    assert.equal(await j.admit(key(B, 999_999), replayExpiryMs(now, W), { id: B, timestampMs: now }), 'fresh');
    await j.close();
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '').length;
    assert.ok(lines < 10_100, `compacted (${lines} lines)`);
    now = T + 1000;
    j = await ReplayJournal.open(file, 100_000, clock);
    assert.equal(await j.admit(key(A, 1), replayExpiryMs(T, W), { id: A, timestampMs: T }), 'behind-high-water');
    await j.close();
  });
});
