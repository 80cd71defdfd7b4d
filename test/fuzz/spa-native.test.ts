// Invariant: openSpa never throws and ends every datagram in "ok" or one of rungs 1-6 (spa-length exactly when the size is outside [MIN_SPA_BYTES, MAX_SPA_BYTES], spa-mac1 exactly when mac1 does not match, never a later rung's reason); junk never yields a grant (an accepted datagram is byte-identical to one a client sealed); any single-byte change to a valid packet is rejected, at spa-mac1, or at spa-decrypt when the sender also recomputes mac1; and an authenticated body is accepted exactly when it re-encodes to the same bytes, its request within the wire's bounds.
/**
 * Fuzz targets for src/core/spa/native-wire.ts (and the native-*.ts parts it composes), with a real server key and clients built with
 * src/core/spa/keys.ts (test/fuzz/fixtures.ts):
 *   spa-native       mutated datagrams, opened as they are and again with mac1 recomputed (as a
 *                    sender who knows the server's public key can), so that mutants reach rung 3;
 *   spa-native-body  mutated bodies, sealed by a real client, so that mutants reach rungs 5 and 6;
 * then every byte of every valid seed flipped, and a fast-check property over arbitrary requests,
 * clients and single-byte changes.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import fc from 'fast-check';
import type { Endpoint } from '../../src/core/endpoint.js';
import { MAX_SPA_BYTES, MAX_SPA_PORTS, MIN_SPA_BYTES, SPA_NONCE_BYTES } from '../../src/core/limits.js';
import { SPA_REJECT_REASONS } from '../../src/core/reasons.js';
import { decodeSpaBody, encodeSpaBody, type SpaRequest } from '../../src/core/spa/native-request.js';
import { openSpa, sealRawBody, sealSpa } from '../../src/core/spa/native-wire.js';
import type { SpaClientKey } from '../../src/core/spa/native-client-auth.js';
import { checkProperty, fuzzIn, testTimeoutMs } from './harness.js';
import {
  SPA_ED_CLIENT,
  SPA_PSK_CLIENT,
  SPA_SERVER,
  SPA_SSH_CLIENT,
  derivedBytes,
  spaLookup,
  spaValidPackets,
} from './fixtures.js';

const hexOf = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
/** openSpa answers with the first failing rung of 1-6; 7-9 are the caller's. */
const OPEN_REASONS = new Set<string>(SPA_REJECT_REASONS.slice(0, SPA_REJECT_REASONS.indexOf('spa-malformed') + 1));
const VALID = spaValidPackets();
const VALID_HEX = new Set(VALID.map((p) => hexOf(p.bytes)));
const MAC1_BYTES = 16;
const AUTH_BYTES = { psk: 32, ed25519: 64, 'ssh-ed25519': 64 } as const;

function mac1Of(d: Uint8Array): Buffer {
  return createHmac('sha256', SPA_SERVER.mac1Key)
    .update(d.subarray(0, d.length - MAC1_BYTES))
    .digest()
    .subarray(0, MAC1_BYTES);
}
/** The datagram with mac1 recomputed, as someone who knows the server's public key can. */
function withMac1(d: Uint8Array): Uint8Array {
  const out = Uint8Array.from(d);
  out.set(mac1Of(out), out.length - MAC1_BYTES);
  return out;
}

function assertRequestInBounds(r: SpaRequest): void {
  assert.ok(Number.isSafeInteger(r.timestampMs) && r.timestampMs >= 0);
  assert.equal(r.nonce.length, SPA_NONCE_BYTES);
  assert.ok(Number.isInteger(r.durationS) && r.durationS >= 0 && r.durationS <= 0xffff_ffff);
  if (r.address === null) assert.ok(r.prefix >= 0 && r.prefix <= 128);
  else {
    assert.equal(r.address.bytes.length, r.address.family === 4 ? 4 : 16);
    assert.ok(r.prefix >= 1 && r.prefix <= (r.address.family === 4 ? 32 : 128));
  }
  assert.ok(r.ports.length <= MAX_SPA_PORTS);
  for (const p of r.ports)
    assert.ok((p.proto === 'tcp' || p.proto === 'udp') && Number.isInteger(p.port) && p.port >= 1 && p.port <= 65_535);
}

/** Opens `d` and checks everything the result must satisfy; returns "ok" or the reason. */
function openChecked(d: Uint8Array): string {
  const n = d.length;
  const r = openSpa(d, SPA_SERVER, spaLookup);
  const inRange = n >= MIN_SPA_BYTES && n <= MAX_SPA_BYTES;
  if (!r.ok) {
    assert.ok(OPEN_REASONS.has(r.reason), `openSpa returned ${r.reason}, not a reason of rungs 1-6`);
    assert.equal(r.reason === 'spa-length', !inRange, `spa-length for a ${n}-byte datagram`);
    if (inRange)
      assert.equal(
        r.reason === 'spa-mac1',
        !timingSafeEqual(mac1Of(d), d.subarray(n - MAC1_BYTES)),
        'spa-mac1 disagrees with mac1',
      );
    assert.ok(!VALID_HEX.has(hexOf(d)), `a valid packet was rejected: ${r.reason}`);
    return r.reason;
  }
  assert.ok(VALID_HEX.has(hexOf(d)), 'GRANT FROM JUNK: a datagram no client sealed was accepted');
  assertRequestInBounds(r.request);
  const cidHex = r.replayKey.slice(0, 32);
  assert.equal(r.replayKey, cidHex + hexOf(r.request.nonce));
  assert.equal(spaLookup(cidHex), r.client);
  // E' + cid + body + auth + tag + mac1: the request re-encodes to exactly the body the datagram carried.
  assert.equal(32 + 16 + encodeSpaBody(r.request).length + AUTH_BYTES[r.client.mode] + 16 + MAC1_BYTES, n);
  return 'ok';
}

const CLIENT_FOR_BODY = SPA_PSK_CLIENT;

describe('fuzz: native SPA (src/core/spa/native-wire.ts)', () => {
  it('spa-native: mutated datagrams, as sent and with mac1 recomputed', { timeout: testTimeoutMs() }, async (t) => {
    await fuzzIn(t, {
      name: 'spa-native',
      kind: 'binary',
      maxBytes: 600,
      seeds: VALID.map((p) => p.bytes),
      budgetShare: 0.35,
      check: (d) => {
        const raw = openChecked(d);
        if (d.length < MIN_SPA_BYTES || d.length > MAX_SPA_BYTES) return raw;
        return `${raw}/mac1-fixed:${openChecked(withMac1(d))}`;
      },
    });
  });

  it('spa-native-body: mutated bodies, sealed by a real client', { timeout: testTimeoutMs() }, async (t) => {
    await fuzzIn(t, {
      name: 'spa-native-body',
      kind: 'binary',
      maxBytes: 400,
      budgetShare: 0.3,
      check: (body) => {
        const d = sealRawBody({
          serverPublicKey: SPA_SERVER.publicKey,
          doorId: 'fuzz-door',
          clientId: CLIENT_FOR_BODY.cid,
          secret: CLIENT_FOR_BODY.secret,
          body,
          ephemeralPrivate: derivedBytes('eph-body', 32),
          topBit: 1,
        });
        const r = openSpa(d, SPA_SERVER, spaLookup);
        const inRange = d.length >= MIN_SPA_BYTES && d.length <= MAX_SPA_BYTES;
        const decoded = decodeSpaBody(body);
        if (!inRange) {
          assert.deepEqual(r, { ok: false, reason: 'spa-length' });
          return 'spa-length';
        }
        if (decoded === null) {
          assert.deepEqual(
            r,
            { ok: false, reason: 'spa-malformed' },
            'an authenticated body that does not parse must be spa-malformed',
          );
          return 'spa-malformed';
        }
        assert.ok(r.ok, `an authenticated, well-formed body was rejected: ${r.ok ? '' : r.reason}`);
        assert.deepEqual(r.request, decoded);
        assertRequestInBounds(r.request);
        // Exact parsing: what is accepted re-encodes to the very bytes that were authenticated.
        assert.equal(hexOf(encodeSpaBody(r.request)), hexOf(body), 'accepted body does not re-encode to itself');
        return `ok:${r.request.address?.family ?? 0}:${r.request.ports.length > 0 ? 'ports' : 'default'}`;
      },
    });
  });

  it('every byte of every valid seed, changed: rejected at spa-mac1, and at spa-decrypt with mac1 recomputed', () => {
    let checked = 0;
    for (const p of VALID) {
      assert.equal(openChecked(p.bytes), 'ok', p.name);
      for (let i = 0; i < p.bytes.length; i++) {
        const d = Uint8Array.from(p.bytes);
        d[i] = (d[i] as number) ^ (1 + ((i * 37 + p.bytes.length) % 255));
        assert.equal(openChecked(d), 'spa-mac1', `${p.name} byte ${i}`);
        // Changing mac1 itself and then recomputing it gives the packet back; any other change fails the AEAD.
        assert.equal(
          openChecked(withMac1(d)),
          i < d.length - MAC1_BYTES ? 'spa-decrypt' : 'ok',
          `${p.name} byte ${i}, mac1 recomputed`,
        );
        checked++;
      }
    }
    assert.ok(checked > 1_000);
  });

  it('property: any sealed request opens to itself, and any single-byte change of it is rejected', {
    timeout: testTimeoutMs(),
  }, async (t) => {
    const bytes = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n });
    const endpoint: fc.Arbitrary<Endpoint> = fc.record({
      proto: fc.constantFrom<'tcp' | 'udp'>('tcp', 'udp'),
      port: fc.integer({ min: 1, max: 65_535 }),
    });
    const target = fc.oneof(
      fc.record({ address: fc.constant(null), prefix: fc.integer({ min: 0, max: 128 }) }),
      fc.record({
        address: bytes(4).map((b) => ({ family: 4 as const, bytes: b })),
        prefix: fc.integer({ min: 1, max: 32 }),
      }),
      fc.record({
        address: bytes(16).map((b) => ({ family: 6 as const, bytes: b })),
        prefix: fc.integer({ min: 1, max: 128 }),
      }),
    );
    const request: fc.Arbitrary<SpaRequest> = fc
      .record({
        timestampMs: fc.maxSafeNat(),
        nonce: bytes(16),
        durationS: fc.nat({ max: 0xffff_ffff }),
        target,
        ports: fc.array(endpoint, { maxLength: MAX_SPA_PORTS }),
      })
      .map(({ target: tg, ...r }) => ({ ...r, ...tg }));
    await checkProperty(
      t,
      'spa-native-seal-open-mutate',
      fc.property(
        request,
        fc.constantFrom(SPA_PSK_CLIENT, SPA_ED_CLIENT, SPA_SSH_CLIENT),
        bytes(32),
        fc.constantFrom<0 | 1>(0, 1),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (req, client, eph, topBit, where, xor) => {
          const d = sealSpa({
            serverPublicKey: SPA_SERVER.publicKey,
            doorId: 'fuzz-door',
            clientId: client.cid,
            secret: client.secret,
            request: req,
            ephemeralPrivate: eph,
            topBit,
          });
          const r = openSpa(d, SPA_SERVER, spaLookup);
          assert.ok(r.ok, r.ok ? '' : r.reason);
          assert.deepEqual(r.request, { ...req, ports: req.ports.map((e) => ({ proto: e.proto, port: e.port })) });
          assert.equal(r.client, client.key as SpaClientKey);
          const i = where % d.length;
          const m = Uint8Array.from(d);
          m[i] = (m[i] as number) ^ xor;
          assert.deepEqual(openSpa(m, SPA_SERVER, spaLookup), { ok: false, reason: 'spa-mac1' });
          if (i < d.length - MAC1_BYTES)
            assert.deepEqual(openSpa(withMac1(m), SPA_SERVER, spaLookup), { ok: false, reason: 'spa-decrypt' });
        },
      ),
      { share: 0.3 },
    );
  });
});
