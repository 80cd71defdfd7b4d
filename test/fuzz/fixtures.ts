/**
 * Key material, packet builders and known-valid packets shared by the fuzz targets and by
 * make-corpus.ts, so that the checked-in seeds and the invariants agree on the keys.
 *
 * Contract: deterministic (no randomness, no clock): every call returns the same bytes, on every
 * machine. The valid-packet lists are what the "junk never yields a grant" invariants compare
 * with: a mutant that opens must be byte-identical to one of them.
 */

import { createHash, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Endpoint } from '../../src/core/endpoint.js';
import { parseIPAddress } from '../../src/core/ip-address.js';
import type { LinkType, TransportPacket } from '../../src/core/packet.js';
import { ed25519PrivateFromSeed } from '../../src/core/spa/keys.js';
import { sealSpa } from '../../src/core/spa/native-wire.js';
import { serverKeysFromPrivate } from '../../src/core/spa/native-door-keys.js';
import type { ClientAuthMode, ClientAuthSecret, SpaClientKey } from '../../src/core/spa/native-client-auth.js';
import type { SpaRequest } from '../../src/core/spa/native-request.js';
import {
  encodeFwknopPlaintext,
  sealFwknop,
  type FwknopKeys,
  type FwknopSealInput,
} from '../../src/core/spa/fwknop-wire.js';
import { REPO_ROOT } from './harness.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** Deterministic "random" bytes: SHA-256 of a label, repeated as needed. */
export function derivedBytes(label: string, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0, block = 0; i < n; block++) {
    const d = createHash('sha256').update(`${label}/${block}`).digest();
    out.set(d.subarray(0, Math.min(32, n - i)), i);
    i += 32;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Native SPA

export const SPA_SERVER = serverKeysFromPrivate(hex('a0'.repeat(16) + '5c'.repeat(16)), 'fuzz-door');

interface SpaClientFixture {
  readonly cid: Uint8Array;
  readonly secret: ClientAuthSecret;
  readonly key: SpaClientKey;
}
function spaClient(cid: Uint8Array, mode: ClientAuthMode, material: Uint8Array): SpaClientFixture {
  if (mode === 'psk') return { cid, secret: { mode, psk: material }, key: { id: cid, mode, psk: material } };
  const privateKey = ed25519PrivateFromSeed(material);
  return { cid, secret: { mode, privateKey }, key: { id: cid, mode, publicKey: createPublicKey(privateKey) } };
}
export const SPA_PSK_CLIENT = spaClient(hex('11'.repeat(16)), 'psk', hex('22'.repeat(32)));
export const SPA_ED_CLIENT = spaClient(hex('33'.repeat(16)), 'ed25519', hex('44'.repeat(32)));
/** Mode ssh-ed25519 (the agent's proof, made here with the key at hand). */
export const SPA_SSH_CLIENT = spaClient(hex('66'.repeat(16)), 'ssh-ed25519', hex('77'.repeat(32)));
const SPA_CLIENTS = new Map([SPA_PSK_CLIENT, SPA_ED_CLIENT, SPA_SSH_CLIENT].map((c) => [toHex(c.cid), c.key] as const));
export const spaLookup = (idHex: string): SpaClientKey | undefined => SPA_CLIENTS.get(idHex);

const port = (proto: Endpoint['proto'], n: number): Endpoint => ({ proto, port: n });
const BASE_REQUEST: SpaRequest = {
  timestampMs: 1_767_225_600_000,
  nonce: hex('55'.repeat(16)),
  durationS: 0,
  address: null,
  prefix: 0,
  ports: [],
};

/** Valid native SPA datagrams for SPA_SERVER, one per shape (psk, ed25519 and ssh-ed25519, every address family, the largest). */
export function spaValidPackets(): { name: string; request: SpaRequest; bytes: Uint8Array }[] {
  const cases: [string, SpaClientFixture, SpaRequest][] = [
    ['psk-defaults', SPA_PSK_CLIENT, BASE_REQUEST],
    [
      'psk-ports-duration',
      SPA_PSK_CLIENT,
      { ...BASE_REQUEST, nonce: derivedBytes('n1', 16), durationS: 3600, ports: [port('tcp', 22), port('udp', 51820)] },
    ],
    ['psk-source-prefix', SPA_PSK_CLIENT, { ...BASE_REQUEST, nonce: derivedBytes('n2', 16), prefix: 24 }],
    [
      'ed25519-ipv4-24',
      SPA_ED_CLIENT,
      {
        ...BASE_REQUEST,
        nonce: derivedBytes('n3', 16),
        address: { family: 4, bytes: hex('c0000201') },
        prefix: 24,
        ports: [port('tcp', 443)],
      },
    ],
    [
      'ed25519-ipv6-64',
      SPA_ED_CLIENT,
      {
        ...BASE_REQUEST,
        nonce: derivedBytes('n4', 16),
        address: { family: 6, bytes: hex('20010db8000000000000000000000001') },
        prefix: 64,
      },
    ],
    [
      'ed25519-largest',
      SPA_ED_CLIENT,
      {
        timestampMs: Number.MAX_SAFE_INTEGER,
        nonce: derivedBytes('n5', 16),
        durationS: 0xffff_ffff,
        address: { family: 6, bytes: derivedBytes('a6', 16) },
        prefix: 128,
        ports: Array.from({ length: 64 }, (_, i) => port(i % 2 === 0 ? 'tcp' : 'udp', 65_535 - i)),
      },
    ],
    [
      'ssh-ed25519-ports',
      SPA_SSH_CLIENT,
      { ...BASE_REQUEST, nonce: derivedBytes('n6', 16), durationS: 300, ports: [port('tcp', 22)] },
    ],
  ];
  return cases.map(([name, client, request], i) => ({
    name,
    request,
    bytes: sealSpa({
      serverPublicKey: SPA_SERVER.publicKey,
      doorId: 'fuzz-door',
      clientId: client.cid,
      secret: client.secret,
      request,
      ephemeralPrivate: derivedBytes(`eph-${name}`, 32),
      topBit: (i % 2) as 0 | 1,
    }),
  }));
}

// ---------------------------------------------------------------------------------------------
// fwknop

interface Kat {
  readonly KEY?: string;
  readonly KEY_BASE64?: string;
  readonly HMAC_KEY?: string;
  readonly HMAC_KEY_BASE64?: string;
  readonly hmac?: string;
  readonly mode?: string;
  readonly wire: string;
  readonly plaintext?: string;
  readonly encoded?: string;
  readonly inner_digest?: string;
}
export const FWKNOP_KATS = JSON.parse(
  readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'fwknop-kat.json'), 'utf8'),
) as Record<string, Kat>;

function keysOfKat(k: Kat): FwknopKeys {
  const key = k.KEY_BASE64 !== undefined ? Buffer.from(k.KEY_BASE64, 'base64') : Buffer.from(k.KEY ?? '', 'latin1');
  const hmacKey =
    k.HMAC_KEY_BASE64 !== undefined
      ? Buffer.from(k.HMAC_KEY_BASE64, 'base64')
      : k.HMAC_KEY !== undefined
        ? Buffer.from(k.HMAC_KEY, 'latin1')
        : null;
  return {
    key: new Uint8Array(key),
    encryptionMode: k.mode?.startsWith('legacy') ? 'legacy' : 'cbc',
    hmacKey: hmacKey && new Uint8Array(hmacKey),
    hmacType: (k.hmac as FwknopKeys['hmacType'] | undefined) ?? 'sha256',
  };
}
const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

/** The key sets every fwknop input is tried with: the KATs' and a few of our own (each HMAC type, no HMAC). */
export const FWKNOP_KEY_SETS: readonly { readonly name: string; readonly keys: FwknopKeys }[] = [
  { name: 'kat1', keys: keysOfKat(FWKNOP_KATS.kat1_client_T_mode as Kat) },
  { name: 'kat3', keys: keysOfKat(FWKNOP_KATS.kat3_passphrases_hmac_sha512 as Kat) },
  { name: 'kat4', keys: keysOfKat(FWKNOP_KATS.kat4_legacy_iv_no_hmac_2610_client as Kat) },
  { name: 'kat5', keys: keysOfKat(FWKNOP_KATS.kat5_legacy_pre25_client_from_upstream_test_suite as Kat) },
  {
    name: 'cbc-nohmac',
    keys: { key: ascii('fuzz-cbc-key'), encryptionMode: 'cbc', hmacKey: null, hmacType: 'sha256' },
  },
  {
    name: 'cbc-md5',
    keys: {
      key: derivedBytes('k-md5', 32),
      encryptionMode: 'cbc',
      hmacKey: derivedBytes('h-md5', 136),
      hmacType: 'md5',
    },
  },
  {
    name: 'cbc-sha1',
    keys: { key: derivedBytes('k-sha1', 16), encryptionMode: 'cbc', hmacKey: ascii('h'), hmacType: 'sha1' },
  },
  {
    name: 'cbc-sha384',
    keys: { key: ascii('k'), encryptionMode: 'cbc', hmacKey: derivedBytes('h-384', 48), hmacType: 'sha384' },
  },
  {
    name: 'cbc-sha3-256',
    keys: {
      key: derivedBytes('k-3256', 32),
      encryptionMode: 'cbc',
      hmacKey: derivedBytes('h-3256', 64),
      hmacType: 'sha3-256',
    },
  },
  {
    name: 'cbc-sha3-512',
    keys: {
      key: derivedBytes('k-3512', 24),
      encryptionMode: 'cbc',
      hmacKey: derivedBytes('h-3512', 72),
      hmacType: 'sha3-512',
    },
  },
  {
    name: 'legacy-long-key',
    keys: {
      key: ascii('a legacy key longer than sixteen'),
      encryptionMode: 'legacy',
      hmacKey: ascii('legacy-hmac'),
      hmacType: 'sha256',
    },
  },
];

const KAT_KEY_SET: Readonly<Record<string, string>> = {
  kat1_client_T_mode: 'kat1',
  kat2_on_the_wire_accepted_by_fwknopd: 'kat1',
  kat3_passphrases_hmac_sha512: 'kat3',
  kat4_legacy_iv_no_hmac_2610_client: 'kat4',
  kat5_legacy_pre25_client_from_upstream_test_suite: 'kat5',
};

const FWKNOP_MESSAGES: readonly FwknopSealInput[] = [
  { username: 'root', timestamp: 1_795_573_635, messageType: 1, message: '10.0.0.1,tcp/22' },
  {
    username: 'alice',
    timestamp: 0,
    messageType: 1,
    message: '192.0.2.7,tcp/22,udp/53,tcp/65535',
    digestType: 'sha512',
  },
  { username: 'cmd', timestamp: 2_147_483_647, messageType: 0, message: '10.1.2.3,echo hi', digestType: 'md5' },
  {
    username: 'nat',
    timestamp: 1_700_000_000,
    messageType: 2,
    message: '10.0.0.2,tcp/22',
    natAccess: '192.168.1.2,22',
    digestType: 'sha1',
  },
  {
    username: 'to',
    timestamp: 1_700_000_001,
    messageType: 3,
    message: '10.0.0.3,tcp/22',
    clientTimeout: 65_536,
    digestType: 'sha384',
  },
  {
    username: 'tonat',
    timestamp: 1_700_000_002,
    messageType: 4,
    message: '10.0.0.4,udp/1',
    natAccess: 'h,1',
    clientTimeout: 1,
    digestType: 'sha3-256',
  },
  {
    username: 'lnat',
    timestamp: 1_700_000_003,
    messageType: 5,
    message: '10.0.0.5,tcp/2',
    natAccess: 'host.example,80',
    serverAuth: 'pw',
    digestType: 'sha3-512',
  },
  {
    username: 'u',
    timestamp: 1_700_000_004,
    messageType: 6,
    message: '10.0.0.6,tcp/3',
    natAccess: 'x,9',
    serverAuth: 'sa',
    clientTimeout: 30,
  },
];

/** Valid fwknop packets: the KAT wires and packets sealed with each key set, with the key set they open with. */
export function fwknopValidPackets(): { name: string; keySet: string; bytes: Uint8Array; plaintext?: string }[] {
  const out: { name: string; keySet: string; bytes: Uint8Array; plaintext?: string }[] = [];
  for (const [name, keySet] of Object.entries(KAT_KEY_SET))
    out.push({ name, keySet, bytes: ascii((FWKNOP_KATS[name] as Kat).wire) });
  FWKNOP_KEY_SETS.forEach(({ name, keys }, i) => {
    for (let j = 0; j < FWKNOP_MESSAGES.length; j += 3) {
      const m = FWKNOP_MESSAGES[(i + j) % FWKNOP_MESSAGES.length] as FwknopSealInput;
      const random = {
        salt: derivedBytes(`salt-${name}-${j}`, 8),
        randomDigits: String(1_000_000_000_000_000n + BigInt(i * 1000 + j)).slice(0, 16),
      };
      try {
        out.push({ name: `${name}-type${m.messageType}`, keySet: name, bytes: sealFwknop(m, keys, random) });
      } catch {
        // Too long for this HMAC: fwknopd would refuse it, so it is no seed.
      }
    }
  });
  return out;
}

/** Plaintexts (after decryption) to seed the field parser: the KATs' and the encodings of FWKNOP_MESSAGES. */
export function fwknopPlaintexts(): string[] {
  const out: string[] = [];
  for (const k of Object.values(FWKNOP_KATS)) {
    if (typeof k !== 'object' || k === null) continue;
    if (k.plaintext !== undefined) out.push(k.plaintext);
    if (k.encoded !== undefined && k.inner_digest !== undefined) out.push(`${k.encoded}:${k.inner_digest}`);
  }
  FWKNOP_MESSAGES.forEach((m, i) => {
    out.push(encodeFwknopPlaintext(m, String(9_000_000_000_000_000n + BigInt(i))));
  });
  return out;
}
export { FWKNOP_MESSAGES };

// ---------------------------------------------------------------------------------------------
// Frames (checksums left zero: the parser does not check them, the kernel already did)

export const u16 = (n: number): number[] => [(n >>> 8) & 0xff, n & 0xff];
export const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

export function tcpSegment(
  sport: number,
  dport: number,
  seq: number,
  flags: number,
  payload: readonly number[] = [],
  dataOffsetWords = 5,
): number[] {
  const h = [
    ...u16(sport),
    ...u16(dport),
    ...u32(seq),
    ...u32(0),
    (dataOffsetWords & 0x0f) << 4,
    flags,
    ...u16(64240),
    ...u16(0),
    ...u16(0),
  ];
  while (h.length < dataOffsetWords * 4) h.push(1); // NOP options
  return [...h, ...payload];
}

export function udpDatagram(sport: number, dport: number, payload: readonly number[] = []): number[] {
  return [...u16(sport), ...u16(dport), ...u16(8 + payload.length), ...u16(0), ...payload];
}

export function ipv4(
  src: readonly number[],
  dst: readonly number[],
  proto: number,
  payload: readonly number[],
  o: { ihl?: number; frag?: number } = {},
): number[] {
  const ihl = o.ihl ?? 5;
  const h = [
    0x40 | ihl,
    0,
    ...u16(ihl * 4 + payload.length),
    ...u16(0x1234),
    ...u16(o.frag ?? 0x4000),
    64,
    proto,
    ...u16(0),
    ...src,
    ...dst,
  ];
  while (h.length < ihl * 4) h.push(1); // NOP options
  return [...h, ...payload];
}

/** `ext`: extension headers as [type, body] (body padded to 8-byte units, minus the 2-byte head). */
export function ipv6(
  src: readonly number[],
  dst: readonly number[],
  next: number,
  payload: readonly number[],
  ext: readonly [number, number][] = [],
): number[] {
  const chain: number[] = [];
  let first = next;
  for (let i = ext.length - 1; i >= 0; i--) {
    const [type, units] = ext[i] as [number, number];
    chain.unshift(first, units, ...new Array<number>(6 + units * 8).fill(0));
    first = type;
  }
  const body = [...chain, ...payload];
  return [0x60, 0, 0, 0, ...u16(body.length), first, 64, ...src, ...dst, ...body];
}

export const ETH_IPV4 = 0x0800;
export const ETH_IPV6 = 0x86dd;
export const LOCAL_MAC = [0x02, 0, 0, 0, 0, 0x01];

export function ethernet(ethertype: number, payload: readonly number[], tags: readonly number[] = []): number[] {
  const tagBytes = tags.flatMap((tpid, i) => [...u16(tpid), ...u16(100 + i)]);
  return [...LOCAL_MAC, 0x02, 0, 0, 0, 0, 0x02, ...tagBytes, ...u16(ethertype), ...payload];
}
export function sll(ethertype: number, payload: readonly number[], packetType = 0): number[] {
  return [...u16(packetType), ...u16(1), ...u16(6), 0x02, 0, 0, 0, 0, 0x02, 0, 0, ...u16(ethertype), ...payload];
}
export function sll2(ethertype: number, payload: readonly number[], packetType = 0): number[] {
  return [...u16(ethertype), 0, 0, ...u32(2), ...u16(1), packetType, 6, 0x02, 0, 0, 0, 0, 0x02, 0, 0, ...payload];
}
export function nullLink(family: number, payload: readonly number[], bigEndian = false): number[] {
  return [...(bigEndian ? u32(family) : [family, 0, 0, 0]), ...payload];
}

/** Wraps an IP packet in the link layer of `linkType` (family picks the ethertype / address family). */
export function linkWrap(linkType: LinkType, family: 4 | 6, ip: readonly number[]): number[] {
  const ethertype = family === 4 ? ETH_IPV4 : ETH_IPV6;
  switch (linkType) {
    case 'ethernet':
      return ethernet(ethertype, ip);
    case 'linux-sll':
      return sll(ethertype, ip);
    case 'linux-sll2':
      return sll2(ethertype, ip);
    case 'raw':
      return [...ip];
    case 'null':
      return nullLink(family === 4 ? 2 : 10, ip);
  }
}

/** The 4 or 16 address bytes of a parsed packet's address text (IPv4-mapped IPv6 stays 16 bytes). */
export function addressBytes(text: string, family: 4 | 6): number[] {
  const a = parseIPAddress(text);
  if (a === null) throw new Error(`not an address: ${text}`);
  if (family === 4 || a.family === 6) return [...a.bytes];
  return [...new Array<number>(10).fill(0), 0xff, 0xff, ...a.bytes];
}

/** The shortest frame of `linkType` that carries `p`: no VLAN tag, IP option, extension header or padding. */
export function encodeCanonical(linkType: LinkType, p: TransportPacket): Uint8Array {
  const payload = [...p.payload];
  const transport =
    p.proto === 'tcp'
      ? tcpSegment(p.sport, p.dport, p.tcpSeq, p.tcpFlags, payload)
      : udpDatagram(p.sport, p.dport, payload);
  const proto = p.proto === 'tcp' ? 6 : 17;
  const src = addressBytes(p.src, p.family);
  const dst = addressBytes(p.dst, p.family);
  const ip = p.family === 4 ? ipv4(src, dst, proto, transport) : ipv6(src, dst, proto, transport);
  return Uint8Array.from(linkWrap(linkType, p.family, ip));
}
