// Invariant: openFwknop, parseFwknopPlaintext and parseFwknopAccess never throw; openFwknop ends every packet, under every key set, in "ok" or a FwknopRejectReason whose cheap rungs are exact (fwknop-length iff the size is outside [MIN, MAX_FWKNOP_PACKET_BYTES], fwknop-prefix iff it starts with U2FsdGVkX1), with an HMAC key nothing but a packet sealed with that key gets past fwknop-hmac, and no mutant is ever accepted; every accepted message has its fields within fwknop's limits and re-encodes to the same plaintext (up to leading zeros in numbers); parseFwknopAccess accepts only a canonical IPv4 address and tcp/udp ports 1-65535, and re-encodes to its input (up to leading zeros in ports).
/**
 * Fuzz targets for src/core/spa/fwknop-wire.ts (docs/fwknop-format.md):
 *   fwknop-packet          mutated packets (seeds: the fwknop client's KAT packets and packets sealed
 *                          with each key set in fixtures.ts), opened with every key set;
 *   fwknop-plaintext       mutated decrypted plaintexts, with the inner digest recomputed (as a client
 *                          holding the key can), so that mutants reach the field parser;
 *   fwknop-access-message  mutated access messages ("IP,proto/port,...");
 * and a fast-check property: arbitrary messages seal, open back, and any one changed byte is refused.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import fc from 'fast-check';
import { FWKNOP_WIRE_REJECT_REASONS } from '../../src/core/reasons.js';
import {
  MAX_FWKNOP_CLIENT_TIMEOUT_S,
  MAX_FWKNOP_MESSAGE_CHARS,
  MAX_FWKNOP_PACKET_BYTES,
  MAX_FWKNOP_USERNAME_CHARS,
  MAX_FWKNOP_VERSION_CHARS,
  MIN_FWKNOP_PACKET_BYTES,
} from '../../src/core/limits.js';
import {
  FWKNOP_DIGEST_TYPES,
  encodeFwknopPlaintext,
  openFwknop,
  parseFwknopAccess,
  parseFwknopPlaintext,
  sealFwknop,
  type FwknopDigestType,
  type FwknopMessage,
  type FwknopOpenResult,
} from '../../src/core/spa/fwknop-wire.js';
import { checkProperty, fuzzIn, testTimeoutMs } from './harness.js';
import { FWKNOP_KEY_SETS, fwknopPlaintexts, fwknopValidPackets } from './fixtures.js';

const REASONS = new Set<string>(FWKNOP_WIRE_REJECT_REASONS);
const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const VALID = fwknopValidPackets();
const VALID_FOR = new Map<string, Set<string>>(
  FWKNOP_KEY_SETS.map((k) => [k.name, new Set(VALID.filter((p) => p.keySet === k.name).map((p) => latin1(p.bytes)))]),
);
const B64_ALPHABET = /^[A-Za-z0-9+/]*$/;
const USERNAME_FORBIDDEN = /["/\\[\]:;|=,+*?<>]/;
const hasNat = (t: number): boolean => t === 2 || t === 4 || t === 5 || t === 6;
const hasTimeout = (t: number): boolean => t === 3 || t === 4 || t === 6;

/** What an accepted message must satisfy, whatever the plaintext was (lib/fko_limits.h, lib/fko_decode.c). */
function assertMessage(m: FwknopMessage): void {
  assert.match(m.random, /^\d{16}$/);
  assert.ok(
    m.username.length >= 1 &&
      Buffer.from(m.username, 'latin1').toString('base64').replace(/=+$/, '').length <= MAX_FWKNOP_USERNAME_CHARS,
  );
  assert.ok(
    /^[\x20-\x7e]+$/.test(m.username) && !USERNAME_FORBIDDEN.test(m.username),
    `username ${JSON.stringify(m.username)}`,
  );
  assert.ok(Number.isSafeInteger(m.timestamp) && m.timestamp >= 0 && m.timestamp <= 2 ** 31 - 1);
  assert.ok(m.version.length >= 1 && m.version.length <= MAX_FWKNOP_VERSION_CHARS && !m.version.includes(':'));
  assert.ok(Number.isInteger(m.messageType) && m.messageType >= 0 && m.messageType <= 6);
  assert.ok(m.message.length >= 1 && !m.message.includes('\0'));
  if (m.messageType === 0) {
    const comma = m.message.indexOf(',');
    assert.ok(
      comma > 0 && comma < m.message.length - 1 && isIP(m.message.slice(0, comma)) === 4,
      `command message ${JSON.stringify(m.message)}`,
    );
  } else {
    assert.notEqual(parseFwknopAccess(m.message), null, `access message ${JSON.stringify(m.message)}`);
  }
  assert.equal(m.natAccess !== null, hasNat(m.messageType));
  assert.equal(m.clientTimeout !== null, hasTimeout(m.messageType));
  if (m.clientTimeout !== null)
    assert.ok(
      Number.isInteger(m.clientTimeout) && m.clientTimeout >= 0 && m.clientTimeout <= MAX_FWKNOP_CLIENT_TIMEOUT_S,
    );
  if (m.serverAuth !== null) assert.ok(m.serverAuth.length >= 1 && !m.serverAuth.includes('\0'));
  assert.ok(FWKNOP_DIGEST_TYPES.includes(m.digestType));
}

/** An accepted plaintext re-encodes to itself; only numbers written with leading zeros may differ, by value. */
function assertReencodes(plaintext: string, m: FwknopMessage): void {
  if (m.clientTimeout === 0) return; // fwknopd reads a client timeout of 0 (strtol); the encoder, like fwknop's client, never writes one
  const again = encodeFwknopPlaintext(
    {
      username: m.username,
      timestamp: m.timestamp,
      version: m.version,
      messageType: m.messageType,
      message: m.message,
      natAccess: m.natAccess,
      serverAuth: m.serverAuth,
      clientTimeout: m.clientTimeout,
      digestType: m.digestType,
    },
    m.random,
  );
  const back = parseFwknopPlaintext(again);
  assert.ok(back.ok);
  assert.deepEqual(back.message, m, 'parse(encode(m)) differs from m');
  if (again === plaintext) return;
  const a = plaintext.split(':');
  const b = again.split(':');
  assert.equal(a.length, b.length, `re-encoded to ${again}`);
  const numeric = new Set([2, 4, ...(m.clientTimeout !== null ? [a.length - 2] : [])]);
  for (let i = 0; i < a.length - 1; i++) {
    if (a[i] === b[i]) continue;
    assert.ok(
      numeric.has(i) && /^0\d/.test(a[i] as string) && Number(a[i]) === Number(b[i]),
      `field ${i}: ${a[i]} re-encodes as ${b[i]}`,
    );
  }
}

function checkOpen(packet: Uint8Array, keySet: (typeof FWKNOP_KEY_SETS)[number]): string {
  const r: FwknopOpenResult = openFwknop(packet, keySet.keys);
  const n = packet.length;
  const text = latin1(packet);
  const valid = VALID_FOR.get(keySet.name)?.has(text) ?? false;
  if (!r.ok) {
    assert.ok(REASONS.has(r.reason), `unknown reason ${String(r.reason)}`);
    assert.ok(!valid, `a valid ${keySet.name} packet was rejected: ${r.reason}`);
    const inRange = n >= MIN_FWKNOP_PACKET_BYTES && n <= MAX_FWKNOP_PACKET_BYTES;
    assert.equal(r.reason === 'fwknop-length', !inRange, `fwknop-length for ${n} bytes`);
    if (inRange) assert.equal(r.reason === 'fwknop-prefix', text.startsWith('U2FsdGVkX1'), 'fwknop-prefix');
    if (inRange && !text.startsWith('U2FsdGVkX1') && !B64_ALPHABET.test(text))
      assert.equal(r.reason, 'fwknop-malformed');
    if (keySet.keys.hmacKey !== null) {
      // Past the HMAC only with the key: every reason after it, and a malformed plaintext, are out of reach.
      assert.ok(
        r.reason !== 'fwknop-decrypt' && r.reason !== 'fwknop-digest',
        `${r.reason} behind an HMAC (${keySet.name})`,
      );
      if (r.reason === 'fwknop-malformed')
        assert.ok(!B64_ALPHABET.test(text), 'a base64 packet reported malformed behind an HMAC');
    }
    return r.reason;
  }
  assert.ok(valid, `ACCEPTED A MUTANT under ${keySet.name}: no client sealed this packet`);
  assertMessage(r.message);
  return 'ok';
}

/** Digest types by the length of their unpadded base64 (lib/fko_decode.c). */
const DIGEST_BY_LENGTH = new Map<number, FwknopDigestType[]>([
  [22, ['md5']],
  [27, ['sha1']],
  [43, ['sha256', 'sha3-256']],
  [64, ['sha384']],
  [86, ['sha512', 'sha3-512']],
]);
const NODE_HASH: Record<FwknopDigestType, string> = {
  md5: 'md5',
  sha1: 'sha1',
  sha256: 'sha256',
  sha384: 'sha384',
  sha512: 'sha512',
  'sha3-256': 'sha3-256',
  'sha3-512': 'sha3-512',
};
const digestOf = (type: FwknopDigestType, data: string): string =>
  createHash(NODE_HASH[type]).update(data, 'latin1').digest('base64').replace(/=+$/, '');

function checkPlaintext(input: Uint8Array): string {
  const text = latin1(input);
  const raw = parseFwknopPlaintext(text);
  assert.ok(raw.ok || raw.reason === 'fwknop-malformed' || raw.reason === 'fwknop-digest', JSON.stringify(raw));
  const colon = text.lastIndexOf(':');
  const types = colon < 0 ? undefined : DIGEST_BY_LENGTH.get(text.length - colon - 1);
  // What a client with the key can send: the same fields with a matching digest of the type the length names.
  const encoded = text.slice(0, Math.max(colon, 0));
  const type = types?.[(input[0] ?? 0) & (types.length - 1)];
  const fixed = type === undefined ? text : `${encoded}:${digestOf(type, encoded)}`;
  const r = fixed === text ? raw : parseFwknopPlaintext(fixed);
  if (raw.ok)
    assert.ok(
      types?.some((ty) => digestOf(ty, encoded) === text.slice(colon + 1)),
      'accepted with a wrong digest',
    );
  if (!r.ok) {
    assert.ok(
      r.reason === 'fwknop-malformed' || (r.reason === 'fwknop-digest' && type === undefined),
      `${r.reason} with a recomputed digest`,
    );
    return `${raw.ok ? 'ok' : raw.reason}/fixed:${r.reason}`;
  }
  assertMessage(r.message);
  assertReencodes(fixed, r.message);
  return `${raw.ok ? 'ok' : raw.reason}/fixed:ok:type${r.message.messageType}`;
}

function checkAccess(input: Uint8Array): string {
  const text = latin1(input);
  const r = parseFwknopAccess(text);
  if (r === null) return 'null';
  assert.ok(text.length < MAX_FWKNOP_MESSAGE_CHARS);
  assert.equal(isIP(r.address), 4, `address ${r.address}`);
  assert.ok(r.ports.length >= 1 && r.ports.length === text.split(',').length - 1);
  for (const p of r.ports)
    assert.ok((p.proto === 'tcp' || p.proto === 'udp') && Number.isInteger(p.port) && p.port >= 1 && p.port <= 65_535);
  const canonical = text.replace(/\/0+(?=\d)/g, '/');
  assert.equal(
    `${r.address},${r.ports.map((p) => `${p.proto}/${p.port}`).join(',')}`,
    canonical,
    'does not re-encode to its input',
  );
  return `ok:${Math.min(r.ports.length, 3)}`;
}

const WIRE_DICTIONARY = ['U2FsdGVkX1', 'A', '/', '+', '=', 'AAAA', '////'];
const PLAINTEXT_DICTIONARY = [
  ':',
  '0',
  '1',
  '2',
  '3',
  '4',
  '5',
  '6',
  '7',
  '00',
  '65536',
  '65537',
  '2147483647',
  '2147483648',
  '3.0.0',
  '2.0.3',
  'cm9vdA',
  'MTAuMC4wLjEsdGNwLzIy',
  'MTAuMC4wLjE',
  'LA',
  'AA',
  'AAA',
  'AAAA',
  '==',
  '1234567890123456',
];

describe('fuzz: fwknop SPA (src/core/spa/fwknop-wire.ts)', () => {
  it('fwknop-packet: mutated packets under every key set', { timeout: testTimeoutMs() }, async (t) => {
    await fuzzIn(t, {
      name: 'fwknop-packet',
      kind: 'binary',
      maxBytes: 512,
      dictionary: WIRE_DICTIONARY,
      seeds: VALID.map((p) => p.bytes),
      budgetShare: 0.35,
      check: (packet) => {
        const outcomes = new Set(FWKNOP_KEY_SETS.map((k) => checkOpen(packet, k)));
        return [...outcomes].sort().join('+');
      },
    });
  });

  it('fwknop-plaintext: mutated plaintexts, inner digest recomputed', { timeout: testTimeoutMs() }, async (t) => {
    await fuzzIn(t, {
      name: 'fwknop-plaintext',
      kind: 'text',
      maxBytes: 1_024,
      dictionary: PLAINTEXT_DICTIONARY,
      seeds: fwknopPlaintexts().map(ascii),
      budgetShare: 0.25,
      check: checkPlaintext,
    });
  });

  it('fwknop-access-message: mutated access messages', { timeout: testTimeoutMs() }, async (t) => {
    await fuzzIn(t, {
      name: 'fwknop-access-message',
      kind: 'text',
      maxBytes: 400,
      dictionary: [
        ',',
        '/',
        '.',
        'tcp/',
        'udp/',
        'TCP',
        '0',
        '00022',
        '65535',
        '65536',
        '255',
        '256',
        '1.2.3.4',
        '::ffff:1.2.3.4',
      ],
      budgetShare: 0.15,
      check: checkAccess,
    });
  });

  it('property: arbitrary access messages seal, open back, and any one changed byte is refused', {
    timeout: testTimeoutMs(),
  }, async (t) => {
    const octet = fc.integer({ min: 0, max: 255 });
    const message = fc
      .tuple(
        fc.tuple(octet, octet, octet, octet),
        fc.array(fc.tuple(fc.constantFrom('tcp', 'udp'), fc.integer({ min: 1, max: 65_535 })), {
          minLength: 1,
          maxLength: 3,
        }),
      )
      .map(([ip, ports]) => `${ip.join('.')},${ports.map(([p, n]) => `${p}/${n}`).join(',')}`);
    const username = fc.stringMatching(/^[A-Za-z0-9_.@-]{1,16}$/);
    await checkProperty(
      t,
      'fwknop-seal-open-mutate',
      fc.property(
        fc.constantFrom(...FWKNOP_KEY_SETS),
        username,
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        message,
        fc.constantFrom(...FWKNOP_DIGEST_TYPES),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.stringMatching(/^\d{16}$/),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        ({ keys }, user, ts, msg, digestType, salt, randomDigits, where, xor) => {
          let packet: Uint8Array;
          try {
            packet = sealFwknop({ username: user, timestamp: ts, messageType: 1, message: msg, digestType }, keys, {
              salt,
              randomDigits,
            });
          } catch (e) {
            fc.pre(!/the packet would be/.test((e as Error).message)); // too long for fwknopd: not a packet
            throw e;
          }
          const r = openFwknop(packet, keys);
          assert.ok(r.ok, r.ok ? '' : r.reason);
          assert.deepEqual(
            [r.message.username, r.message.timestamp, r.message.message, r.message.random],
            [user, ts, msg, randomDigits],
          );
          const m = Uint8Array.from(packet);
          const i = where % m.length;
          m[i] = (m[i] as number) ^ xor;
          const bad = openFwknop(m, keys);
          assert.ok(!bad.ok, `a packet with byte ${i} changed was accepted`);
          if (keys.hmacKey !== null)
            assert.ok(['fwknop-hmac', 'fwknop-malformed', 'fwknop-prefix'].includes(bad.reason), bad.reason);
        },
      ),
      { share: 0.2 },
    );
  });
});
