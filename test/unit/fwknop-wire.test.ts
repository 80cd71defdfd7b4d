/**
 * Covers fwknop compatibility (docs/fwknop-format.md):
 *   src/core/spa/fwknop-wire.ts  openFwknop, decryptFwknop, parseFwknopPlaintext, sealFwknop,
 *                                encodeFwknopPlaintext, deriveFwknopAesKey, fwknopReplayDigest,
 *                                parseFwknopAccess, fwknopKeysProblem
 *   test/fixtures/fwknop-kat.json  packets from the real fwknop client (2.6.10, and one pre-2.5),
 *                                every one opened and rebuilt byte for byte
 * Properties state their invariant in the first line of their description.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import {
  FWKNOP_DIGEST_TYPES,
  FWKNOP_HMAC_TYPES,
  decryptFwknop,
  deriveFwknopAesKey,
  encodeFwknopPlaintext,
  fwknopKeysProblem,
  fwknopReplayDigest,
  openFwknop,
  parseFwknopAccess,
  parseFwknopPlaintext,
  sealFwknop,
  type FwknopDigestType,
  type FwknopHmacType,
  type FwknopKeys,
  type FwknopMessage,
  type FwknopSealInput,
} from '../../src/core/spa/fwknop-wire.js';
import { FWKNOP_WIRE_REJECT_REASONS } from '../../src/core/reasons.js';
import { MAX_FWKNOP_PACKET_BYTES, MIN_FWKNOP_PACKET_BYTES } from '../../src/core/limits.js';
import { FWKNOP_ENCRYPTION_MODES } from '../../src/core/spa/fwknop-cipher.js';

// ---------------------------------------------------------------------------------------------
// Fixtures and helpers

interface Kat {
  readonly KEY?: string;
  readonly KEY_BASE64?: string;
  readonly HMAC_KEY?: string;
  readonly HMAC_KEY_BASE64?: string;
  readonly hmac?: string;
  readonly wire: string;
  readonly plaintext?: string;
  readonly salt_hex?: string;
  readonly [k: string]: unknown;
}
const FIXTURE = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../test/fixtures/fwknop-kat.json', import.meta.url)), 'utf8'),
) as Record<string, Kat>;
const kat = (name: string): Kat => {
  const k = FIXTURE[name];
  assert.ok(k, `fixture ${name}`);
  return k;
};
const KAT1 = kat('kat1_client_T_mode') as Kat & {
  rand: string;
  user: string;
  ts: number;
  version: string;
  type: number;
  msg: string;
  salt_hex: string;
  aes_key_hex: string;
  aes_iv_hex: string;
  encoded: string;
  inner_digest: string;
  hmac_b64: string;
  replay_digest: string;
};
const KAT2 = kat('kat2_on_the_wire_accepted_by_fwknopd') as Kat & { fwknopd_digest_cache_line: string };
const KATS = Object.keys(FIXTURE).filter((k) => k.startsWith('kat'));

const PREFIX = 'U2FsdGVkX1';
const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64').replace(/=+$/, '');
const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('latin1');
const HMAC_CHARS: Record<FwknopHmacType, number> = {
  md5: 22,
  sha1: 27,
  sha256: 43,
  sha384: 64,
  sha512: 86,
  'sha3-256': 43,
  'sha3-512': 86,
};

function keysOf(k: Kat): FwknopKeys {
  const key = k.KEY_BASE64 !== undefined ? Buffer.from(k.KEY_BASE64, 'base64') : Buffer.from(k.KEY as string, 'latin1');
  const hmacKey =
    k.HMAC_KEY_BASE64 !== undefined
      ? Buffer.from(k.HMAC_KEY_BASE64, 'base64')
      : k.HMAC_KEY !== undefined
        ? Buffer.from(k.HMAC_KEY, 'latin1')
        : null;
  const named = typeof k.mode === 'string' ? (k.mode.startsWith('legacy') ? 'legacy' : k.mode) : 'cbc';
  const mode = FWKNOP_ENCRYPTION_MODES.find((m) => m === named);
  assert.ok(mode, `fixture mode ${String(k.mode)}`);
  return {
    key: new Uint8Array(key),
    encryptionMode: mode,
    hmacKey: hmacKey && new Uint8Array(hmacKey),
    hmacType: (k.hmac as FwknopHmacType | undefined) ?? 'sha256',
  };
}
/** The encrypted part of a wire string: the HMAC (if any) cut off, "U2FsdGVkX1" restored. */
function encryptedPart(wire: string, keys: FwknopKeys): string {
  return PREFIX + (keys.hmacKey ? wire.slice(0, wire.length - HMAC_CHARS[keys.hmacType]) : wire);
}
function saltOf(wire: string, keys: FwknopKeys): Uint8Array {
  const raw = Buffer.from(encryptedPart(wire, keys), 'base64');
  assert.equal(raw.subarray(0, 8).toString('latin1'), 'Salted__');
  return new Uint8Array(raw.subarray(8, 16));
}
/** The fields of a fixture plaintext, decoded by hand (only the plain access message shape occurs). */
function fieldsOf(plaintext: string): Omit<FwknopMessage, 'digestType'> {
  const f = plaintext.split(':');
  assert.equal(f.length, 7);
  return {
    random: f[0] as string,
    username: unb64(f[1] as string),
    timestamp: Number(f[2]),
    version: f[3] as string,
    messageType: Number(f[4]),
    message: unb64(f[5] as string),
    natAccess: null,
    serverAuth: null,
    clientTimeout: null,
  };
}
/** The input that rebuilds a fixture packet. */
function sealInputOf(plaintext: string, digestType: FwknopDigestType = 'sha256'): FwknopSealInput {
  const m = fieldsOf(plaintext);
  return {
    username: m.username,
    timestamp: m.timestamp,
    version: m.version,
    messageType: m.messageType,
    message: m.message,
    digestType,
  };
}
/** By hand, with node:crypto only: EVP_BytesToKey(MD5, 1 iteration). */
function bytesToKey(pw: Uint8Array, salt: Uint8Array): { key: string; iv: string } {
  const d1 = createHash('md5').update(pw).update(salt).digest();
  const d2 = createHash('md5').update(d1).update(pw).update(salt).digest();
  const d3 = createHash('md5').update(d2).update(pw).update(salt).digest();
  return { key: Buffer.concat([d1, d2]).toString('hex'), iv: d3.toString('hex') };
}
/** Encrypts any plaintext as the client would (for parser rungs the sealer refuses to build). */
function sealRaw(plaintext: string, keys: FwknopKeys, salt: Uint8Array = randomBytes(8)): Uint8Array {
  const { key, iv } = deriveFwknopAesKey(keys.key, salt, keys.encryptionMode);
  const c = createCipheriv('aes-256-cbc', key, iv);
  let wire = b64(Buffer.concat([Buffer.from('Salted__'), salt, c.update(plaintext, 'latin1'), c.final()]));
  if (keys.hmacKey) wire += b64(createHmac(keys.hmacType, keys.hmacKey).update(wire).digest());
  return ascii(wire.slice(PREFIX.length));
}
/** A plaintext with its digest appended. */
function withDigest(encoded: string, type: FwknopDigestType = 'sha256'): string {
  return `${encoded}:${b64(createHash(type).update(encoded).digest())}`;
}

const KEYS: FwknopKeys = {
  key: ascii('an encryption key'),
  encryptionMode: 'cbc',
  hmacKey: ascii('an hmac key'),
  hmacType: 'sha256',
};
const NO_HMAC: FwknopKeys = { ...KEYS, hmacKey: null };
const BASE: FwknopSealInput = {
  username: 'alice',
  timestamp: 1_767_225_600,
  messageType: 1,
  message: '203.0.113.7,tcp/22',
};
const RANDOM = { salt: new Uint8Array(8).fill(7), randomDigits: '0123456789012345' };
const REASONS = new Set<string>(FWKNOP_WIRE_REJECT_REASONS);

function reasonOf(r: ReturnType<typeof openFwknop>): string {
  return r.ok ? 'ok' : r.reason;
}

// ---------------------------------------------------------------------------------------------

describe('fwknop known answers (real client packets)', () => {
  it('kat1: salt, AES key and IV, encoded message, inner digest, HMAC and replay digest', () => {
    const keys = keysOf(KAT1);
    const salt = saltOf(KAT1.wire, keys);
    assert.equal(Buffer.from(salt).toString('hex'), KAT1.salt_hex);
    const derived = deriveFwknopAesKey(keys.key, salt, 'cbc');
    assert.equal(derived.key.toString('hex'), KAT1.aes_key_hex);
    assert.equal(derived.iv.toString('hex'), KAT1.aes_iv_hex);
    assert.deepEqual(bytesToKey(keys.key, salt), { key: KAT1.aes_key_hex, iv: KAT1.aes_iv_hex }); // the KDF, by hand
    assert.equal(b64(createHash('sha256').update(KAT1.encoded).digest()), KAT1.inner_digest);
    // HMAC: the last 43 characters, computed over the encrypted part with "U2FsdGVkX1" restored
    const enc = KAT1.wire.slice(0, -43);
    assert.equal(KAT1.wire.slice(-43), KAT1.hmac_b64);
    assert.equal(
      b64(
        createHmac('sha256', keys.hmacKey as Uint8Array)
          .update(PREFIX + enc)
          .digest(),
      ),
      KAT1.hmac_b64,
    );
    assert.notEqual(
      b64(
        createHmac('sha256', keys.hmacKey as Uint8Array)
          .update(enc)
          .digest(),
      ),
      KAT1.hmac_b64,
    );
    // replay digest: SHA-256 of the whole packet as sent
    assert.equal(fwknopReplayDigest(ascii(KAT1.wire)), KAT1.replay_digest);
    const d = decryptFwknop(ascii(KAT1.wire), keys);
    assert.deepEqual(d, { ok: true, plaintext: `${KAT1.encoded}:${KAT1.inner_digest}` });
    assert.deepEqual(openFwknop(ascii(KAT1.wire), keys), {
      ok: true,
      message: {
        random: KAT1.rand,
        username: KAT1.user,
        timestamp: KAT1.ts,
        version: KAT1.version,
        messageType: KAT1.type,
        message: KAT1.msg,
        natAccess: null,
        serverAuth: null,
        clientTimeout: null,
        digestType: 'sha256',
      },
    });
  });

  it('kat1: sealFwknop with its inputs reproduces the wire byte for byte', () => {
    const input: FwknopSealInput = {
      username: KAT1.user,
      timestamp: KAT1.ts,
      version: KAT1.version,
      messageType: KAT1.type,
      message: KAT1.msg,
    };
    assert.equal(encodeFwknopPlaintext(input, KAT1.rand), `${KAT1.encoded}:${KAT1.inner_digest}`);
    const wire = sealFwknop(input, keysOf(KAT1), { salt: Buffer.from(KAT1.salt_hex, 'hex'), randomDigits: KAT1.rand });
    assert.equal(text(wire), KAT1.wire);
  });

  it('kat2: the replay digest is the one fwknopd wrote to its digest cache', () => {
    assert.equal(fwknopReplayDigest(ascii(KAT2.wire)), KAT2.fwknopd_digest_cache_line.split(' ')[0]);
    assert.equal(Buffer.from(saltOf(KAT2.wire, keysOf(KAT2))).toString('hex'), KAT2.salt_hex);
  });

  for (const name of KATS) {
    const k = kat(name);
    it(`${name}: decrypts to exactly the fixture plaintext and parses to its fields`, () => {
      const keys = keysOf(k);
      const plaintext = k.plaintext ?? `${KAT1.encoded}:${KAT1.inner_digest}`;
      assert.deepEqual(decryptFwknop(ascii(k.wire), keys), { ok: true, plaintext });
      assert.deepEqual(openFwknop(ascii(k.wire), keys), {
        ok: true,
        message: { ...fieldsOf(plaintext), digestType: 'sha256' },
      });
    });
    it(`${name}: rebuilt byte for byte from its fields and the salt in the wire`, () => {
      const keys = keysOf(k);
      const plaintext = k.plaintext ?? `${KAT1.encoded}:${KAT1.inner_digest}`;
      const wire = sealFwknop(sealInputOf(plaintext), keys, {
        salt: saltOf(k.wire, keys),
        randomDigits: plaintext.slice(0, 16),
      });
      assert.equal(text(wire), k.wire);
    });
  }

  it('legacy packets do not open in cbc mode, nor cbc packets in legacy mode (short keys)', () => {
    for (const name of ['kat4_legacy_iv_no_hmac_2610_client', 'kat5_legacy_pre25_client_from_upstream_test_suite']) {
      const keys = keysOf(kat(name));
      assert.equal(keys.encryptionMode, 'legacy');
      assert.equal(reasonOf(openFwknop(ascii(kat(name).wire), { ...keys, encryptionMode: 'cbc' })), 'fwknop-decrypt');
    }
    const sealed = sealFwknop(BASE, { ...NO_HMAC, key: ascii('short') }, RANDOM);
    assert.equal(
      reasonOf(openFwknop(sealed, { ...NO_HMAC, key: ascii('short'), encryptionMode: 'legacy' })),
      'fwknop-decrypt',
    );
  });

  it('legacy mode: the key is right-padded with "0" to 16 bytes, or cut to 16', () => {
    const salt = ascii('saltsalt');
    assert.deepEqual(
      deriveFwknopAesKey(ascii('shortpw'), salt, 'legacy'),
      deriveFwknopAesKey(ascii('shortpw000000000'), salt, 'cbc'),
    );
    assert.deepEqual(
      deriveFwknopAesKey(ascii('0123456789abcdefXYZ'), salt, 'legacy'),
      deriveFwknopAesKey(ascii('0123456789abcdef'), salt, 'cbc'),
    );
    // with a key of exactly 16 bytes the two modes agree
    const k16 = { ...NO_HMAC, key: ascii('sixteen byte key') };
    assert.equal(openFwknop(sealFwknop(BASE, k16, RANDOM), { ...k16, encryptionMode: 'legacy' }).ok, true);
  });
});

describe('fwknop seal → open round trips', () => {
  const modes: FwknopKeys['encryptionMode'][] = ['cbc', 'legacy'];
  for (const hmacType of FWKNOP_HMAC_TYPES) {
    for (const encryptionMode of modes) {
      it(`HMAC ${hmacType}, ${encryptionMode}: access (1) and client timeout access (3)`, () => {
        const keys: FwknopKeys = {
          key: randomBytes(32),
          encryptionMode,
          hmacKey: randomBytes(hmacType === 'sha3-256' ? 136 : 64),
          hmacType,
        };
        for (const input of [BASE, { ...BASE, messageType: 3, clientTimeout: 45 }]) {
          const wire = sealFwknop(input, keys, { salt: randomBytes(8), randomDigits: '9876543210987654' });
          assert.equal(wire.length, text(wire).length);
          assert.ok(!text(wire).startsWith(PREFIX) && /^[A-Za-z0-9+/]+$/.test(text(wire)));
          const r = openFwknop(wire, keys);
          assert.ok(r.ok, reasonOf(r));
          assert.deepEqual(r.message, {
            random: '9876543210987654',
            username: 'alice',
            timestamp: BASE.timestamp,
            version: '3.0.0',
            messageType: input.messageType,
            message: BASE.message,
            natAccess: null,
            serverAuth: null,
            clientTimeout: input.clientTimeout ?? null,
            digestType: 'sha256',
          });
          // the HMAC is the tail, and the packet does not open without it or with another type
          assert.equal(
            reasonOf(openFwknop(wire, { ...keys, hmacType: hmacType === 'md5' ? 'sha1' : 'md5' })),
            'fwknop-hmac',
          );
          assert.notEqual(reasonOf(openFwknop(wire, { ...keys, hmacKey: null })), 'ok');
        }
      });
    }
  }

  for (const encryptionMode of modes) {
    it(`no HMAC, ${encryptionMode}: types 1 and 3`, () => {
      const keys: FwknopKeys = { ...NO_HMAC, encryptionMode };
      for (const input of [BASE, { ...BASE, messageType: 3, clientTimeout: 65_536 }]) {
        const r = openFwknop(sealFwknop(input, keys, RANDOM), keys);
        assert.ok(r.ok, reasonOf(r));
        assert.equal(r.message.clientTimeout, input.clientTimeout ?? null);
      }
    });
  }

  for (const digestType of FWKNOP_DIGEST_TYPES) {
    it(`inner digest ${digestType} is recognised by its length (and tried as SHA-3 on a tie)`, () => {
      const r = openFwknop(sealFwknop({ ...BASE, digestType }, KEYS, RANDOM), KEYS);
      assert.ok(r.ok, reasonOf(r));
      assert.equal(r.message.digestType, digestType);
    });
  }

  it('every message type: command, NAT, local NAT, timeouts, server auth', () => {
    const cases: FwknopSealInput[] = [
      { ...BASE, messageType: 0, message: '203.0.113.7,echo hello > /tmp/x' },
      { ...BASE, messageType: 2, natAccess: '192.168.1.10,22' },
      { ...BASE, messageType: 4, natAccess: 'internal.example,2222', clientTimeout: 30 },
      { ...BASE, messageType: 5, natAccess: '127.0.0.1,22' },
      { ...BASE, messageType: 6, natAccess: '127.0.0.1,22', clientTimeout: 1 },
      { ...BASE, serverAuth: 'crypt,secret' },
      { ...BASE, messageType: 3, clientTimeout: 10, serverAuth: 'pw' },
      { ...BASE, messageType: 4, natAccess: '10.1.1.1,80', clientTimeout: 10, serverAuth: 'pw' },
      { ...BASE, username: 'Some User-1.x', message: '0.0.0.0,tcp/22,udp/53,tcp/65535' },
    ];
    for (const input of cases) {
      const r = openFwknop(sealFwknop(input, KEYS, RANDOM), KEYS);
      assert.ok(r.ok, `${JSON.stringify(input)}: ${reasonOf(r)}`);
      assert.equal(r.message.messageType, input.messageType);
      assert.equal(r.message.message, input.message);
      assert.equal(r.message.username, input.username);
      assert.equal(r.message.natAccess, input.natAccess ?? null);
      assert.equal(r.message.serverAuth, input.serverAuth ?? null);
      assert.equal(r.message.clientTimeout, input.clientTimeout ?? null);
    }
  });

  it('property: any valid access request survives seal → open unchanged (sizes kept within 140..399 bytes)', () => {
    const userChar = fc.constantFrom(
      ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.@$!'.split(''),
    );
    const endpoint = fc.record({
      proto: fc.constantFrom('tcp' as const, 'udp' as const),
      port: fc.integer({ min: 1, max: 65_535 }),
    });
    fc.assert(
      fc.property(
        fc.string({ unit: userChar, minLength: 1, maxLength: 16 }).filter((u) => /^[A-Za-z0-9]/.test(u)),
        fc.integer({ min: 1_000_000_000, max: 2 ** 31 - 1 }), // ten digits, as any real clock today
        fc.ipV4(),
        fc.array(endpoint, { minLength: 1, maxLength: 3 }),
        fc.option(fc.integer({ min: 1, max: 65_536 }), { nil: null }),
        fc.constantFrom(...FWKNOP_HMAC_TYPES),
        fc.constantFrom(...FWKNOP_DIGEST_TYPES),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.stringMatching(/^\d{16}$/),
        (username, timestamp, ip, ports, clientTimeout, hmacType, digestType, salt, randomDigits) => {
          const message = `${ip},${ports.map((p) => `${p.proto}/${p.port}`).join(',')}`;
          const input: FwknopSealInput = {
            username,
            timestamp,
            messageType: clientTimeout === null ? 1 : 3,
            message,
            clientTimeout,
            digestType,
          };
          const keys: FwknopKeys = { ...KEYS, hmacType };
          const r = openFwknop(sealFwknop(input, keys, { salt, randomDigits }), keys);
          assert.ok(r.ok, reasonOf(r));
          assert.deepEqual(r.message, {
            random: randomDigits,
            username,
            timestamp,
            version: '3.0.0',
            messageType: input.messageType,
            message,
            natAccess: null,
            serverAuth: null,
            clientTimeout,
            digestType,
          });
          assert.deepEqual(parseFwknopAccess(r.message.message), {
            address: ip,
            ports: ports.map((p) => ({ proto: p.proto, port: p.port })),
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('fwknop rejections', () => {
  const wire = sealFwknop(BASE, KEYS, RANDOM);

  it('wrong HMAC key → fwknop-hmac, before any decryption (even with the right encryption key)', () => {
    assert.equal(reasonOf(openFwknop(wire, { ...KEYS, hmacKey: ascii('another hmac key') })), 'fwknop-hmac');
    assert.equal(reasonOf(openFwknop(ascii(KAT2.wire), { ...keysOf(KAT2), hmacKey: randomBytes(64) })), 'fwknop-hmac');
  });

  it('right HMAC key, wrong encryption key → fwknop-decrypt (or, by a 2^-8 chance on padding, a later rung)', () => {
    assert.equal(
      reasonOf(openFwknop(ascii(KAT2.wire), { ...keysOf(KAT2), key: ascii('not the key') })),
      'fwknop-decrypt',
    );
  });

  it('no HMAC, wrong key → fwknop-decrypt or fwknop-digest, never ok', () => {
    const noHmac = sealFwknop(BASE, NO_HMAC, RANDOM);
    for (let i = 0; i < 50; i++) {
      assert.ok(
        ['fwknop-decrypt', 'fwknop-digest'].includes(
          reasonOf(openFwknop(noHmac, { ...NO_HMAC, key: randomBytes(16) })),
        ),
      );
    }
    assert.equal(
      reasonOf(
        openFwknop(ascii(kat('kat4_legacy_iv_no_hmac_2610_client').wire), {
          ...NO_HMAC,
          key: ascii('shortpx'),
          encryptionMode: 'legacy',
        }),
      ),
      'fwknop-decrypt',
    );
  });

  it('a packet that starts with U2FsdGVkX1 → fwknop-prefix, whatever follows', () => {
    assert.equal(reasonOf(openFwknop(ascii(PREFIX + KAT1.wire), keysOf(KAT1))), 'fwknop-prefix');
    assert.equal(reasonOf(openFwknop(ascii(PREFIX + 'A'.repeat(200)), KEYS)), 'fwknop-prefix');
    // what the client would send unstripped does not open either
    assert.equal(reasonOf(openFwknop(ascii(PREFIX + text(wire).slice(0, -43)), NO_HMAC)), 'fwknop-prefix');
  });

  it('length: below 140 or above 399 bytes → fwknop-length, before anything else', () => {
    assert.equal(MIN_FWKNOP_PACKET_BYTES, 140);
    assert.equal(MAX_FWKNOP_PACKET_BYTES, 399);
    assert.equal(reasonOf(openFwknop(ascii('A'.repeat(139)), KEYS)), 'fwknop-length');
    assert.equal(reasonOf(openFwknop(ascii(PREFIX + 'A'.repeat(390)), KEYS)), 'fwknop-length');
    assert.equal(reasonOf(openFwknop(new Uint8Array(0), KEYS)), 'fwknop-length');
    assert.notEqual(reasonOf(openFwknop(ascii('A'.repeat(140)), KEYS)), 'fwknop-length');
    assert.notEqual(reasonOf(openFwknop(ascii('A'.repeat(399)), KEYS)), 'fwknop-length');
  });

  it('not unpadded base64 text → fwknop-malformed, before the HMAC', () => {
    const w = text(wire);
    for (const bad of [
      `${w.slice(0, 50)}=${w.slice(51)}`,
      `${w.slice(0, 50)}-${w.slice(51)}`,
      `${w.slice(0, 50)}\n${w.slice(51)}`,
      `${w.slice(0, 50)}\u00e9${w.slice(51)}`,
    ]) {
      assert.equal(reasonOf(openFwknop(ascii(bad), KEYS)), 'fwknop-malformed');
    }
  });

  it('property: any single changed character of kat2 (HMAC) and kat4 (no HMAC) is rejected', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    for (const name of ['kat2_on_the_wire_accepted_by_fwknopd', 'kat4_legacy_iv_no_hmac_2610_client']) {
      const k = kat(name);
      const keys = keysOf(k);
      // every position, replaced by the next character of the alphabet (exhaustive over positions)
      for (let i = 0; i < k.wire.length; i++) {
        const next = alphabet[(alphabet.indexOf(k.wire[i] as string) + 1) % 64] as string;
        const r = openFwknop(ascii(k.wire.slice(0, i) + next + k.wire.slice(i + 1)), keys);
        assert.equal(r.ok, false, `${name} position ${i}`);
      }
      fc.assert(
        fc.property(fc.nat({ max: k.wire.length - 1 }), fc.integer({ min: 0, max: 255 }), (i, c) => {
          fc.pre(c !== k.wire.charCodeAt(i));
          const b = ascii(k.wire);
          b[i] = c;
          const r = openFwknop(b, keys);
          assert.equal(r.ok, false);
          assert.ok(REASONS.has(r.ok ? '' : r.reason));
        }),
        { numRuns: 1000 },
      );
    }
  });

  it('property: any byte string never throws and ends in a known reason', () => {
    const keysArb = fc.constantFrom(KEYS, NO_HMAC, keysOf(KAT1), keysOf(kat('kat4_legacy_iv_no_hmac_2610_client')));
    const junk = fc.oneof(
      fc.uint8Array({ maxLength: 600 }),
      fc.uint8Array({ minLength: 140, maxLength: 399 }),
      fc.stringMatching(/^[A-Za-z0-9+/]{140,399}$/).map(ascii), // reaches the HMAC and AES rungs
    );
    fc.assert(
      fc.property(junk, keysArb, (b, keys) => {
        const r = openFwknop(b, keys);
        assert.equal(r.ok, false);
        assert.ok(REASONS.has(r.ok ? '' : r.reason), JSON.stringify(r));
        assert.equal(typeof fwknopReplayDigest(b), 'string');
      }),
      { numRuns: 2000 },
    );
  });

  it('property: encrypted junk plaintext (right keys) never throws and ends in a known reason', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 0, maxLength: 200 }), fc.boolean(), (s, digest) => {
        const plaintext = `1234567890123456:${digest ? withDigest(s) : s}`;
        const w = sealRaw(plaintext, KEYS);
        fc.pre(w.length >= MIN_FWKNOP_PACKET_BYTES && w.length <= MAX_FWKNOP_PACKET_BYTES);
        const r = openFwknop(w, KEYS);
        assert.ok(r.ok || REASONS.has(r.reason));
      }),
      { numRuns: 500 },
    );
  });

  it('bad or hostile keys: refused, never thrown', () => {
    const bad: unknown[] = [
      { ...KEYS, key: new Uint8Array(0) },
      { ...KEYS, key: new Uint8Array(33) },
      { ...KEYS, hmacKey: new Uint8Array(137) },
      { ...KEYS, hmacKey: new Uint8Array(0) },
      { ...KEYS, hmacType: 'sha224' },
      { ...NO_HMAC, key: 'a string' },
      null,
    ];
    for (const keys of bad) {
      assert.equal(openFwknop(wire, keys as FwknopKeys).ok, false);
      if (keys !== null) assert.equal(typeof fwknopKeysProblem(keys as FwknopKeys), 'string');
    }
    assert.equal(fwknopKeysProblem(KEYS), null);
    assert.equal(fwknopKeysProblem({ ...NO_HMAC, key: new Uint8Array(40), encryptionMode: 'legacy' }), null);
    assert.equal(openFwknop(null as unknown as Uint8Array, KEYS).ok, false);
  });
});

describe('fwknop plaintext parsing', () => {
  const R = '1234567890123456';
  const U = b64(ascii('alice'));
  const M = b64(ascii('10.0.0.1,tcp/22'));
  const open = (encoded: string, type: FwknopDigestType = 'sha256'): string =>
    reasonOf(openFwknop(sealRaw(withDigest(encoded, type), KEYS), KEYS));

  it('the smallest well-formed plaintext opens; sha3-256 and sha3-512 digests are told apart from sha256/sha512', () => {
    assert.equal(open(`${R}:${U}:1700000000:3.0.0:1:${M}`), 'ok');
    assert.equal(open(`${R}:${U}:1700000000:3.0.0:1:${M}`, 'sha3-256'), 'ok');
    assert.equal(open(`${R}:${U}:1700000000:3.0.0:1:${M}`, 'sha3-512'), 'ok');
  });

  it('a wrong inner digest → fwknop-digest', () => {
    const encoded = `${R}:${U}:1700000000:3.0.0:1:${M}`;
    const digest = b64(createHash('sha256').update(`${encoded}x`).digest());
    assert.equal(reasonOf(openFwknop(sealRaw(`${encoded}:${digest}`, KEYS), KEYS)), 'fwknop-digest');
    assert.equal(reasonOf(parseFwknopPlaintext(`${encoded}:${digest}`)), 'fwknop-digest');
  });

  it('not 16 digits and ":" first → fwknop-decrypt (how fwknop tells a wrong key)', () => {
    assert.equal(open(`123456789012345:${U}:1700000000:3.0.0:1:${M}`), 'fwknop-decrypt');
    assert.equal(open(`12345678901234567:${U}:1700000000:3.0.0:1:${M}`), 'fwknop-decrypt');
    assert.equal(open(`123456789012345x:${U}:1700000000:3.0.0:1:${M}`), 'fwknop-decrypt');
  });

  it('malformed fields → fwknop-malformed', () => {
    const bad = [
      `${R}:${U}:1700000000:3.0.0:${M}`, // too few fields
      `${R}:${U}:1700000000:3.0.0:1:${M}:${M}:${M}`, // too many for type 1
      `${R}:${U}:1700000000:3.0.0:3:${M}`, // type 3 without its timeout
      `${R}:${U}:1700000000:3.0.0:3:${M}:65537`, // timeout too large
      `${R}:${U}:1700000000:3.0.0:3:${M}:1x`,
      `${R}:${U}:1700000000:3.0.0:2:${M}`, // NAT type without NAT access
      `${R}:${U}:1700000000:3.0.0:2:${M}:${b64(ascii('host,22,33'))}`, // two commas
      `${R}:${U}:1700000000:3.0.0:2:${M}:${b64(ascii('ho st,22'))}`,
      `${R}:${U}:1700000000:3.0.0:7:${M}`, // no such type
      `${R}:${U}:1700000000:3.0.0:x:${M}`,
      `${R}:${U}:2147483648:3.0.0:1:${M}`, // beyond fwknopd's int
      `${R}:${U}:17000000a0:3.0.0:1:${M}`,
      `${R}:${U}::3.0.0:1:${M}`,
      `${R}:${U}:1700000000:123456789:1:${M}`, // version too long
      `${R}:${U}:1700000000::1:${M}`,
      `${R}:${b64(ascii('a:b'))}:1700000000:3.0.0:1:${M}`, // forbidden username character
      `${R}:${b64(ascii('a\u0000b'))}:1700000000:3.0.0:1:${M}`,
      `${R}:${U}=:1700000000:3.0.0:1:${M}`, // padded base64
      `${R}:YWxpY2F:1700000000:3.0.0:1:${M}`, // non-canonical base64 (trailing bits)
      `${R}::1700000000:3.0.0:1:${M}`, // empty username
      `${R}:${U}:1700000000:3.0.0:1:${b64(ascii('10.0.0.1,tcp/0'))}`,
      `${R}:${U}:1700000000:3.0.0:1:${b64(ascii('10.0.0.1'))}`,
      `${R}:${U}:1700000000:3.0.0:1:${b64(ascii('2001:db8::1,tcp/22'))}`,
      `${R}:${U}:1700000000:3.0.0:0:${b64(ascii('10.0.0.1,'))}`, // command with nothing after the comma
      `${R}:${U}:1700000000:3.0.0:1:${M}:`, // empty server auth
      `${R}:${U}:1700000000:3.0.0:1:${M}\u0001`, // not printable
    ];
    for (const encoded of bad) assert.equal(open(encoded), 'fwknop-malformed', encoded);
    assert.equal(reasonOf(parseFwknopPlaintext(`${R}:${U}:1700000000:3.0.0:1:${M}:short`)), 'fwknop-malformed'); // no digest of a known length
  });

  it('sealFwknop refuses what fwknopd would refuse', () => {
    // too short for fwknopd (MIN_SPA_DATA_SIZE 140): a one-digit timestamp, md5 digest, no HMAC
    assert.throws(
      () =>
        sealFwknop(
          { ...BASE, username: 'a', timestamp: 0, message: '0.0.0.0,tcp/1', digestType: 'md5' },
          NO_HMAC,
          RANDOM,
        ),
      /118 bytes/,
    );
    const refuse = (input: FwknopSealInput, keys: FwknopKeys = KEYS, random = RANDOM): void => {
      assert.throws(() => sealFwknop(input, keys, random), Error, JSON.stringify(input));
    };
    refuse({ ...BASE, message: '10.0.0.1,tcp/22,'.padEnd(200, 'x') });
    refuse({ ...BASE, message: `10.0.0.1,${Array.from({ length: 30 }, (_, i) => `udp/${1000 + i}`).join(',')}` }); // packet ≥ 400
    refuse({ ...BASE, message: '10.0.0.1' });
    refuse({ ...BASE, message: '::1,tcp/22' });
    refuse({ ...BASE, username: 'a/b' });
    refuse({ ...BASE, username: 'ā' }); // not Latin-1
    refuse({ ...BASE, messageType: 3 }); // timeout missing
    refuse({ ...BASE, clientTimeout: 30 }); // timeout on a type without one
    refuse({ ...BASE, messageType: 2 }); // NAT access missing
    refuse({ ...BASE, timestamp: 2 ** 31 });
    refuse({ ...BASE, timestamp: 1.5 });
    refuse({ ...BASE, version: '3:0' });
    refuse(BASE, { ...KEYS, key: new Uint8Array(33) });
    refuse(BASE, KEYS, { salt: new Uint8Array(7), randomDigits: RANDOM.randomDigits });
    refuse(BASE, KEYS, { salt: RANDOM.salt, randomDigits: '123' });
  });

  it('the replay digest covers the HMAC: same ciphertext, different tag, different digest', () => {
    const w = text(wire());
    const other = `${w.slice(0, -1)}${w.endsWith('A') ? 'B' : 'A'}`;
    assert.notEqual(fwknopReplayDigest(ascii(w)), fwknopReplayDigest(ascii(other)));
    function wire(): Uint8Array {
      return sealFwknop(BASE, KEYS, RANDOM);
    }
  });
});

describe('parseFwknopAccess', () => {
  it('accepts what fwknop 2.6 accepts', () => {
    assert.deepEqual(parseFwknopAccess('10.0.0.1,tcp/22'), {
      address: '10.0.0.1',
      ports: [{ proto: 'tcp', port: 22 }],
    });
    assert.deepEqual(parseFwknopAccess('192.168.10.200,tcp/22,udp/53,tcp/8443'), {
      address: '192.168.10.200',
      ports: [
        { proto: 'tcp', port: 22 },
        { proto: 'udp', port: 53 },
        { proto: 'tcp', port: 8443 },
      ],
    });
    assert.deepEqual(parseFwknopAccess('1.2.3.4,udp/65535'), {
      address: '1.2.3.4',
      ports: [{ proto: 'udp', port: 65_535 }],
    });
    assert.deepEqual(parseFwknopAccess('0.0.0.0,tcp/22'), { address: '0.0.0.0', ports: [{ proto: 'tcp', port: 22 }] });
    assert.deepEqual(parseFwknopAccess('1.2.3.4,tcp/00022'), {
      address: '1.2.3.4',
      ports: [{ proto: 'tcp', port: 22 }],
    }); // strtol base 10
  });

  it('refuses malformed messages, IPv6 (fwknop 2.6 has none), icmp/none, and octal-looking octets', () => {
    for (const m of [
      '',
      '10.0.0.1',
      '10.0.0.1,',
      '10.0.0.1,tcp/22,',
      ',tcp/22',
      '10.0.0.1,tcp/',
      '10.0.0.1,tcp/0',
      '10.0.0.1,tcp/65536',
      '10.0.0.1,tcp/123456',
      '10.0.0.1,TCP/22',
      '10.0.0.1,tcp:22',
      '10.0.0.1,22',
      '10.0.0.1,icmp/0',
      '10.0.0.1,none/0',
      '10.0.0.1,tcp/22 ',
      ' 10.0.0.1,tcp/22',
      '10.0.0.256,tcp/22',
      '10.0.0,tcp/22',
      '10.0.0.1.5,tcp/22',
      '010.0.0.1,tcp/22',
      'host.example,tcp/22',
      '2001:db8::1,tcp/22',
      '::1,tcp/22',
      '::ffff:10.0.0.1,tcp/22',
      '10.0.0.1,tcp/-1',
      '10.0.0.1,tcp/+22',
      `10.0.0.1,${'tcp/1,'.repeat(50)}tcp/1`, // 256 characters or more
    ]) {
      assert.equal(parseFwknopAccess(m), null, m);
    }
  });
});
