/**
 * The SPA handlers under a flood (issue "Every promise holds at the edges", items 17 and 18), with
 * the real core, a real replay journal in a temp directory and fixed clocks:
 *   - native SPA: a known source gets its own allowance past MAC1, not unlimited work; another
 *     known source is still served while one floods (item 18);
 *   - fwknop: junk from unproven sources costs at most the budget's HMACs, stanzas sharing an
 *     HMAC key cost one HMAC, the replay digest is looked up before any HMAC, a known source is
 *     served while junk has spent the budget (item 17); the stanza index agrees with a scan.
 * Each test asserts what the daemon would count and grant.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { parseConfigText } from '../../src/config/load.js';
import type { Door } from '../../src/core/door.js';
import { WorkBudget } from '../../src/core/work-budget.js';
import { sealSpa } from '../../src/core/spa/native-wire.js';
import { serverKeysFromPrivate } from '../../src/core/spa/native-door-keys.js';
import { sealFwknop } from '../../src/core/spa/fwknop-wire.js';
import { FwknopStanzaIndex } from '../../src/core/spa/fwknop-stanza-index.js';
import { cidrSetContains } from '../../src/core/cidr.js';
import { parseIPAddress } from '../../src/core/ip-address.js';
import { FwknopHandler } from '../../src/daemon/fwknop-handler.js';
import fc from 'fast-check';
import { SpaHandler } from '../../src/daemon/spa-handler.js';
import { handlerHarness } from '../support/handler-harness.js';
import { KNOWN_SPA_SOURCE_WORK_BURST } from '../../src/core/limits.js';

const T0 = 1_790_000_000_000;

const harness = (yaml: string, budget: WorkBudget) => handlerHarness(yaml, { unixMs: T0, budget });

describe('native SPA: a known source has an allowance of its own, not a free pass (item 18)', () => {
  it('a known source flooding MAC1-valid packets is capped; another known source is still served', async () => {
    const server = serverKeysFromPrivate(randomBytes(32), 'ssh');
    const id = randomBytes(16);
    const psk = randomBytes(32);
    // A budget a flood has already used up: one token, then next to nothing.
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
      new WorkBudget(0.001, 1),
    );
    const packet = () =>
      sealSpa({
        serverPublicKey: server.publicKey,
        doorId: 'ssh',
        clientId: id,
        secret: { mode: 'psk', psk },
        request: {
          timestampMs: h.clock.unix,
          nonce: randomBytes(16),
          durationS: 0,
          address: null,
          prefix: 0,
          ports: [],
        },
        ephemeralPrivate: randomBytes(32),
        topBit: 0,
      });
    try {
      const handler = new SpaHandler({ ...h.deps, keys: server });
      h.deps.knownSources.remember('198.18.0.2', h.clock.mono);
      h.deps.knownSources.remember('198.18.0.3', h.clock.mono);
      // One packet, the same as a spoofer replaying a capture would send: each costs a key agreement if admitted.
      const flood = packet();
      const FLOOD = 300;
      for (let i = 0; i < FLOOD; i++) handler.handle(flood, '198.18.0.2');
      await h.settle();
      const overload = h.counts.get('spa_rejected_overload') ?? 0;
      const admitted = FLOOD - overload;
      assert.ok(
        admitted <= KNOWN_SPA_SOURCE_WORK_BURST + 1,
        `${admitted} of ${FLOOD} packets from one known source went past MAC1`,
      );
      assert.ok(overload >= FLOOD - KNOWN_SPA_SOURCE_WORK_BURST - 1);
      handler.handle(packet(), '198.18.0.3');
      await h.settle();
      assert.ok(h.grants.includes('198.18.0.3'), 'the other known source was not served');
    } finally {
      await h.close();
    }
  });
});

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function junk(i: number): Uint8Array {
  const len = 140 + (i % 250);
  const b = Buffer.alloc(len);
  for (let j = 0; j < len; j++) b[j] = B64.charCodeAt((i * 31 + j * 7 + ((i * j) % 13)) % 64);
  return new Uint8Array(b);
}
interface StanzaKeys {
  key: string;
  hmac: string;
  source?: string;
}
const newKeys = (): StanzaKeys => ({
  key: randomBytes(24).toString('base64'),
  hmac: randomBytes(48).toString('base64'),
});
function fwknopDoor(stanzas: StanzaKeys[]): string {
  return [
    'interfaces: [eth0]',
    'doors:',
    '  - name: fw',
    '    fwknop: {port: 62201}',
    '    open: [22]',
    '    stanzas:',
    ...stanzas.map(
      (k) =>
        `      - {source: "${k.source ?? 'ANY'}", key_base64: "${k.key}", hmac_key_base64: "${k.hmac}", hmac_digest_type: sha256}`,
    ),
  ].join('\n');
}
function fwknopPacket(k: StanzaKeys, timestampS: number): Uint8Array {
  return sealFwknop(
    { username: 'alice', timestamp: timestampS, messageType: 1, message: '0.0.0.0,tcp/22', clientTimeout: null },
    {
      key: Buffer.from(k.key, 'base64'),
      hmacKey: Buffer.from(k.hmac, 'base64'),
      hmacType: 'sha256',
      encryptionMode: 'cbc',
    },
    { salt: randomBytes(8), randomDigits: '1234567890123456' },
  );
}

describe('fwknop: HMAC work is budgeted and indexed (item 17)', () => {
  it('junk from spoofed unproven sources costs at most the budget: 100 stanzas, 1,000 datagrams, 500 HMACs', async () => {
    const h = await harness(fwknopDoor(Array.from({ length: 100 }, newKeys)), new WorkBudget(0.001, 500));
    try {
      const handler = new FwknopHandler(h.deps);
      for (let i = 0; i < 1000; i++) handler.handle(junk(i), `10.${i >> 8}.${i & 255}.1`);
      const tried = h.counts.get('fwknop_rejected_hmac') ?? 0;
      assert.ok(tried <= 5, `${tried} junk datagrams were tried against 100 keys each, with 500 HMACs in the budget`);
      assert.equal(h.counts.get('fwknop_rejected_overload'), 1000 - tried);
    } finally {
      await h.close();
    }
  });

  it('stanzas that share an HMAC key cost one HMAC, and the right one still opens', async () => {
    const hmac = randomBytes(48).toString('base64');
    const stanzas = Array.from({ length: 100 }, () => ({ ...newKeys(), hmac }));
    const h = await harness(fwknopDoor(stanzas), new WorkBudget(0.001, 60));
    try {
      const handler = new FwknopHandler(h.deps);
      for (let i = 0; i < 50; i++) handler.handle(junk(i), `10.0.${i}.1`);
      assert.equal(h.counts.get('fwknop_rejected_hmac'), 50, 'each junk datagram should cost one token, not 100');
      assert.equal(h.counts.get('fwknop_rejected_overload') ?? 0, 0);
      // A real packet for the last stanza: the shared HMAC holds for all 100, only its AES key opens it.
      handler.handle(fwknopPacket(stanzas[99] as StanzaKeys, T0 / 1000), '198.18.0.2');
      await h.settle();
      assert.deepEqual(h.grants, ['198.18.0.2']);
    } finally {
      await h.close();
    }
  });

  it('a replayed packet is refused by its digest (after the budget, before any HMAC), and a known source is served while junk has spent the budget', async () => {
    const alice = newKeys();
    const h = await harness(fwknopDoor([...Array.from({ length: 20 }, newKeys), alice]), new WorkBudget(0.001, 21));
    try {
      const handler = new FwknopHandler(h.deps);
      const first = fwknopPacket(alice, T0 / 1000);
      handler.handle(first, '198.18.0.2'); // 21 tokens: all of the budget
      await h.settle();
      assert.deepEqual(h.grants, ['198.18.0.2']);
      for (let i = 0; i < 100; i++) handler.handle(junk(i), `10.1.${i}.1`);
      assert.equal(h.counts.get('fwknop_rejected_overload'), 100);
      handler.handle(first, '10.9.9.9'); // the capture again, from a spoofed source: shed before its digest
      assert.equal(h.counts.get('fwknop_rejected_overload'), 101);
      handler.handle(first, '198.18.0.2'); // and from alice's own address: refused by its digest
      assert.equal(h.counts.get('fwknop_rejected_replayed'), 1);
      assert.equal(h.counts.get('fwknop_rejected_hmac') ?? 0, 0, 'junk past the budget was tried against keys');
      handler.handle(fwknopPacket(alice, T0 / 1000 + 1), '198.18.0.2'); // known: its own allowance
      await h.settle();
      assert.deepEqual(h.grants, ['198.18.0.2', '198.18.0.2']);
      handler.handle(fwknopPacket(alice, T0 / 1000 + 2), '198.18.0.77'); // unknown, budget spent
      assert.equal(h.counts.get('fwknop_rejected_overload'), 102);
    } finally {
      await h.close();
    }
  });

  it('property: the stanza index gives exactly the stanzas a scan of SOURCE would, in file order; groups are equal HMAC keys', () => {
    const prefix = fc.oneof(
      fc.constant('ANY'),
      fc
        .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.constantFrom(8, 16, 24, 32, 30))
        .map(([a, b, l]) => `198.18.${a}.${b * 64}/${l}`),
      fc
        .tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom(32, 48, 64, 128))
        .map(([a, l]) => `2001:db8:${a}::/${l}`),
    );
    const hmacs = [
      randomBytes(48).toString('base64'),
      randomBytes(48).toString('base64'),
      randomBytes(48).toString('base64'),
    ];
    const key = randomBytes(24).toString('base64');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.array(prefix, { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 2 })), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.array(
          fc.oneof(
            fc
              .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 }))
              .map(([a, b]) => `198.18.${a}.${b}`),
            fc.integer({ min: 0, max: 3 }).map((a) => `2001:db8:${a}::5`),
          ),
          { maxLength: 20 },
        ),
        (defs, addresses) => {
          const yaml = [
            'interfaces: [eth0]',
            'doors:',
            '  - name: fw',
            '    fwknop: {port: 62201}',
            '    open: [22]',
            '    stanzas:',
            ...defs.map(
              ([srcs, g]) =>
                `      - {source: "${srcs.includes('ANY') ? 'ANY' : srcs.join(', ')}", key_base64: "${key}", hmac_key_base64: "${hmacs[g]}", hmac_digest_type: sha256}`,
            ),
          ].join('\n');
          const stanzas = (parseConfigText('/nonexistent/k.yaml', yaml).doors[0] as Door).fwknop!.stanzas;
          const index = new FwknopStanzaIndex(stanzas);
          for (const text of addresses) {
            const a = parseIPAddress(text)!;
            const scan = stanzas.map((s, i) => (cidrSetContains(s.sources, a) ? i : -1)).filter((i) => i >= 0);
            assert.deepEqual(index.candidates(a), scan, text);
          }
          defs.forEach(([, g], i) => {
            defs.forEach(([, g2], j) => {
              assert.equal(index.groupOf(i) === index.groupOf(j), g === g2);
            });
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});
