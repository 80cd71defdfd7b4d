/**
 * The pure parts of flood handling for native SPA:
 *   src/core/work-budget.ts    WorkBudget: a token bucket for work past MAC1
 *   src/core/known-sources.ts  KnownSources: sources that proved a key lately, bounded, each with its own allowance
 *   openSpa's admitExpensive hook: consulted only once MAC1 holds, and only then
 * Properties state their invariant in the first line of their description.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { WorkBudget } from '../../src/core/work-budget.js';
import { KnownSources } from '../../src/core/known-sources.js';
import { openSpa, sealSpa } from '../../src/core/spa/native-wire.js';
import { serverKeysFromPrivate } from '../../src/core/spa/native-door-keys.js';
import type { SpaClientKey } from '../../src/core/spa/native-client-auth.js';

describe('WorkBudget', () => {
  it('property: over any schedule, grants never exceed burst + rate × elapsed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 100 }),
        fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 500 }),
        (rate, burst, steps) => {
          const b = new WorkBudget(rate, burst);
          let now = 1000;
          let granted = 0;
          for (const dt of steps) {
            now += dt;
            if (b.take(now)) granted++;
          }
          assert.ok(granted <= burst + (rate * (now - 1000)) / 1000 + 1e-9);
        },
      ),
    );
  });

  it('gives the burst at once, then refills at the rate; a clock that goes back refills nothing', () => {
    const b = new WorkBudget(10, 3);
    assert.deepEqual([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false]);
    assert.equal(b.take(50), false); // half a token
    assert.equal(b.take(100), true); // one token after 100 ms at 10/s
    assert.equal(b.take(100), false);
    assert.equal(b.take(20), false);
    assert.throws(() => new WorkBudget(0, 1), RangeError);
  });
});

describe('KnownSources', () => {
  it('remembers a source until its time runs out, and no more than its capacity (least recent dropped)', () => {
    const k = new KnownSources(2, 1000);
    k.remember('192.0.2.1', 0);
    k.remember('192.0.2.2', 10);
    assert.equal(k.has('192.0.2.1', 999), true);
    assert.equal(k.has('192.0.2.1', 1000), false); // ttl over, and forgotten
    k.remember('192.0.2.1', 1000);
    k.remember('192.0.2.3', 1001); // over capacity: 192.0.2.2 (least recent) goes
    assert.equal(k.has('192.0.2.2', 1002), false);
    assert.equal(k.has('192.0.2.1', 1002), true);
    assert.equal(k.has('192.0.2.3', 1002), true);
    assert.equal(k.size, 2);
  });

  it('property: never holds more than its capacity', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 300 }),
        (cap, srcs) => {
          const k = new KnownSources(cap, 10_000);
          srcs.forEach((s, i) => {
            k.remember(`s${s}`, i);
          });
          assert.ok(k.size <= cap);
        },
      ),
    );
  });
});

describe('KnownSources: a per-source allowance (issue 10, item 18)', () => {
  it('property: one known source flooding gets at most burst + rate × elapsed, and another known source is still served', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 400 }),
        (rate, burst, steps) => {
          const k = new KnownSources(16, 3_600_000, rate, burst);
          k.remember('198.18.0.1', 0);
          k.remember('198.18.0.2', 0);
          let now = 0;
          let granted = 0;
          for (const dt of steps) {
            now += dt;
            if (k.admit('198.18.0.1', now)) granted++;
            if (dt % 7 === 0) k.remember('198.18.0.1', now); // proving a key again refills nothing
          }
          assert.ok(granted <= burst + (rate * now) / 1000 + 1e-9, `${granted} admitted`);
          assert.equal(k.admit('198.18.0.2', now), true, 'the other known source was refused');
        },
      ),
    );
  });

  it('admits an unknown or expired source never, and refills a known one at its rate', () => {
    const k = new KnownSources(4, 1000, 10, 2);
    assert.equal(k.admit('198.18.0.9', 0), false);
    k.remember('198.18.0.1', 0);
    assert.deepEqual(
      [k.admit('198.18.0.1', 0), k.admit('198.18.0.1', 0), k.admit('198.18.0.1', 0)],
      [true, true, false],
    );
    assert.equal(k.admit('198.18.0.1', 100), true); // one token after 100 ms at 10/s
    assert.equal(k.admit('198.18.0.1', 100), false);
    assert.equal(k.admit('198.18.0.1', 1000), false); // ttl over
    assert.equal(k.has('198.18.0.1', 1000), false);
  });
});

describe("openSpa's admitExpensive hook", () => {
  const server = serverKeysFromPrivate(randomBytes(32), 'door');
  const cid = randomBytes(16);
  const psk = randomBytes(32);
  const client: SpaClientKey = { id: cid, mode: 'psk', psk };
  const lookup = (id: string) => (id === cid.toString('hex') ? client : undefined);
  const valid = () =>
    sealSpa({
      serverPublicKey: server.publicKey,
      doorId: 'door',
      clientId: cid,
      secret: { mode: 'psk', psk },
      request: { timestampMs: Date.now(), nonce: randomBytes(16), durationS: 0, address: null, prefix: 0, ports: [] },
      ephemeralPrivate: randomBytes(32),
      topBit: 0,
    });

  it('is not consulted for junk (it fails MAC1 first), and ends a MAC1-valid packet with spa-overload when it says no', () => {
    let asked = 0;
    const junk = randomBytes(200);
    assert.deepEqual(
      openSpa(junk, server, lookup, () => {
        asked++;
        return false;
      }),
      { ok: false, reason: 'spa-mac1' },
    );
    assert.equal(asked, 0);
    const r = openSpa(valid(), server, lookup, () => {
      asked++;
      return false;
    });
    assert.equal(asked, 1);
    assert.deepEqual(r, { ok: false, reason: 'spa-overload' });
    const ok = openSpa(valid(), server, lookup, () => true);
    assert.equal(ok.ok, true);
  });
});
