/**
 * src/daemon/log-limiter.ts on an injected clock: each key (a drop or reject reason) has its own
 * budget of lines per one-second window, the window starts at the key's first line after the last
 * window ran out, and the first line let through after some were dropped says how many.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_DROP_LOG_LINES_PER_S } from '../../src/core/limits.js';
import { LogLimiter } from '../../src/daemon/log-limiter.js';

function limiter(perSecond: number, startMs = 1_000_000): { l: LogLimiter; clock: { now: number } } {
  const clock = { now: startMs };
  return { l: new LogLimiter(perSecond, () => clock.now), clock };
}

/** `n` lines for `key` at the current instant, as the limiter answers them. */
const lines = (l: LogLimiter, key: string, n: number): (number | null)[] =>
  Array.from({ length: n }, () => l.admit(key));

describe('LogLimiter', () => {
  it('lets `perSecond` lines of a key through in a window, each reporting nothing suppressed, and drops the rest', () => {
    const { l } = limiter(3);
    assert.deepEqual(lines(l, 'spa-bad-mac', 5), [0, 0, 0, null, null]);
  });

  it(`at the daemon's budget, MAX_DROP_LOG_LINES_PER_S (${MAX_DROP_LOG_LINES_PER_S}) a second, the next line in that second is dropped`, () => {
    const { l } = limiter(MAX_DROP_LOG_LINES_PER_S);
    const answers = lines(l, 'truncated', MAX_DROP_LOG_LINES_PER_S + 1);
    assert.equal(answers.filter((a) => a === 0).length, MAX_DROP_LOG_LINES_PER_S);
    assert.equal(answers.at(-1), null);
  });

  it('keys have budgets of their own: a flood of one reason does not silence another', () => {
    const { l } = limiter(2);
    lines(l, 'spa-bad-mac', 100);
    assert.deepEqual(lines(l, 'spa-stale', 3), [0, 0, null]);
    assert.deepEqual(lines(l, 'knock:wrong-port', 2), [0, 0]);
  });

  it('the first line of the next window reports how many were suppressed; the one after reports none', () => {
    const { l, clock } = limiter(2);
    lines(l, 'spa-bad-mac', 2 + 7); // 7 dropped
    lines(l, 'spa-stale', 2 + 1); // 1 dropped, on its own count
    clock.now += 1_000;
    assert.deepEqual(lines(l, 'spa-bad-mac', 3), [7, 0, null]);
    assert.deepEqual(lines(l, 'spa-stale', 1), [1]);
  });

  it('the window is one second from its first line: 999 ms later is the same window, 1000 ms later a new one', () => {
    const { l, clock } = limiter(1, 5_000_250);
    assert.equal(l.admit('k'), 0);
    clock.now += 999;
    assert.equal(l.admit('k'), null);
    clock.now += 1; // 1000 ms after the window's first line
    assert.equal(l.admit('k'), 1);
    // The new window started at that line, not on a whole second: 999 ms after it, still full.
    clock.now += 999;
    assert.equal(l.admit('k'), null);
    clock.now += 1;
    assert.equal(l.admit('k'), 1);
  });

  it('after a quiet spell, the next line goes through and still reports what was dropped before it', () => {
    const { l, clock } = limiter(1);
    lines(l, 'k', 1 + 4);
    clock.now += 60_000;
    assert.equal(l.admit('k'), 4);
    assert.equal(l.admit('k'), null);
  });

  it("each window's first line reports what was dropped since the last line let through, window after window", () => {
    const { l, clock } = limiter(1);
    assert.deepEqual(lines(l, 'k', 3), [0, null, null]); // 2 dropped
    clock.now += 1_000;
    assert.deepEqual(lines(l, 'k', 4), [2, null, null, null]); // reported, then 3 dropped
    clock.now += 1_000;
    assert.equal(l.admit('k'), 3);
  });
});
