/**
 * Covers the SPA v1 wire format:
 *   src/core/spa/native-wire.ts  sealSpa, sealRawBody, openSpa (rungs 1–6), and the parts it composes:
 *                                native-frame, native-door-keys, native-aead, native-client-auth,
 *                                native-request (encode/decodeSpaBody)
 *   src/core/spa/keys.ts         raw key ↔ KeyObject helpers
 *   docs/spa-vectors.json        every vector reproduced byte for byte and opened back
 *   docs/protocol.md             one vector opened by hand with node:crypto, following the document
 * Properties state their invariant in the first line of their description.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  randomBytes,
  verify,
} from 'node:crypto';
import fc from 'fast-check';
import type { Endpoint, Protocol } from '../../src/core/endpoint.js';
import {
  ed25519PrivateFromSeed,
  ed25519PublicFromRaw,
  rawPublicOf,
  x25519PrivateFromRaw,
  x25519PublicFromRaw,
} from '../../src/core/spa/keys.js';
import { encodeSpaBody, type SpaRequest } from '../../src/core/spa/native-request.js';
import { openSpa, sealRawBody, sealSpa } from '../../src/core/spa/native-wire.js';
import { serverKeysFromPrivate, type SpaServerKeys } from '../../src/core/spa/native-door-keys.js';
import type { ClientAuthMode, ClientAuthSecret, SpaClientKey } from '../../src/core/spa/native-client-auth.js';
import { MAX_SPA_BYTES, MAX_SPA_PORTS, MIN_SPA_BYTES } from '../../src/core/limits.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n });

// ---------------------------------------------------------------------------------------------
// Fixtures and arbitraries

interface Client {
  readonly cid: Uint8Array;
  readonly material: Uint8Array;
  readonly secret: ClientAuthSecret;
  readonly key: SpaClientKey;
}

function makeClient(cid: Uint8Array, mode: ClientAuthMode, material: Uint8Array): Client {
  if (mode === 'psk') return { cid, material, secret: { mode, psk: material }, key: { id: cid, mode, psk: material } };
  const privateKey = ed25519PrivateFromSeed(material);
  return {
    cid,
    material,
    secret: { mode, privateKey },
    key: { id: cid, mode, publicKey: createPublicKey(privateKey) },
  };
}
const lookupOf = (...clients: Client[]) => {
  const map = new Map(clients.map((c) => [toHex(c.cid), c.key] as const));
  return (id: string): SpaClientKey | undefined => map.get(id);
};

const SERVER = serverKeysFromPrivate(hex('a0'.repeat(16) + '5c'.repeat(16)), 'test-door');
const PSK_CLIENT = makeClient(hex('11'.repeat(16)), 'psk', hex('22'.repeat(32)));
const ED_CLIENT = makeClient(hex('33'.repeat(16)), 'ed25519', hex('44'.repeat(32)));
const LOOKUP = lookupOf(PSK_CLIENT, ED_CLIENT);
const BASE_REQUEST: SpaRequest = {
  timestampMs: 1_767_225_600_000,
  nonce: hex('55'.repeat(16)),
  durationS: 0,
  address: null,
  prefix: 0,
  ports: [],
};

function seal(
  client: Client,
  request: SpaRequest,
  server: SpaServerKeys = SERVER,
  eph: Uint8Array = randomBytes(32),
  topBit: 0 | 1 = 0,
): Uint8Array {
  return sealSpa({
    serverPublicKey: server.publicKey,
    doorId: server.doorId,
    clientId: client.cid,
    secret: client.secret,
    request,
    ephemeralPrivate: eph,
    topBit,
  });
}
function sealBody(client: Client, body: Uint8Array): Uint8Array {
  return sealRawBody({
    serverPublicKey: SERVER.publicKey,
    doorId: 'test-door',
    clientId: client.cid,
    secret: client.secret,
    body,
    ephemeralPrivate: randomBytes(32),
    topBit: 1,
  });
}
/** Recomputes mac1 over the rest, as someone who knows S can: the packet then reaches rung 3. */
function withMac1(d: Uint8Array, mac1Key: Uint8Array = SERVER.mac1Key): Uint8Array {
  const out = Uint8Array.from(d);
  out.set(
    createHmac('sha256', mac1Key)
      .update(out.subarray(0, out.length - 16))
      .digest()
      .subarray(0, 16),
    out.length - 16,
  );
  return out;
}
const reasonOf = (d: Uint8Array, server: SpaServerKeys = SERVER, lookup = LOOKUP): string => {
  const r = openSpa(d, server, lookup);
  return r.ok ? 'ok' : r.reason;
};

const endpointArb: fc.Arbitrary<Endpoint> = fc
  .tuple(fc.constantFrom<Protocol>('tcp', 'udp'), fc.integer({ min: 1, max: 65_535 }))
  .map(([proto, port]) => ({ proto, port }));
const targetArb = fc.oneof(
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
const requestArb: fc.Arbitrary<SpaRequest> = fc
  .record({
    timestampMs: fc.oneof(fc.maxSafeNat(), fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 })),
    nonce: bytes(16),
    durationS: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
    target: targetArb,
    ports: fc.array(endpointArb, { maxLength: MAX_SPA_PORTS }),
  })
  .map(({ target, ...r }) => ({ ...r, ...target }));
const clientArb: fc.Arbitrary<Client> = fc
  .tuple(bytes(16), fc.constantFrom<ClientAuthMode>('psk', 'ed25519', 'ssh-ed25519'), bytes(32))
  .map(([cid, mode, material]) => makeClient(cid, mode, material));
const sealArgsArb = fc.record({ eph: bytes(32), topBit: fc.constantFrom<0 | 1>(0, 1) });

// ---------------------------------------------------------------------------------------------

interface VectorRequest {
  timestampMs: number;
  nonce: string;
  durationS: number;
  address: { family: 4 | 6; bytes: string } | null;
  prefix: number;
  ports: Endpoint[];
}
interface Vector {
  name: string;
  inputs: {
    serverPrivateKey: string;
    serverPublicKey: string;
    doorId: string;
    clientId: string;
    mode: ClientAuthMode;
    psk?: string;
    ed25519Seed?: string;
    ed25519PublicKey?: string;
    ephemeralPrivateKey: string;
    topBit: 0 | 1;
    request: VectorRequest;
  };
  intermediate: { transcript: string; sshsigSignedData?: string };
  expected: { datagram: string; replayKey: string; request: VectorRequest };
}
const VECTORS = (
  JSON.parse(readFileSync(fileURLToPath(new URL('../../../docs/spa-vectors.json', import.meta.url)), 'utf8')) as {
    vectors: Vector[];
  }
).vectors;
const requestFromJson = (r: VectorRequest): SpaRequest => ({
  timestampMs: r.timestampMs,
  nonce: hex(r.nonce),
  durationS: r.durationS,
  prefix: r.prefix,
  address: r.address === null ? null : { family: r.address.family, bytes: hex(r.address.bytes) },
  ports: r.ports.map((p) => ({ proto: p.proto, port: p.port })),
});
const vectorClient = (v: Vector): Client =>
  makeClient(hex(v.inputs.clientId), v.inputs.mode, hex(v.inputs.psk ?? v.inputs.ed25519Seed ?? ''));

describe('spa vectors (docs/spa-vectors.json)', () => {
  it('has the vectors the brief asks for', () => {
    assert.ok(VECTORS.length >= 4);
    assert.deepEqual(
      VECTORS.slice(0, 4).map((v) => v.name),
      ['psk-defaults', 'psk-ports-duration', 'ed25519-ipv4-24', 'ed25519-ipv6-64'],
    );
    assert.ok(
      VECTORS.some((v) => v.inputs.mode === 'ssh-ed25519'),
      'a vector of mode ssh-ed25519',
    );
  });
  for (const v of VECTORS) {
    it(`${v.name}: sealSpa reproduces the datagram byte for byte and openSpa opens it back`, () => {
      const server = serverKeysFromPrivate(hex(v.inputs.serverPrivateKey), v.inputs.doorId);
      assert.equal(toHex(server.publicKey), v.inputs.serverPublicKey);
      const client = vectorClient(v);
      const request = requestFromJson(v.inputs.request);
      const datagram = seal(client, request, server, hex(v.inputs.ephemeralPrivateKey), v.inputs.topBit);
      assert.equal(toHex(datagram), v.expected.datagram);
      const opened = openSpa(hex(v.expected.datagram), server, lookupOf(client));
      assert.ok(opened.ok, opened.ok ? '' : opened.reason);
      assert.deepEqual(opened.request, requestFromJson(v.expected.request));
      assert.equal(opened.replayKey, v.expected.replayKey);
      assert.equal(opened.client, client.key);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Opens vectors with node:crypto alone, reading docs/protocol.md step by step; shares no code with the codec.

describe('spa vectors opened by hand from docs/protocol.md', () => {
  const ascii = (s: string): Buffer => Buffer.from(s, 'ascii');
  const LABEL = ascii('knockgate-spa-v2');
  const der = (prefixHex: string, raw: Uint8Array): Buffer => Buffer.concat([Buffer.from(prefixHex, 'hex'), raw]);

  for (const name of ['psk-ports-duration', 'ed25519-ipv6-64', 'ssh-ed25519-agent']) {
    it(`${name}: mac1, DH, HKDF, AEAD, auth and every body field agree with the document`, () => {
      const v = VECTORS.find((x) => x.name === name);
      assert.ok(v);
      const d = Buffer.from(v.expected.datagram, 'hex');
      const n = d.length;
      const s = createPrivateKey({
        key: der('302e020100300506032b656e04220420', hex(v.inputs.serverPrivateKey)),
        format: 'der',
        type: 'pkcs8',
      });
      const S = Buffer.from(createPublicKey(s).export({ format: 'jwk' }).x as string, 'base64url');
      assert.equal(S.toString('hex'), v.inputs.serverPublicKey);
      // Step 7/8: datagram = E' || sealed || mac1, mac1 = HMAC(SHA-256("knockgate-spa-v1/mac1" || S), E' || sealed)[0:16]
      const mac1Key = createHash('sha256')
        .update(Buffer.concat([ascii('knockgate-spa-v1/mac1'), S]))
        .digest();
      // The door context: S || u8(len(door_id)) || door_id.
      const context = Buffer.concat([S, Buffer.from([v.inputs.doorId.length]), ascii(v.inputs.doorId)]);
      assert.deepEqual(
        createHmac('sha256', mac1Key)
          .update(d.subarray(0, n - 16))
          .digest()
          .subarray(0, 16),
        d.subarray(n - 16),
      );
      // Step 1: E' is E with bit 255 set to r.
      const ePrime = d.subarray(0, 32);
      assert.equal(ePrime[31]! >> 7, v.inputs.topBit);
      const eKey = createPrivateKey({
        key: der('302e020100300506032b656e04220420', hex(v.inputs.ephemeralPrivateKey)),
        format: 'der',
        type: 'pkcs8',
      });
      const E = Buffer.from(createPublicKey(eKey).export({ format: 'jwk' }).x as string, 'base64url');
      const cleared = Buffer.from(ePrime);
      cleared[31]! &= 0x7f;
      assert.deepEqual(cleared, E);
      // Step 2: shared = X25519(e, S) = X25519(s, E).
      const sPub = createPublicKey({ key: der('302a300506032b656e032100', S), format: 'der', type: 'spki' });
      const ePub = createPublicKey({ key: der('302a300506032b656e032100', E), format: 'der', type: 'spki' });
      const shared = diffieHellman({ privateKey: s, publicKey: ePub });
      assert.deepEqual(shared, diffieHellman({ privateKey: eKey, publicKey: sPub }));
      // Step 3: okm = HKDF-SHA256(shared, salt S, info LABEL || "/seal" || E', 44).
      const okm = Buffer.from(hkdfSync('sha256', shared, S, Buffer.concat([LABEL, ascii('/seal'), ePrime]), 44));
      // Step 6: ChaCha20-Poly1305 with aad = E' || context; the tag is the 16 bytes before mac1.
      const decipher = createDecipheriv('chacha20-poly1305', okm.subarray(0, 32), okm.subarray(32, 44), {
        authTagLength: 16,
      });
      decipher.setAAD(Buffer.concat([ePrime, context]), { plaintextLength: n - 32 - 16 - 16 });
      decipher.setAuthTag(d.subarray(n - 32, n - 16));
      const pt = Buffer.concat([decipher.update(d.subarray(32, n - 32)), decipher.final()]);
      // Plaintext = cid || body || auth; step 5: auth over T = LABEL || context || E' || cid || body.
      assert.equal(pt.subarray(0, 16).toString('hex'), v.inputs.clientId);
      const authLen = v.inputs.mode === 'psk' ? 32 : 64;
      const T = Buffer.concat([LABEL, context, ePrime, pt.subarray(0, pt.length - authLen)]);
      const auth = pt.subarray(pt.length - authLen);
      assert.equal(T.toString('hex'), v.intermediate.transcript);
      if (v.inputs.mode === 'psk') {
        assert.deepEqual(createHmac('sha256', Buffer.from(v.inputs.psk!, 'hex')).update(T).digest(), auth);
      } else if (v.inputs.mode === 'ssh-ed25519') {
        // Mode ssh-ed25519: the signature covers "SSHSIG" || string("knockgate-spa@v1") || string("")
        // || string("sha512") || string(SHA-512(T)) (OpenSSH PROTOCOL.sshsig), never T itself.
        const str = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, b.length >> 8, b.length & 0xff]), b]);
        const wrapped = Buffer.concat([
          ascii('SSHSIG'),
          str(ascii('knockgate-spa@v1')),
          str(Buffer.alloc(0)),
          str(ascii('sha512')),
          str(createHash('sha512').update(T).digest()),
        ]);
        assert.equal(wrapped.toString('hex'), v.intermediate.sshsigSignedData);
        const pub = createPublicKey({
          key: der('302a300506032b6570032100', hex(v.inputs.ed25519PublicKey!)),
          format: 'der',
          type: 'spki',
        });
        assert.ok(verify(null, wrapped, pub, auth));
        assert.ok(!verify(null, T, pub, auth), 'the raw transcript is not what is signed');
      } else {
        const c = createPrivateKey({
          key: der('302e020100300506032b657004220420', hex(v.inputs.ed25519Seed!)),
          format: 'der',
          type: 'pkcs8',
        });
        assert.ok(verify(null, T, createPublicKey(c), auth));
      }
      // Step 4: the body, field by field.
      const body = pt.subarray(16, pt.length - authLen);
      const want = v.expected.request;
      assert.equal(body[0], 2);
      assert.equal(body[1], 0);
      assert.equal(Number(body.readBigUInt64BE(2)), want.timestampMs);
      assert.equal(body.subarray(10, 26).toString('hex'), want.nonce);
      assert.equal(body.readUInt32BE(26), want.durationS);
      assert.equal(body[30], want.address?.family ?? 0);
      assert.equal(body[31], want.prefix);
      const addrLen = want.address === null ? 0 : want.address.family === 4 ? 4 : 16;
      assert.equal(body.subarray(32, 32 + addrLen).toString('hex'), want.address?.bytes ?? '');
      assert.equal(body[32 + addrLen], want.ports.length);
      assert.equal(body.length, 33 + addrLen + 3 * want.ports.length);
      want.ports.forEach((p, i) => {
        const o = 33 + addrLen + 3 * i;
        assert.equal(body[o], p.proto === 'tcp' ? 6 : 17);
        assert.equal(body.readUInt16BE(o + 1), p.port);
      });
    });
  }
});

// ---------------------------------------------------------------------------------------------

describe('spa properties', () => {
  it('seal then open round-trips any valid request, in both modes', () => {
    fc.assert(
      fc.property(clientArb, requestArb, sealArgsArb, (client, request, { eph, topBit }) => {
        const d = seal(client, request, SERVER, eph, topBit);
        assert.ok(d.length >= MIN_SPA_BYTES && d.length <= MAX_SPA_BYTES);
        const r = openSpa(d, SERVER, lookupOf(client, PSK_CLIENT));
        assert.ok(r.ok, r.ok ? '' : r.reason);
        assert.deepEqual(r.request, request);
        assert.equal(r.client, client.key);
        assert.equal(r.replayKey, toHex(client.cid) + toHex(request.nonce));
      }),
      { numRuns: 300 },
    );
  });

  it('flipping any single bit of a valid datagram is rejected: spa-mac1, and spa-decrypt once mac1 is recomputed', () => {
    fc.assert(
      fc.property(clientArb, requestArb, sealArgsArb, (client, request, { eph, topBit }) => {
        const d = seal(client, request, SERVER, eph, topBit);
        const lookup = lookupOf(client);
        for (let bit = 0; bit < d.length * 8; bit++) {
          const f = Uint8Array.from(d);
          f[bit >> 3]! ^= 1 << (bit & 7);
          assert.equal(reasonOf(f, SERVER, lookup), 'spa-mac1', `bit ${bit}`);
          // E' (top bit included: it is the AEAD aad and in the HKDF info) and sealed are covered by the AEAD too.
          if (bit < (d.length - 16) * 8)
            assert.equal(reasonOf(withMac1(f), SERVER, lookup), 'spa-decrypt', `bit ${bit} with mac1 fixed`);
        }
      }),
      { numRuns: 4 },
    );
  });

  it('any byte string (length 0..600) gives a result and never throws', () => {
    const junk = fc.oneof(
      { arbitrary: fc.uint8Array({ maxLength: 600 }), weight: 1 },
      { arbitrary: fc.uint8Array({ minLength: MIN_SPA_BYTES, maxLength: MAX_SPA_BYTES }), weight: 2 },
      // reaches rung 3 with a hostile E': random, or a low-order point
      {
        arbitrary: fc.uint8Array({ minLength: MIN_SPA_BYTES, maxLength: MAX_SPA_BYTES }).map((b) => withMac1(b)),
        weight: 2,
      },
    );
    fc.assert(
      fc.property(junk, (b) => {
        const r = openSpa(b, SERVER, LOOKUP);
        assert.equal(typeof r.ok, 'boolean');
        if (!r.ok) assert.match(r.reason, /^spa-(length|mac1|decrypt)$/);
      }),
      { numRuns: 3000 },
    );
  });

  it('a datagram opened with the wrong client key (other secret, or other mode) is rejected with spa-auth', () => {
    fc.assert(
      fc.property(
        clientArb,
        fc.constantFrom<ClientAuthMode>('psk', 'ed25519', 'ssh-ed25519'),
        bytes(32),
        requestArb,
        (client, otherMode, otherMaterial, request) => {
          const impostor = makeClient(client.cid, otherMode, otherMaterial);
          fc.pre(otherMode !== client.secret.mode || toHex(otherMaterial) !== toHex(client.material));
          const d = seal(client, request);
          assert.equal(reasonOf(d, SERVER, lookupOf(impostor)), 'spa-auth');
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a datagram for a client id the server does not know gives spa-unknown-client', () => {
    fc.assert(
      fc.property(clientArb, requestArb, (client, request) => {
        fc.pre(toHex(client.cid) !== toHex(PSK_CLIENT.cid) && toHex(client.cid) !== toHex(ED_CLIENT.cid));
        assert.equal(reasonOf(seal(client, request)), 'spa-unknown-client');
      }),
      { numRuns: 100 },
    );
  });

  it('a datagram sealed for another server key gives spa-mac1', () => {
    fc.assert(
      fc.property(bytes(32), clientArb, requestArb, (otherServerPrivate, client, request) => {
        const other = serverKeysFromPrivate(otherServerPrivate, 'test-door');
        fc.pre(toHex(other.publicKey) !== toHex(SERVER.publicKey));
        assert.equal(reasonOf(seal(client, request, other), SERVER, lookupOf(client)), 'spa-mac1');
      }),
      { numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

/** A v1 datagram (psk mode), built by hand from the v1 document: no door context anywhere. */
function sealV1ByHand(server: SpaServerKeys, client: Client, request: SpaRequest): Uint8Array {
  const ascii = (t: string): Buffer => Buffer.from(t, 'ascii');
  const e = x25519PrivateFromRaw(randomBytes(32));
  const ePrime = Buffer.from(rawPublicOf(e));
  ePrime[31]! &= 0x7f;
  const shared = diffieHellman({ privateKey: e, publicKey: x25519PublicFromRaw(server.publicKey) });
  const okm = Buffer.from(
    hkdfSync('sha256', shared, server.publicKey, Buffer.concat([ascii('knockgate-spa-v1/seal'), ePrime]), 44),
  );
  const body = Buffer.from(encodeSpaBody(request));
  body[0] = 1; // v1's version byte
  const signed = Buffer.concat([client.cid, body]);
  const auth = createHmac('sha256', client.material)
    .update(ascii('knockgate-spa-v1'))
    .update(ePrime)
    .update(signed)
    .digest();
  const cipher = createCipheriv('chacha20-poly1305', okm.subarray(0, 32), okm.subarray(32, 44), { authTagLength: 16 });
  const pt = Buffer.concat([signed, auth]);
  cipher.setAAD(ePrime, { plaintextLength: pt.length });
  const sealed = Buffer.concat([ePrime, cipher.update(pt), cipher.final(), cipher.getAuthTag()]);
  const mac1Key = createHash('sha256')
    .update(Buffer.concat([ascii('knockgate-spa-v1/mac1'), server.publicKey]))
    .digest();
  return Buffer.concat([sealed, createHmac('sha256', mac1Key).update(sealed).digest().subarray(0, 16)]);
}

describe('spa door binding (protocol v2): a packet opens only the door it was sealed for', () => {
  const RAW = hex('a0'.repeat(16) + '5c'.repeat(16)); // the same server key for every door below
  const doorA = serverKeysFromPrivate(RAW, 'door-a', ['door-a', 'door-b']);
  const doorB = serverKeysFromPrivate(RAW, 'door-b', ['door-a', 'door-b']);
  const lonelyB = serverKeysFromPrivate(RAW, 'door-b'); // another gateway: knows no door-a

  it('door B (same server key, same client) refuses a packet sealed for door A with spa-wrong-door; door A opens it', () => {
    for (const client of [PSK_CLIENT, ED_CLIENT]) {
      const d = seal(client, BASE_REQUEST, doorA);
      assert.equal(reasonOf(d, doorA, lookupOf(client)), 'ok');
      assert.equal(reasonOf(d, doorB, lookupOf(client)), 'spa-wrong-door');
      assert.equal(reasonOf(d, lonelyB, lookupOf(client)), 'spa-decrypt');
    }
  });

  it("the same door id under the same key opens on every gateway of a fleet (the roadmap's shared key)", () => {
    const gateway2 = serverKeysFromPrivate(RAW, 'door-a');
    assert.equal(reasonOf(seal(PSK_CLIENT, BASE_REQUEST, doorA), gateway2, lookupOf(PSK_CLIENT)), 'ok');
  });

  it('a v1 datagram (no door binding) is refused with spa-old-version, never opened', () => {
    const d = sealV1ByHand(doorA, PSK_CLIENT, BASE_REQUEST);
    assert.equal(reasonOf(d, doorA, lookupOf(PSK_CLIENT)), 'spa-old-version');
    assert.equal(reasonOf(d, lonelyB, lookupOf(PSK_CLIENT)), 'spa-old-version');
  });

  it('door ids outside 1-64 letters, digits, "_", "." or "-" are refused when sealing', () => {
    for (const bad of ['', '-x', 'a b', 'x'.repeat(65), 'é']) {
      assert.throws(
        () =>
          sealSpa({
            serverPublicKey: SERVER.publicKey,
            doorId: bad,
            clientId: PSK_CLIENT.cid,
            secret: PSK_CLIENT.secret,
            request: BASE_REQUEST,
            ephemeralPrivate: randomBytes(32),
            topBit: 0,
          }),
        /door id/,
      );
    }
  });
});

describe('spa rungs by example', () => {
  const valid = encodeSpaBody({
    ...BASE_REQUEST,
    address: { family: 4, bytes: hex('c6336407') },
    prefix: 32,
    ports: [{ proto: 'tcp', port: 22 }],
  });
  const edit = (at: number, value: number, from: Uint8Array = valid): Uint8Array => {
    const b = Uint8Array.from(from);
    b[at] = value;
    return b;
  };
  const v6 = encodeSpaBody({
    ...BASE_REQUEST,
    address: { family: 6, bytes: hex('20010db8000000000000000000000001') },
    prefix: 128,
  });
  const fam0 = encodeSpaBody(BASE_REQUEST);
  const manyPorts = (count: number): Uint8Array => {
    const b = Buffer.concat([fam0.subarray(0, 32), Buffer.from([count]), Buffer.alloc(3 * count)]);
    for (let i = 0; i < count; i++) b.set([6, 0, 22], 33 + 3 * i);
    return b;
  };

  it('the bodies the examples start from are valid, including the edges', () => {
    for (const body of [
      valid,
      v6,
      fam0,
      edit(31, 128, fam0),
      manyPorts(MAX_SPA_PORTS),
      edit(3, 0x1f, edit(4, 0xff, edit(5, 0xff, fam0))),
    ]) {
      for (const client of [PSK_CLIENT, ED_CLIENT]) assert.equal(reasonOf(sealBody(client, body)), 'ok');
    }
  });

  const malformed: Array<[string, Uint8Array]> = [
    ['version 0', edit(0, 0)],
    ['version 1 inside a v2 envelope', edit(0, 1)],
    ['version 3', edit(0, 3)],
    ['flags 1', edit(1, 1)],
    ['flags 0x80', edit(1, 0x80)],
    ['timestamp above 2^53-1', edit(3, 0x20, fam0)],
    ['family 5', edit(30, 5)],
    ['family 1', edit(30, 1)],
    ['family 4 with 16 address bytes', edit(31, 32, edit(30, 4, v6))],
    ['family 6 with 4 address bytes', edit(30, 6)],
    ['family 4 prefix 0', edit(31, 0)],
    ['family 4 prefix 33', edit(31, 33)],
    ['family 6 prefix 0', edit(31, 0, v6)],
    ['family 6 prefix 129', edit(31, 129, v6)],
    ['family 0 prefix 129', edit(31, 129, fam0)],
    ['family 0 prefix 255', edit(31, 255, fam0)],
    ['count 65', manyPorts(65)],
    ['count larger than the ports present', edit(36, 2)],
    ['count smaller than the ports present', edit(36, 0)],
    ['protocol 1', edit(37, 1)],
    ['protocol 0', edit(37, 0)],
    ['port 0', edit(39, 0, edit(38, 0))],
    ['a byte left over', Buffer.concat([valid, Buffer.from([0])])],
    ['truncated before count', valid.subarray(0, 36)],
    ['one byte', hex('01')],
  ];
  for (const [what, body] of malformed) {
    it(`${what} gives spa-malformed`, () => {
      assert.equal(reasonOf(sealBody(ED_CLIENT, body)), 'spa-malformed');
      if (body.length >= 33) assert.equal(reasonOf(sealBody(PSK_CLIENT, body)), 'spa-malformed');
    });
  }

  it('lengths 144 and 513 give spa-length, even with a valid mac1; 145 and 512 get past rung 1', () => {
    for (const n of [0, 1, 144, 513, 600])
      assert.equal(reasonOf(n >= 16 ? withMac1(randomBytes(n)) : randomBytes(n)), 'spa-length', `${n}`);
    assert.equal(sealBody(PSK_CLIENT, new Uint8Array(32)).length, 144);
    assert.equal(reasonOf(sealBody(PSK_CLIENT, new Uint8Array(32))), 'spa-length');
    assert.equal(reasonOf(sealBody(PSK_CLIENT, new Uint8Array(401))), 'spa-length');
    assert.equal(sealBody(PSK_CLIENT, new Uint8Array(400)).length, MAX_SPA_BYTES);
    assert.equal(reasonOf(sealBody(PSK_CLIENT, new Uint8Array(400))), 'spa-malformed');
    assert.equal(reasonOf(sealBody(ED_CLIENT, new Uint8Array(1))), 'spa-malformed');
  });

  it("low-order points as E' give spa-decrypt, with either top bit", () => {
    const p = 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f';
    const lowOrder = [
      '00'.repeat(32),
      `01${'00'.repeat(31)}`,
      'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
      '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
      `ec${p}`,
      `ed${p}`,
      `ee${p}`,
    ];
    for (const u of lowOrder) {
      for (const top of [0, 0x80]) {
        const d = seal(PSK_CLIENT, BASE_REQUEST);
        d.set(hex(u), 0);
        d[31] = (d[31]! & 0x7f) | top;
        assert.equal(reasonOf(withMac1(d)), 'spa-decrypt', u);
      }
    }
  });

  it('sealSpa throws on invalid local input', () => {
    const bad: Array<Partial<SpaRequest>> = [
      { timestampMs: -1 },
      { timestampMs: 1.5 },
      { timestampMs: 2 ** 53 },
      { nonce: new Uint8Array(15) },
      { durationS: 2 ** 32 },
      { durationS: -1 },
      { prefix: 129 },
      { prefix: -1 },
      { address: { family: 4, bytes: new Uint8Array(4) }, prefix: 0 },
      { address: { family: 4, bytes: new Uint8Array(4) }, prefix: 33 },
      { address: { family: 4, bytes: new Uint8Array(16) }, prefix: 32 },
      { address: { family: 6, bytes: new Uint8Array(4) }, prefix: 64 },
      { ports: [{ proto: 'tcp', port: 0 }] },
      { ports: [{ proto: 'tcp', port: 65_536 }] },
      { ports: [{ proto: 'icmp' as Protocol, port: 1 }] },
      { ports: Array.from({ length: 65 }, () => ({ proto: 'udp' as const, port: 53 })) },
    ];
    for (const change of bad)
      assert.throws(() => seal(PSK_CLIENT, { ...BASE_REQUEST, ...change }), Error, JSON.stringify(change));
    assert.throws(() =>
      sealSpa({
        serverPublicKey: SERVER.publicKey,
        doorId: 'test-door',
        clientId: new Uint8Array(15),
        secret: PSK_CLIENT.secret,
        request: BASE_REQUEST,
        ephemeralPrivate: randomBytes(32),
        topBit: 0,
      }),
    );
    assert.throws(() => seal(makeClient(PSK_CLIENT.cid, 'psk', new Uint8Array(31)), BASE_REQUEST));
    assert.throws(
      () => seal(PSK_CLIENT, BASE_REQUEST, { ...SERVER, publicKey: new Uint8Array(32) }),
      Error,
      'low-order server key',
    );
  });

  it('keys.ts: raw keys round-trip and wrong lengths throw', () => {
    const raw = randomBytes(32);
    assert.deepEqual(
      rawPublicOf(x25519PublicFromRaw(rawPublicOf(x25519PrivateFromRaw(raw)))),
      rawPublicOf(x25519PrivateFromRaw(raw)),
    );
    const edPub = rawPublicOf(ed25519PrivateFromSeed(raw));
    assert.deepEqual(rawPublicOf(ed25519PublicFromRaw(edPub)), edPub);
    for (const f of [x25519PrivateFromRaw, x25519PublicFromRaw, ed25519PrivateFromSeed, ed25519PublicFromRaw]) {
      assert.throws(() => f(new Uint8Array(31)), /32 bytes/);
      assert.throws(() => f(new Uint8Array(33)), /32 bytes/);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('spa datagrams look random', () => {
  it("across 200 random datagrams of one length, no bit position is constant (the top bit of E' included), so no byte is", () => {
    const ones = new Array<number>(MIN_SPA_BYTES * 8).fill(0);
    const runs = 200;
    for (let i = 0; i < runs; i++) {
      const request = { ...BASE_REQUEST, nonce: randomBytes(16), timestampMs: 1_767_225_600_000 + i };
      const d = seal(PSK_CLIENT, request, SERVER, randomBytes(32), (randomBytes(1)[0]! & 1) as 0 | 1);
      assert.equal(d.length, MIN_SPA_BYTES);
      for (let bit = 0; bit < ones.length; bit++) ones[bit]! += (d[bit >> 3]! >> (bit & 7)) & 1;
    }
    const constant = ones.map((c, bit) => (c === 0 || c === runs ? bit : -1)).filter((bit) => bit >= 0);
    assert.deepEqual(constant, []);
    assert.ok(ones[31 * 8 + 7]! > 0 && ones[31 * 8 + 7]! < runs, "top bit of E' takes both values");
  });
});
