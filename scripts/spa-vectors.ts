/**
 * Writes docs/spa-vectors.json: known-answer vectors for the SPA v2 wire format (docs/protocol.md).
 *
 * Contract: deterministic. Every key and every "random" input is a hex constant below, X25519 and
 * Ed25519 are deterministic, so running this twice gives the same file byte for byte; a change to
 * the file is a change to the wire format. Each vector records all inputs, the body bytes (to help
 * another implementation find where it differs), the datagram, the replay key and the request that
 * openSpa decodes, which the script checks equals the input before it writes anything.
 * Run with `npm run spa-vectors` after `npm run build`.
 */

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Endpoint } from '../src/core/endpoint.js';
import { formatIPv4, formatIPv6 } from '../src/core/ip-address.js';
import { ed25519PrivateFromSeed, ed25519PublicFromRaw, rawPublicOf } from '../src/core/spa/keys.js';
import { doorContext, serverKeysFromPrivate } from '../src/core/spa/native-door-keys.js';
import { encodeSpaBody, type SpaRequest } from '../src/core/spa/native-request.js';
import { openSpa, prepareSeal, sealSpa } from '../src/core/spa/native-wire.js';
import { sshPublicKeyLine } from '../src/core/ssh/ssh-public-key.js';
import type { ClientAuthSecret, SpaClientKey } from '../src/core/spa/native-client-auth.js';

const OUTPUT = fileURLToPath(new URL('../../docs/spa-vectors.json', import.meta.url));
const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// Fixed "random" inputs, drawn once from a CSPRNG and frozen here.
const SERVER_PRIVATE = hex('3dee28d7e50b627dbb699a0e03beffd9097b0724332a885882a44e8fbf2dfc6b');
const PSK_CLIENT_ID = hex('042ac7b144329d9c5688ae3275efa86b');
const PSK = hex('8698504d190e9f77627c10fd87ca821eeba7a48bd4e7de034781957d5eecece6');
const ED_CLIENT_ID = hex('62360ecf633eb9fc3719e09e9ff22587');
const ED_SEED = hex('7318285236e4c7f0fde2266b8bafac12cdb51719a0609590e9f10fff3814852b');
// Mode ssh-ed25519: the key ssh-agent would hold (its seed here only so that the vector is reproducible).
const SSH_CLIENT_ID = hex('f3375567438168bfcb3c742b425b698c');
const SSH_SEED = hex('8dc7e270b224b80b1cdbace6fb218a1e428872d9f55eda4f03f7d617fa3e4083');
const EPHEMERAL = [
  '43170aecde90222920256bf1976a3411c62fd210654dc856bca46bac16aa279a',
  'c45c6d2e0559f12e38945ac6db42c6a2102b319aaf9b7d0a8a4998591cf8191f',
  '8e4d8182fe4aa02e5036a4d0b6159886db1b35ac69a77c7da6e89e20b350e5eb',
  '902ca0738017b03c488605a3c5fc4f1cfb7b0426d3624e46ad98d22375e8bc44',
  '905250d1c2e1767a571e381aa7cc03ef4d3236e2b22d70d8e1978e071319338a',
  'd2570409e52a2429b0516661ce6c71229c339f046427e289c2b1e83509979215',
].map(hex);
const NONCE = [
  '36a9418fb038f6d177fa62958d1e8800',
  '4ca86fd579e223a13ad86ec09d9de6ed',
  'ca44390ba8051b3ad33fc1fafea06402',
  '1fb158a32ad1e517cf15732bd56cc8c8',
  '31acb38df5d9e38a9546104bbab53aea',
  'a9a5f850c30e1d0bad5e7224d59ee669',
].map(hex);
const T0_MS = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const DOOR_ID = 'ssh';

const tcp = (port: number): Endpoint => ({ proto: 'tcp', port });
const udp = (port: number): Endpoint => ({ proto: 'udp', port });
const edPrivate = ed25519PrivateFromSeed(ED_SEED);
const edPublic = rawPublicOf(edPrivate);
const pskSecret: ClientAuthSecret = { mode: 'psk', psk: PSK };
const edSecret: ClientAuthSecret = { mode: 'ed25519', privateKey: edPrivate };
const sshPrivate = ed25519PrivateFromSeed(SSH_SEED);
const sshPublic = rawPublicOf(sshPrivate);
const sshSecret: ClientAuthSecret = { mode: 'ssh-ed25519', privateKey: sshPrivate };

interface Case {
  name: string;
  note: string;
  clientId: Uint8Array;
  secret: ClientAuthSecret;
  topBit: 0 | 1;
  request: SpaRequest;
}
const largestPorts = Array.from({ length: 64 }, (_, i) => (i % 2 === 0 ? tcp(10_000 + i) : udp(60_000 + i)));
const CASES: Case[] = [
  {
    name: 'psk-defaults',
    note: 'psk mode, source address, door default ports and duration: the smallest packet (145 bytes)',
    clientId: PSK_CLIENT_ID,
    secret: pskSecret,
    topBit: 0,
    request: { timestampMs: T0_MS, nonce: NONCE[0]!, durationS: 0, address: null, prefix: 0, ports: [] },
  },
  {
    name: 'psk-ports-duration',
    note: 'psk mode, ports 22/tcp and 443/tcp for 600 s',
    clientId: PSK_CLIENT_ID,
    secret: pskSecret,
    topBit: 1,
    request: {
      timestampMs: T0_MS + 1_234,
      nonce: NONCE[1]!,
      durationS: 600,
      address: null,
      prefix: 0,
      ports: [tcp(22), tcp(443)],
    },
  },
  {
    name: 'ed25519-ipv4-24',
    note: 'ed25519 mode, explicit IPv4 address 198.51.100.7 with prefix 24, door default ports',
    clientId: ED_CLIENT_ID,
    secret: edSecret,
    topBit: 1,
    request: {
      timestampMs: T0_MS + 60_000,
      nonce: NONCE[2]!,
      durationS: 0,
      address: { family: 4, bytes: hex('c6336407') },
      prefix: 24,
      ports: [],
    },
  },
  {
    name: 'ed25519-ipv6-64',
    note: 'ed25519 mode, IPv6 address 2001:db8:1234:5678::42/64, three ports, 3600 s',
    clientId: ED_CLIENT_ID,
    secret: edSecret,
    topBit: 0,
    request: {
      timestampMs: T0_MS + 86_400_000,
      nonce: NONCE[3]!,
      durationS: 3_600,
      address: { family: 6, bytes: hex('20010db8123456780000000000000042') },
      prefix: 64,
      ports: [tcp(22), tcp(443), udp(51_820)],
    },
  },
  {
    name: 'ed25519-largest',
    note: 'ed25519 mode, one IPv6 address, 64 ports: the largest possible packet (385 bytes)',
    clientId: ED_CLIENT_ID,
    secret: edSecret,
    topBit: 1,
    request: {
      timestampMs: 2 ** 53 - 1,
      nonce: NONCE[4]!,
      durationS: 2 ** 32 - 1,
      address: { family: 6, bytes: hex('fe800000000000000000000000000001') },
      prefix: 128,
      ports: largestPorts,
    },
  },
  {
    name: 'ssh-ed25519-agent',
    note: 'ssh-ed25519 mode (a key in ssh-agent): the signature covers the SSHSIG wrapper of the transcript, namespace knockgate-spa@v1, sha512; port 22/tcp for 300 s',
    clientId: SSH_CLIENT_ID,
    secret: sshSecret,
    topBit: 0,
    request: {
      timestampMs: T0_MS + 3_600_000,
      nonce: NONCE[5]!,
      durationS: 300,
      address: null,
      prefix: 0,
      ports: [tcp(22)],
    },
  },
];

function requestJson(r: SpaRequest): object {
  return {
    timestampMs: r.timestampMs,
    nonce: toHex(r.nonce),
    durationS: r.durationS,
    address:
      r.address === null
        ? null
        : {
            family: r.address.family,
            bytes: toHex(r.address.bytes),
            text: r.address.family === 4 ? formatIPv4(r.address.bytes, 0) : formatIPv6(r.address.bytes, 0),
          },
    prefix: r.prefix,
    ports: r.ports.map((p) => ({ proto: p.proto, port: p.port })),
  };
}

const server = serverKeysFromPrivate(SERVER_PRIVATE, DOOR_ID);
const clients = new Map<string, SpaClientKey>([
  [toHex(PSK_CLIENT_ID), { id: PSK_CLIENT_ID, mode: 'psk', psk: PSK }],
  [toHex(ED_CLIENT_ID), { id: ED_CLIENT_ID, mode: 'ed25519', publicKey: ed25519PublicFromRaw(edPublic) }],
  [toHex(SSH_CLIENT_ID), { id: SSH_CLIENT_ID, mode: 'ssh-ed25519', publicKey: ed25519PublicFromRaw(sshPublic) }],
]);

const vectors = CASES.map((c, i) => {
  const ephemeralPrivate = EPHEMERAL[i]!;
  const sealInput = {
    serverPublicKey: server.publicKey,
    doorId: DOOR_ID,
    clientId: c.clientId,
    request: c.request,
    ephemeralPrivate,
    topBit: c.topBit,
  };
  const datagram = sealSpa({ ...sealInput, secret: c.secret });
  const prepared = prepareSeal({ ...sealInput, mode: c.secret.mode });
  const opened = openSpa(datagram, server, (id) => clients.get(id));
  if (!opened.ok) throw new Error(`${c.name}: openSpa rejected its own vector: ${opened.reason}`);
  const decoded = requestJson(opened.request);
  if (JSON.stringify(decoded) !== JSON.stringify(requestJson(c.request)))
    throw new Error(`${c.name}: decoded request differs`);
  return {
    name: c.name,
    note: c.note,
    inputs: {
      serverPrivateKey: toHex(SERVER_PRIVATE),
      serverPublicKey: toHex(server.publicKey),
      doorId: DOOR_ID,
      clientId: toHex(c.clientId),
      mode: c.secret.mode,
      ...(c.secret.mode === 'psk'
        ? { psk: toHex(PSK) }
        : c.secret.mode === 'ed25519'
          ? { ed25519Seed: toHex(ED_SEED), ed25519PublicKey: toHex(edPublic) }
          : {
              ed25519Seed: toHex(SSH_SEED),
              ed25519PublicKey: toHex(sshPublic),
              sshPublicKey: sshPublicKeyLine(sshPublic, 'vector@knockgate'),
            }),
      ephemeralPrivateKey: toHex(ephemeralPrivate),
      topBit: c.topBit,
      request: requestJson(c.request),
    },
    intermediate: {
      mac1Key: toHex(server.mac1Key),
      doorContext: toHex(doorContext(server.publicKey, DOOR_ID)),
      ePrime: toHex(datagram.subarray(0, 32)),
      body: toHex(encodeSpaBody(c.request)),
      transcript: toHex(prepared.transcript),
      ...(c.secret.mode === 'ssh-ed25519' ? { sshsigSignedData: toHex(prepared.proofMessage) } : {}),
    },
    expected: { length: datagram.length, datagram: toHex(datagram), replayKey: opened.replayKey, request: decoded },
  };
});

const doc = {
  format: 'knockgate SPA v2 known-answer vectors; see docs/protocol.md. All byte strings are lower-case hex.',
  generatedBy: 'npm run spa-vectors (scripts/spa-vectors.ts); deterministic',
  vectors,
};
writeFileSync(OUTPUT, `${JSON.stringify(doc, null, 2)}\n`);
console.log(`wrote ${vectors.length} vectors to ${OUTPUT}`);
