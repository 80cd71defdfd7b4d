/**
 * Covers src/client/keep-open.ts, the loop of `knockgate keep-open`, on a ManualClock (hours run in
 * milliseconds): when it knocks, that a model of the server's grant (each datagram that arrives
 * extends it to arrival + duration; a knock takes its time to arrive) never lapses while the loop
 * runs, how a failed send is retried and logged (one line each, the error's first line), that a
 * usage or configuration error ends the loop instead of being retried, and that no knock starts
 * after the stop.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keepOpen, knockFailureText } from '../../src/client/keep-open.js';
import { KnockgateError } from '../../src/core/errors.js';
import { ManualClock } from '../../src/daemon/clock.js';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Moves the clock `ms` forward in steps of `stepMs`, letting the loop's promises run between steps. */
async function run(clock: ManualClock, ms: number, stepMs = 50): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    await turn();
    clock.advance(Math.min(stepMs, ms - t));
  }
  await turn();
}

function errno(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

describe('keep-open loop', () => {
  it('knocks at once, then every interval, and the grant never lapses while it runs', async () => {
    const clock = new ManualClock(1_700_000_000_000, 0);
    const stop = new AbortController();
    const durationS = 30;
    const latencyMs = 400;
    const starts: number[] = [];
    let expiresAtMs = 0;
    let lapses = 0;
    const loop = keepOpen({
      clock,
      durationS,
      stop: stop.signal,
      warn: () => assert.fail('no warnings when every knock is sent'),
      knock: async () => {
        starts.push(clock.nowMs());
        await new Promise<void>((r) => clock.after(latencyMs, r));
        const arrived = clock.nowMs();
        if (expiresAtMs !== 0 && arrived >= expiresAtMs) lapses++;
        expiresAtMs = Math.max(expiresAtMs, arrived + durationS * 1000);
      },
    });
    await run(clock, 3_600_000, 500);
    stop.abort();
    await run(clock, 1_000); // a knock in flight arrives
    const tally = await loop;
    assert.equal(lapses, 0);
    assert.deepEqual(starts.slice(0, 4), [0, 22_500, 45_000, 67_500]);
    assert.equal(tally.sent, starts.length);
    assert.equal(tally.failed, 0);
    assert.ok(starts.length >= 160 && starts.length <= 161, `${starts.length} knocks in an hour`);
    const before = starts.length;
    await run(clock, 60_000, 500);
    assert.equal(starts.length, before, 'no knock after the stop');
    assert.equal(clock.pending(), 0, 'no timer left behind');
  });

  it('retries a failed send with backoff, one line per failure, and says when it recovers', async () => {
    const clock = new ManualClock(1_700_000_000_000, 0);
    const stop = new AbortController();
    const lines: string[] = [];
    const starts: number[] = [];
    let failuresLeft = 4;
    const loop = keepOpen({
      clock,
      durationS: 30,
      stop: stop.signal,
      warn: (l) => lines.push(l),
      knock: async () => {
        starts.push(clock.nowMs());
        if (failuresLeft-- > 0) throw errno('ENETUNREACH', 'send ENETUNREACH 198.18.7.1:62201\n    at stack');
      },
    });
    await run(clock, 40_000, 100);
    stop.abort();
    const tally = await loop;
    assert.deepEqual(starts, [0, 1_000, 3_000, 7_000, 15_000, 37_500]);
    assert.deepEqual(tally, { sent: 2, failed: 4 });
    assert.deepEqual(lines, [
      'knock failed: send ENETUNREACH 198.18.7.1:62201 (1 in a row); retrying in 1s',
      'knock failed: send ENETUNREACH 198.18.7.1:62201 (2 in a row); retrying in 2s',
      'knock failed: send ENETUNREACH 198.18.7.1:62201 (3 in a row); retrying in 4s',
      'knock failed: send ENETUNREACH 198.18.7.1:62201 (4 in a row); retrying in 8s',
      'knock sent again after 4 failed tries',
    ]);
  });

  it('retries a name that does not resolve yet (boot), but stops on a usage or configuration error', async () => {
    const clock = new ManualClock(1_700_000_000_000, 0);
    const stop = new AbortController();
    let calls = 0;
    const lines: string[] = [];
    const loop = keepOpen({
      clock,
      durationS: 10,
      stop: stop.signal,
      warn: (l) => lines.push(l),
      knock: async () => {
        calls++;
        if (calls === 1) throw new KnockgateError('KG_RESOLVE_FAILED', 'cannot resolve "gw.example": EAI_AGAIN');
        throw new KnockgateError('KG_USAGE', "the credential's allow_ip: not an address");
      },
    });
    const settled = loop.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    await run(clock, 5_000, 100);
    const err = await settled;
    assert.ok(err instanceof KnockgateError && err.code === 'KG_USAGE', String(err));
    assert.equal(calls, 2);
    assert.deepEqual(lines, ['knock failed: cannot resolve "gw.example": EAI_AGAIN (1 in a row); retrying in 1s']);
  });

  it('a bug (an error without a system code) is not retried in silence', async () => {
    const clock = new ManualClock(0, 0);
    const loop = keepOpen({
      clock,
      durationS: 10,
      stop: new AbortController().signal,
      warn: () => undefined,
      knock: async () => {
        throw new TypeError('x is not a function');
      },
    });
    await assert.rejects(loop, TypeError);
  });

  it('stopped before it starts, it knocks not at all', async () => {
    const stop = new AbortController();
    stop.abort();
    let calls = 0;
    const tally = await keepOpen({
      clock: new ManualClock(0, 0),
      durationS: 10,
      stop: stop.signal,
      warn: () => undefined,
      knock: async () => {
        calls++;
      },
    });
    assert.deepEqual(tally, { sent: 0, failed: 0 });
    assert.equal(calls, 0);
  });

  it('names a failure in one line', () => {
    assert.equal(knockFailureText(errno('EACCES', 'send EACCES 10.0.0.1:62201\nmore')), 'send EACCES 10.0.0.1:62201');
    assert.equal(knockFailureText('plain'), 'plain');
  });
});
