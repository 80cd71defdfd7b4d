/**
 * Covers src/core/freshness.ts and its use by both SPA handlers (src/daemon/spa-handler.ts,
 * src/daemon/fwknop-handler.ts) with the real replay journal: a captured packet is never accepted
 * a second time, in particular not at the instant its timestamp + freshness window is reached
 * (issue "Every promise holds at the edges", item 7). Clocks are fixed numbers the test steps.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { checkFreshness, replayExpiryMs } from '../../src/core/freshness.js';
import { sealSpa } from '../../src/core/spa/native-wire.js';
import { serverKeysFromPrivate } from '../../src/core/spa/native-door-keys.js';
import { sealFwknop } from '../../src/core/spa/fwknop-wire.js';
import { SpaHandler } from '../../src/daemon/spa-handler.js';
import { FwknopHandler } from '../../src/daemon/fwknop-handler.js';
import { handlerHarness } from '../support/handler-harness.js';

const WINDOW_MS = 120_000;
const T0 = 1_790_000_000_000;

describe('freshness and replay expiry agree', () => {
  it('property: whenever a timestamp is fresh, its replay record is still live', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.integer({ min: -700_000, max: 700_000 }),
        fc.integer({ min: 1_000, max: 600_000 }),
        (ts, offset, window) => {
          const now = ts + offset;
          if (checkFreshness(ts, now, window).fresh) assert.ok(now < replayExpiryMs(ts, window));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('the boundary instants: ts ± (window - 1) is fresh, ts ± window is stale', () => {
    assert.equal(checkFreshness(T0, T0 + WINDOW_MS - 1, WINDOW_MS).fresh, true);
    assert.equal(checkFreshness(T0, T0 + WINDOW_MS, WINDOW_MS).fresh, false);
    assert.equal(checkFreshness(T0, T0 - WINDOW_MS + 1, WINDOW_MS).fresh, true);
    assert.equal(checkFreshness(T0, T0 - WINDOW_MS, WINDOW_MS).fresh, false);
    assert.ok(replayExpiryMs(T0, WINDOW_MS) > T0 + WINDOW_MS);
  });
});

/** A door, the handler's dependencies and a clock the test sets; grants are collected. */
const harness = (yaml: string) =>
  handlerHarness(yaml, { unixMs: T0, freshnessMs: WINDOW_MS, journalCapacity: 10_000, knownSourcesTtlMs: 60_000 });

describe('a copy of an accepted packet is refused at every instant of the window, the boundary included', () => {
  it('native SPA: copies at ts + window - 1, ts + window and ts + window + 1 buy no second grant', async () => {
    const serverRaw = randomBytes(32);
    const server = serverKeysFromPrivate(serverRaw, 'ssh');
    const id = randomBytes(16);
    const psk = randomBytes(32);
    const h = await harness(
      [
        'interfaces: [eth0]',
        'spa: {server_key: server.key}',
        'doors:',
        '  - name: ssh',
        '    spa: {port: 62201}',
        '    open: [22]',
        '    clients:',
        `      - {name: laptop, id: ${id.toString('base64url')}, psk: ${psk.toString('base64url')}}`,
      ].join('\n'),
    );
    try {
      const handler = new SpaHandler({ ...h.deps, keys: server });
      const packet = sealSpa({
        serverPublicKey: server.publicKey,
        doorId: 'ssh',
        clientId: id,
        secret: { mode: 'psk', psk },
        request: { timestampMs: T0, nonce: randomBytes(16), durationS: 0, address: null, prefix: 0, ports: [] },
        ephemeralPrivate: randomBytes(32),
        topBit: 0,
      });
      handler.handle(packet, '198.18.0.2');
      await h.settle();
      assert.deepEqual(h.grants, ['198.18.0.2']);
      for (const at of [T0 + WINDOW_MS - 1, T0 + WINDOW_MS, T0 + WINDOW_MS + 1]) {
        h.clock.unix = at;
        handler.handle(packet, '198.18.9.9');
        await h.settle();
      }
      assert.deepEqual(h.grants, ['198.18.0.2'], 'a replayed copy was granted');
      assert.equal((h.counts.get('spa_rejected_replayed') ?? 0) + (h.counts.get('spa_rejected_stale') ?? 0), 3);
    } finally {
      await h.close();
    }
  });

  it('fwknop: copies at ts + window - 1 s, ts + window and ts + window + 1 s buy no second grant', async () => {
    const key = 'fwknop-test-key-1';
    const hmacKey = 'fwknop-test-hmac-key-1';
    const h = await harness(
      [
        'interfaces: [eth0]',
        'doors:',
        '  - name: ssh',
        '    fwknop: {port: 62201}',
        '    open: [22]',
        '    stanzas:',
        `      - {source: ANY, key: ${key}, hmac_key: ${hmacKey}}`,
      ].join('\n'),
    );
    try {
      const handler = new FwknopHandler(h.deps);
      const packet = sealFwknop(
        { username: 'alice', timestamp: T0 / 1000, messageType: 1, message: '0.0.0.0,tcp/22', clientTimeout: null },
        { key: Buffer.from(key), hmacKey: Buffer.from(hmacKey), hmacType: 'sha256', encryptionMode: 'cbc' },
        { salt: randomBytes(8), randomDigits: '1234567890123456' },
      );
      handler.handle(packet, '198.18.0.2');
      await h.settle();
      assert.deepEqual(h.grants, ['198.18.0.2']);
      for (const at of [T0 + WINDOW_MS - 1000, T0 + WINDOW_MS, T0 + WINDOW_MS + 1000]) {
        h.clock.unix = at;
        handler.handle(packet, '198.18.9.9');
        await h.settle();
      }
      assert.deepEqual(h.grants, ['198.18.0.2'], 'a replayed copy was granted');
    } finally {
      await h.close();
    }
  });
});
