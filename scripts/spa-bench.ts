/**
 * Prints what openSpa costs per packet, in µs, for the packets a flood can be made of: random junk
 * (stops at mac1), a packet with a valid mac1 but a forged body (stops at the AEAD), one sealed with
 * the wrong client key (stops at auth), and valid psk and ed25519 packets; each with 1 and with
 * 10,000 clients in the lookup map, to show the lookup does not grow with the number of clients.
 *
 * Contract: figures only, no assertions; not a test. Run with `npm run bench:spa` after a build.
 */

import { createHmac, createPublicKey, randomBytes } from 'node:crypto';
import { ed25519PrivateFromSeed } from '../src/core/spa/keys.js';
import { openSpa, sealSpa } from '../src/core/spa/native-wire.js';
import { serverKeysFromPrivate } from '../src/core/spa/native-door-keys.js';
import type { ClientAuthSecret, SpaClientKey } from '../src/core/spa/native-client-auth.js';
import type { SpaRequest } from '../src/core/spa/native-request.js';

const ITERATIONS = 20_000;
const WARMUP = 1_000;
const POOL = 64; // distinct datagrams cycled through, so no single buffer stays hot in a cache

const server = serverKeysFromPrivate(randomBytes(32), 'bench');
const request: SpaRequest = {
  timestampMs: Date.now(),
  nonce: randomBytes(16),
  durationS: 0,
  address: null,
  prefix: 0,
  ports: [{ proto: 'tcp', port: 22 }],
};

interface Client {
  readonly secret: ClientAuthSecret;
  readonly key: SpaClientKey;
}
function pskClient(): Client {
  const id = randomBytes(16);
  const psk = randomBytes(32);
  return { secret: { mode: 'psk', psk }, key: { id, mode: 'psk', psk } };
}
function edClient(): Client {
  const id = randomBytes(16);
  const privateKey = ed25519PrivateFromSeed(randomBytes(32));
  return {
    secret: { mode: 'ed25519', privateKey },
    key: { id, mode: 'ed25519', publicKey: createPublicKey(privateKey) },
  };
}
const seal = (c: Client): Uint8Array =>
  sealSpa({
    serverPublicKey: server.publicKey,
    doorId: 'bench',
    clientId: c.key.id,
    secret: c.secret,
    request,
    ephemeralPrivate: randomBytes(32),
    topBit: (randomBytes(1)[0]! & 1) as 0 | 1,
  });
function withMac1(d: Uint8Array): Uint8Array {
  d.set(
    createHmac('sha256', server.mac1Key)
      .update(d.subarray(0, d.length - 16))
      .digest()
      .subarray(0, 16),
    d.length - 16,
  );
  return d;
}

const psk = pskClient();
const ed = edClient();
const impostor: SpaClientKey = { ...psk.key, psk: randomBytes(32) }; // same id, other key
const filler = Array.from({ length: 10_000 - 3 }, () => pskClient().key);

function lookupWith(size: 1 | 10_000, wrongKey: boolean): (id: string) => SpaClientKey | undefined {
  const wanted = [wrongKey ? impostor : psk.key, ed.key];
  const all = size === 1 ? wanted : [...filler, ...wanted];
  const map = new Map(all.map((k) => [Buffer.from(k.id).toString('hex'), k] as const));
  return (id) => map.get(id);
}

function time(
  label: string,
  packets: Uint8Array[],
  lookup: (id: string) => SpaClientKey | undefined,
  expect: string,
): void {
  const run = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const r = openSpa(packets[i % packets.length]!, server, lookup);
      const got = r.ok ? 'ok' : r.reason;
      if (got !== expect) throw new Error(`${label}: expected ${expect}, got ${got}`);
    }
  };
  run(WARMUP);
  const start = process.hrtime.bigint();
  run(ITERATIONS);
  const us = Number(process.hrtime.bigint() - start) / 1_000 / ITERATIONS;
  console.log(`${label.padEnd(44)} ${us.toFixed(2).padStart(8)} µs/packet  (${expect})`);
}

const pool = (make: () => Uint8Array): Uint8Array[] => Array.from({ length: POOL }, make);
const junk = pool(() => randomBytes(145 + Math.floor(Math.random() * 200)));
const forged = pool(() => withMac1(randomBytes(151)));
const validPsk = pool(() => seal(psk));
const validEd = pool(() => seal(ed));

console.log(`openSpa, ${ITERATIONS} iterations each, node ${process.version}`);
for (const size of [1, 10_000] as const) {
  const clients = `${size} client${size === 1 ? '' : 's'}`;
  time(`random junk, ${clients}`, junk, lookupWith(size, false), 'spa-mac1');
  time(`valid mac1, forged body, ${clients}`, forged, lookupWith(size, false), 'spa-decrypt');
  time(`valid mac1, wrong client key, ${clients}`, validPsk, lookupWith(size, true), 'spa-auth');
  time(`valid psk packet, ${clients}`, validPsk, lookupWith(size, false), 'ok');
  time(`valid ed25519 packet, ${clients}`, validEd, lookupWith(size, false), 'ok');
}
