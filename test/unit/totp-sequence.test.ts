/**
 * Covers src/core/totp-sequence.ts against the test vectors of docs/protocol.md ("Time-based knock
 * sequences"), which were computed independently: with python3's hmac module from the text of the
 * specification (the script is in docs/protocol.md), and B_0 of the first vector with
 * `openssl dgst -sha256 -mac HMAC -macopt hexkey:...`. Also: the counters accepted (one period of
 * skew on either side), the period arithmetic, and that every derived sequence is `steps`
 * distinct endpoints of the door's range.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { formatEndpoint } from '../../src/core/endpoint.js';
import {
  acceptedCounters,
  acceptedUntilMs,
  nextPeriodStartMs,
  totpCounter,
  totpMessage,
  totpSequence,
  type TotpParameters,
} from '../../src/core/totp-sequence.js';

const SECRET = Uint8Array.from({ length: 32 }, (_, i) => i);
const params = (o: Partial<TotpParameters>): TotpParameters => ({
  door: 'ssh',
  steps: 4,
  periodMs: 30_000,
  low: 20_000,
  high: 29_999,
  protocol: 'tcp',
  ...o,
});
const text = (p: TotpParameters, unixS: number): string =>
  totpSequence(SECRET, p, totpCounter(unixS * 1000, p.periodMs))
    .map(formatEndpoint)
    .join(',');

describe('time-based sequences: the vectors of docs/protocol.md', () => {
  it('block 0 of the first vector is the HMAC openssl computed', () => {
    const b0 = createHmac('sha256', SECRET)
      .update(totpMessage('ssh', 56_666_666, 0))
      .digest('hex');
    assert.equal(b0, 'e965f6cbac2609a61169b1d6749fc178bd4c4affe0508a143ec597adeb7b476c');
  });

  it('door ssh, 30 s, 4 steps in 20000-29999/tcp at 1700000000 (period 56666666, from 1699999980) and in the next period (from 1700000010)', () => {
    assert.equal(text(params({}), 1_700_000_000), '23643/tcp,23990/tcp,29478/tcp,26808/tcp');
    assert.equal(text(params({}), 1_700_000_009), '23643/tcp,23990/tcp,29478/tcp,26808/tcp');
    assert.equal(text(params({}), 1_700_000_010), '25957/tcp,24624/tcp,25497/tcp,26154/tcp');
  });

  it("another door's name with the same secret gives another sequence", () => {
    assert.equal(text(params({ door: 'web' }), 1_700_000_000), '21186/tcp,22594/tcp,24356/tcp,29564/tcp');
  });

  it('mixed protocols, a 5 s period, 8 steps out of 20 endpoints (rejected repeats)', () => {
    const p = params({ periodMs: 5_000, steps: 8, low: 40_000, high: 40_009, protocol: 'mixed' });
    assert.equal(
      text(p, 1_700_000_000),
      '40009/udp,40004/udp,40002/tcp,40006/udp,40004/tcp,40008/udp,40005/tcp,40000/tcp',
    );
  });

  it('udp, a range exactly as large as the steps: every port once', () => {
    const p = params({ periodMs: 60_000, steps: 3, low: 7000, high: 7002, protocol: 'udp' });
    assert.equal(text(p, 1_700_000_000), '7002/udp,7001/udp,7000/udp');
  });
});

describe('time-based sequences: periods and skew', () => {
  it('accepts the current counter and one on either side', () => {
    assert.deepEqual(acceptedCounters(1_700_000_000_000, 30_000), [56_666_665, 56_666_666, 56_666_667]);
    assert.deepEqual(acceptedCounters(1_700_000_009_999, 30_000), [56_666_665, 56_666_666, 56_666_667]);
    assert.deepEqual(acceptedCounters(1_700_000_010_000, 30_000), [56_666_666, 56_666_667, 56_666_668]);
  });

  it('a counter is accepted until the end of the period after its own', () => {
    const c = 56_666_666;
    assert.equal(acceptedUntilMs(c, 30_000), (c + 2) * 30_000);
    assert.ok(acceptedCounters(acceptedUntilMs(c, 30_000) - 1, 30_000).includes(c));
    assert.ok(!acceptedCounters(acceptedUntilMs(c, 30_000), 30_000).includes(c));
    assert.equal(nextPeriodStartMs(1_700_000_000_000, 30_000), 1_700_000_010_000);
  });

  it('every sequence is `steps` distinct endpoints of the range', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 1, max: 65_000 }),
        fc.integer({ min: 0, max: 500 }),
        fc.constantFrom('tcp', 'udp', 'mixed' as const),
        fc.integer({ min: 1, max: 32 }),
        (secret, counter, low, width, protocol, steps) => {
          const high = Math.min(65_535, low + width + 31);
          const p = params({ low, high, protocol, steps });
          const seq = totpSequence(secret, p, counter);
          assert.equal(seq.length, steps);
          assert.equal(new Set(seq.map(formatEndpoint)).size, steps);
          for (const e of seq) {
            assert.ok(e.port >= low && e.port <= high);
            if (protocol !== 'mixed') assert.equal(e.proto, protocol);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a range smaller than the steps and a negative counter', () => {
    assert.throws(() => totpSequence(SECRET, params({ low: 7000, high: 7002 }), 1), RangeError);
    assert.throws(() => totpSequence(SECRET, params({}), -1), RangeError);
  });
});
