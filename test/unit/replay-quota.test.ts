/**
 * Covers the per-client quota of the replay store (core/replay-window.ts, stores/replay-journal.ts,
 * `spa.max_replay_entries_per_client`): a client spraying fresh, valid packets fills its own quota
 * ('owner-full') and can never make another client's packet 'full'; its expired records are pruned
 * to give its quota back; the config key is read and bounded.
 */

import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ReplayWindow } from '../../src/core/replay-window.js';
import { ReplayJournal } from '../../src/stores/replay-journal.js';
import { replayExpiryMs } from '../../src/core/freshness.js';
import { spaSettingsSchema } from '../../src/config/schema.js';
import { DEFAULT_REPLAY_ENTRIES_PER_CLIENT } from '../../src/core/limits.js';

const T = 1_767_225_600_000;
const W = 120_000;
const owner = (i: number): string => i.toString(16).padStart(32, '0');
const key = (o: number, i: number): string => owner(o) + i.toString(16).padStart(32, '0');

describe('ReplayWindow per-client quota', () => {
  it('a client spraying fresh packets cannot make another client\'s packet "full"', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 9 }),
        (quota, spray, others) => {
          const w = new ReplayWindow(quota * (others + 1), quota);
          for (let i = 0; i < spray; i++) {
            const v = w.admit(key(0, i), replayExpiryMs(T, W), T + i, { id: owner(0), timestampMs: T });
            assert.equal(v, i < quota ? 'fresh' : 'owner-full');
          }
          for (let o = 1; o <= others; o++) {
            for (let i = 0; i < quota; i++)
              assert.equal(
                w.admit(key(o, i), replayExpiryMs(T, W), T + spray, { id: owner(o), timestampMs: T }),
                'fresh',
              );
          }
        },
      ),
    );
  });

  it('a client at its quota gets it back once its records expire', () => {
    const w = new ReplayWindow(1000, 2);
    // Timestamps rise, so the older records fall behind the client's mark and may go.
    for (let i = 0; i < 2; i++)
      assert.equal(w.admit(key(0, i), replayExpiryMs(T + i, W), T, { id: owner(0), timestampMs: T + i }), 'fresh');
    assert.equal(
      w.admit(key(0, 2), replayExpiryMs(T + 2, W), T + 1, { id: owner(0), timestampMs: T + 2 }),
      'owner-full',
    );
    const later = T + 2 * W;
    assert.equal(w.admit(key(0, 3), replayExpiryMs(later, W), later, { id: owner(0), timestampMs: later }), 'fresh');
  });
});

describe('ReplayJournal per-client quota', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kg-quota-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('one client at quota: its next packet is "owner-full", nothing is written, another client is admitted', async () => {
    const j = await ReplayJournal.open(join(dir, 'replay.journal'), 1000, () => T, undefined, 5);
    const spray = await Promise.all(
      Array.from({ length: 50 }, (_, i) => j.admit(key(7, i), replayExpiryMs(T, W), { id: owner(7), timestampMs: T })),
    );
    assert.deepEqual(spray.filter((v) => v === 'fresh').length, 5);
    assert.ok(spray.slice(5).every((v) => v === 'owner-full'));
    assert.equal(j.size, 5);
    assert.equal(await j.admit(key(8, 0), replayExpiryMs(T, W), { id: owner(8), timestampMs: T }), 'fresh');
    await j.close();
  });
});

describe('spa.max_replay_entries_per_client', () => {
  it('defaults, is read, and is bounded', () => {
    assert.equal(spaSettingsSchema.parse({}).max_replay_entries_per_client, DEFAULT_REPLAY_ENTRIES_PER_CLIENT);
    assert.equal(spaSettingsSchema.parse({ max_replay_entries_per_client: 50 }).max_replay_entries_per_client, 50);
    assert.equal(spaSettingsSchema.safeParse({ max_replay_entries_per_client: 0 }).success, false);
  });
});
