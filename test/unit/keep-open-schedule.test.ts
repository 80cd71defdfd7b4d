/**
 * Covers src/core/keep-open-schedule.ts, the timing of `knockgate keep-open`: the margin before a
 * grant ends (max(3 s, 25 %), at most half the grant), the refresh interval, the retry backoff
 * (1 s doubling, capped at 60 s and at the interval), the delay after a knock that took time, and
 * the durations refused (below 2 s, above a day, fractions). The property: for every duration
 * keep-open accepts, a knock started one interval after the last leaves the last grant at least
 * the margin, at least 1 s and at least a quarter (or 3 s) of the grant, unless that is half.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  keepOpenDurationProblem,
  nextKnockDelayMs,
  refreshIntervalMs,
  refreshMarginMs,
  retryDelayMs,
} from '../../src/core/keep-open-schedule.js';

describe('keep-open schedule', () => {
  it('knocks again max(3 s, 25 %) before the end, but at most half the grant before', () => {
    const cases: [number, number][] = [
      [2, 1_000],
      [3, 1_500],
      [4, 2_000],
      [6, 3_000],
      [12, 3_000],
      [13, 3_250],
      [30, 7_500],
      [3_600, 900_000],
      [86_400, 21_600_000],
    ];
    for (const [durationS, margin] of cases) {
      assert.equal(refreshMarginMs(durationS), margin, `${durationS}s`);
      assert.equal(refreshIntervalMs(durationS), durationS * 1000 - margin, `${durationS}s`);
    }
  });

  it('refuses durations it cannot keep open, with the reason', () => {
    for (const bad of [0, 1, 1.5, 86_401, Number.NaN]) {
      assert.match(String(keepOpenDurationProblem(bad)), /from 2s to 86400s/, String(bad));
      assert.throws(() => refreshIntervalMs(bad), RangeError);
    }
    assert.equal(keepOpenDurationProblem(2), null);
    assert.equal(keepOpenDurationProblem(86_400), null);
  });

  it('backs off 1 s, 2 s, 4 s ... up to 60 s, and never beyond the refresh interval', () => {
    const series = (durationS: number, n: number): number[] =>
      Array.from({ length: n }, (_, i) => retryDelayMs(i + 1, durationS));
    assert.deepEqual(series(3_600, 8), [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    assert.deepEqual(series(30, 7), [1_000, 2_000, 4_000, 8_000, 16_000, 22_500, 22_500]);
    assert.deepEqual(series(2, 3), [1_000, 1_000, 1_000], 'never more than once a second');
    assert.equal(retryDelayMs(10_000, 3_600), 60_000, 'no overflow after many failures');
    assert.throws(() => retryDelayMs(0, 30), RangeError);
  });

  it('counts the interval from the start of the last knock, never below 0', () => {
    assert.equal(nextKnockDelayMs({ durationS: 30, lastStartMs: 1_000, nowMs: 1_000, failures: 0 }), 22_500);
    assert.equal(nextKnockDelayMs({ durationS: 30, lastStartMs: 1_000, nowMs: 1_400, failures: 0 }), 22_100);
    assert.equal(nextKnockDelayMs({ durationS: 30, lastStartMs: 1_000, nowMs: 60_000, failures: 0 }), 0);
    assert.equal(nextKnockDelayMs({ durationS: 30, lastStartMs: 1_000, nowMs: 1_400, failures: 2 }), 2_000);
  });

  it('for every duration from 2 s to 2 h, the next knock leaves the last grant its margin', () => {
    for (let durationS = 2; durationS <= 7_200; durationS++) {
      const interval = refreshIntervalMs(durationS);
      const left = durationS * 1000 - interval;
      assert.ok(interval >= 1_000, `${durationS}s: knocks at most once a second`);
      assert.ok(left >= Math.min(3_000, (durationS * 1000) / 2), `${durationS}s: ${left} ms left`);
      assert.ok(left >= Math.min((durationS * 1000) / 4, (durationS * 1000) / 2), `${durationS}s: a quarter`);
      assert.ok(left <= (durationS * 1000) / 2, `${durationS}s: at most half the grant is spent on margin`);
    }
  });
});
