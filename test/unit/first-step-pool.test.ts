/**
 * FirstStepPool against a model: a plain array of live entries in creation order. Whatever the
 * order of adds, out-of-order removals, evictions and expiries (which is what a hostile sender
 * controls), the pool holds exactly the model's entries, with their values, oldest first.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FirstStepPool } from '../../src/core/first-step-pool.js';

type Op =
  | { kind: 'add'; src: number; dt: number }
  | { kind: 'remove'; src: number }
  | { kind: 'evict' }
  | { kind: 'expire'; dt: number }
  | { kind: 'clear' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 60,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      src: fc.integer({ min: 0, max: 60 }),
      dt: fc.integer({ min: 0, max: 3 }),
    }),
  },
  { weight: 30, arbitrary: fc.record({ kind: fc.constant('remove' as const), src: fc.integer({ min: 0, max: 60 }) }) },
  { weight: 10, arbitrary: fc.constant({ kind: 'evict' as const }) },
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('expire' as const), dt: fc.integer({ min: 0, max: 20 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
);

describe('FirstStepPool', () => {
  it('property: holds exactly what the model holds, in creation order, whatever the operations', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.array(opArb, { maxLength: 400 }), (limit, ops) => {
        const pool = new FirstStepPool(limit);
        let model: { src: string; deadline: number; fp: number; seq: number }[] = [];
        let now = 0;
        const timeout = 10;
        for (const op of ops) {
          if (op.kind === 'add') {
            now += op.dt;
            const src = `s${op.src}`;
            if (pool.find(src) >= 0) continue; // the tracker never adds a source twice
            if (model.length >= limit) {
              assert.equal(pool.evictOldest(), true);
              model.shift();
            }
            pool.add(src, now + timeout, op.src * 7, op.src * 11);
            model.push({ src, deadline: now + timeout, fp: op.src * 7, seq: op.src * 11 });
          } else if (op.kind === 'remove') {
            const slot = pool.find(`s${op.src}`);
            const i = model.findIndex((m) => m.src === `s${op.src}`);
            assert.equal(slot >= 0, i >= 0);
            if (slot >= 0) {
              pool.remove(slot);
              model.splice(i, 1);
            }
          } else if (op.kind === 'evict') {
            assert.equal(pool.evictOldest(), model.length > 0);
            model.shift();
          } else if (op.kind === 'expire') {
            now += op.dt;
            const expired = model.filter((m) => m.deadline <= now).length;
            assert.equal(pool.removeExpired(now), expired);
            model = model.filter((m) => m.deadline > now);
          } else {
            assert.equal(pool.clear(), model.length);
            model = [];
          }
          assert.equal(pool.size, model.length);
          assert.equal(pool.oldestDeadline(), model[0]?.deadline ?? Infinity);
          for (const m of model) {
            const slot = pool.find(m.src);
            assert.ok(slot >= 0, `${m.src} is in the pool`);
            assert.deepEqual([pool.deadline(slot), pool.fingerprint(slot), pool.seq(slot)], [m.deadline, m.fp, m.seq]);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses to grow past its limit', () => {
    const pool = new FirstStepPool(2);
    pool.add('a', 1, 0, 0);
    pool.add('b', 1, 0, 0);
    assert.throws(() => pool.add('c', 1, 0, 0), RangeError);
    assert.throws(() => new FirstStepPool(0), RangeError);
  });
});
