// Invariant: parseFrame, for every link type, never throws and never reads past the captured length (cutting the buffer there changes nothing); it returns a reason from FRAME_DROP_REASONS or a TCP/UDP packet whose numbers are in range, whose addresses are canonical text of its family, whose payload is a view of the captured bytes right after a transport header that carries the packet's ports, and which re-encodes to a canonical frame that parses to the same packet; the local-MAC filter can only turn a result into link-not-for-us.
/**
 * Fuzz target for src/core/packet.ts parseFrame, one run per link type (corpus/packet-<link type>/),
 * and a structure-aware property: frames built from arbitrary fields (VLAN tags, IP options, IPv6
 * extension chains, TCP options, trailing padding) parse back to exactly those fields.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import fc from 'fast-check';
import { parseFrame, type FrameResult, type LinkType } from '../../src/core/packet.js';
import { formatIPAddress, parseIPAddress } from '../../src/core/ip-address.js';
import { FRAME_DROP_REASONS } from '../../src/core/reasons.js';
import { MAX_IPV6_EXTENSION_HEADERS } from '../../src/core/limits.js';
import { checkProperty, fuzzIn, testTimeoutMs } from './harness.js';
import {
  encodeCanonical,
  ethernet,
  ETH_IPV4,
  ETH_IPV6,
  ipv4,
  ipv6,
  linkWrap,
  tcpSegment,
  udpDatagram,
} from './fixtures.js';

const LINK_TYPES: readonly LinkType[] = ['ethernet', 'linux-sll', 'linux-sll2', 'raw', 'null'];
/** Bytes before the IP header of each link type, at least. */
const LINK_HEADER_BYTES: Readonly<Record<LinkType, number>> = {
  ethernet: 14,
  'linux-sll': 16,
  'linux-sll2': 20,
  raw: 0,
  null: 4,
};
const REASONS = new Set<string>(FRAME_DROP_REASONS);

const u16 = (b: Uint8Array, o: number): number => ((b[o] as number) << 8) | (b[o + 1] as number);
const u32 = (b: Uint8Array, o: number): number => (u16(b, o) * 0x10000 + u16(b, o + 2)) >>> 0;
const hexOf = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** A result with the payload as hex, for deep comparison of two parses of different buffers. */
function plain(r: FrameResult): unknown {
  return r.ok ? { ...r.packet, payload: hexOf(r.packet.payload) } : r;
}

function isCanonicalAddress(text: string, family: 4 | 6): boolean {
  if (isIP(text) !== family) return false;
  if (family === 4)
    return formatIPAddress(parseIPAddress(text) as NonNullable<ReturnType<typeof parseIPAddress>>) === text;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (mapped) return isCanonicalAddress(mapped[1] as string, 4);
  // RFC 5952, as the WHATWG URL serializer writes it.
  return new URL(`http://[${text}]/`).hostname === `[${text}]`;
}

/** A position-dependent length below the buffer's, derived from the bytes (the check must be a function of the input). */
function cutOf(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i += 7) h = Math.imul(h ^ (b[i] as number), 0x01000193);
  return (h >>> 0) % (b.length + 1);
}

function checkFrame(linkType: LinkType, input: Uint8Array): string {
  const r = parseFrame(linkType, input);
  // Cooked captures say in a header field whether the frame was addressed to this host; nothing else drops a frame as not ours.
  const notOurs =
    linkType === 'linux-sll'
      ? input.length >= 16 && u16(input, 0) !== 0
      : linkType === 'linux-sll2'
        ? input.length >= 20 && input[10] !== 0
        : false;
  assert.equal(!r.ok && r.reason === 'link-not-for-us', notOurs, 'link-not-for-us disagrees with the packet type');
  if (!r.ok) {
    assert.ok(REASONS.has(r.reason), `unknown reason ${String(r.reason)}`);
  } else {
    const p = r.packet;
    assert.ok(p.family === 4 || p.family === 6);
    assert.ok(isCanonicalAddress(p.src, p.family), `src ${p.src} is not canonical IPv${p.family}`);
    assert.ok(isCanonicalAddress(p.dst, p.family), `dst ${p.dst} is not canonical IPv${p.family}`);
    assert.ok(p.proto === 'tcp' || p.proto === 'udp');
    for (const n of [p.sport, p.dport]) assert.ok(Number.isInteger(n) && n >= 0 && n <= 65_535);
    assert.ok(Number.isInteger(p.tcpFlags) && p.tcpFlags >= 0 && p.tcpFlags <= 255);
    assert.ok(Number.isInteger(p.tcpSeq) && p.tcpSeq >= 0 && p.tcpSeq <= 0xffff_ffff);
    // The payload is a view of the captured bytes, after the link, IP and transport headers.
    assert.equal(p.payload.buffer, input.buffer, 'payload is not a view of the captured buffer');
    const off = p.payload.byteOffset - input.byteOffset;
    const minHeaders = LINK_HEADER_BYTES[linkType] + (p.family === 4 ? 20 : 40) + (p.proto === 'tcp' ? 20 : 8);
    assert.ok(off >= minHeaders, `payload at ${off}, inside the headers (${minHeaders} bytes at least)`);
    assert.ok(off + p.payload.length <= input.length, 'payload past the captured length');
    if (p.proto === 'udp') {
      assert.equal(p.tcpFlags, 0);
      assert.equal(p.tcpSeq, 0);
      const h = off - 8;
      assert.deepEqual(
        [u16(input, h), u16(input, h + 2), u16(input, h + 4)],
        [p.sport, p.dport, p.payload.length + 8],
        'no UDP header right before the payload',
      );
    } else {
      let found = false;
      for (let h = off - 20; h >= off - 60 && h >= 0 && !found; h -= 4) {
        found =
          ((input[h + 12] as number) >> 4) * 4 === off - h &&
          u16(input, h) === p.sport &&
          u16(input, h + 2) === p.dport &&
          u32(input, h + 4) === p.tcpSeq &&
          input[h + 13] === p.tcpFlags;
      }
      assert.ok(found, 'no TCP header right before the payload');
    }
    // Re-encoded canonically, it parses to the same packet.
    assert.deepEqual(
      plain(parseFrame(linkType, encodeCanonical(linkType, p))),
      plain(r),
      'canonical re-encoding parses differently',
    );
  }
  // Only the captured bytes count: a shorter `length` is the same as a shorter buffer, a longer one is ignored.
  const cut = cutOf(input);
  const garbage = Uint8Array.from(input);
  garbage.fill(0xa5, cut);
  assert.deepEqual(
    plain(parseFrame(linkType, garbage, cut)),
    plain(parseFrame(linkType, input.slice(0, cut))),
    `length ${cut} is not respected`,
  );
  assert.deepEqual(
    plain(parseFrame(linkType, input, input.length + 9)),
    plain(r),
    'a length beyond the buffer changed the result',
  );
  // The local-MAC filter (Ethernet only): the frame's own destination MAC changes nothing; another one drops it.
  const mac = input.slice(0, 6);
  const other = Uint8Array.from(mac.length === 6 ? mac : new Uint8Array(6));
  other[5] = (other[5] as number) ^ 1;
  if (linkType === 'ethernet' && input.length >= 6) {
    assert.deepEqual(plain(parseFrame(linkType, input, input.length, mac)), plain(r));
    assert.deepEqual(parseFrame(linkType, input, input.length, other), { ok: false, reason: 'link-not-for-us' });
  } else {
    assert.deepEqual(
      plain(parseFrame(linkType, input, input.length, other)),
      plain(r),
      'the local MAC filter applied where it must not',
    );
  }
  return r.ok ? `ok:${r.packet.proto}${r.packet.family}${r.packet.payload.length > 0 ? '+data' : ''}` : r.reason;
}

// Tokens that matter to header parsing, for the dictionary mutation (ethertypes, protocol numbers, version nibbles).
const DICTIONARY = [
  '\x08\x00',
  '\x86\xdd',
  '\x81\x00',
  '\x88\xa8',
  '\x45',
  '\x46',
  '\x4f',
  '\x60',
  '\x06',
  '\x11',
  '\x2c',
  '\x2b',
  '\x3c',
  '\x00\x00',
];

describe('fuzz: parseFrame (src/core/packet.ts)', () => {
  for (const linkType of LINK_TYPES) {
    it(`packet-${linkType}`, { timeout: testTimeoutMs() }, async (t) => {
      await fuzzIn(t, {
        name: `packet-${linkType}`,
        kind: 'binary',
        maxBytes: 2_048,
        dictionary: DICTIONARY.map((s) => Buffer.from(s, 'latin1').toString('utf8')),
        budgetShare: 0.16,
        check: (input) => checkFrame(linkType, input),
      });
    });
  }

  it('property: frames built from arbitrary fields parse back to exactly those fields', {
    timeout: testTimeoutMs(),
  }, async (t) => {
    const byte = fc.integer({ min: 0, max: 255 });
    const addr = (n: number): fc.Arbitrary<number[]> => fc.array(byte, { minLength: n, maxLength: n });
    const frameArb = fc.record({
      linkType: fc.constantFrom(...LINK_TYPES),
      family: fc.constantFrom<4 | 6>(4, 6),
      src4: addr(4),
      dst4: addr(4),
      src6: addr(16),
      dst6: addr(16),
      proto: fc.constantFrom<'tcp' | 'udp'>('tcp', 'udp'),
      sport: fc.integer({ min: 0, max: 65_535 }),
      dport: fc.integer({ min: 0, max: 65_535 }),
      seq: fc.integer({ min: 0, max: 0xffff_ffff }),
      flags: byte,
      tcpWords: fc.integer({ min: 5, max: 15 }),
      ihl: fc.integer({ min: 5, max: 15 }),
      ext: fc.array(fc.tuple(fc.constantFrom(0, 43, 60), fc.integer({ min: 0, max: 3 })), {
        maxLength: MAX_IPV6_EXTENSION_HEADERS,
      }),
      tags: fc.array(fc.constantFrom(0x8100, 0x88a8), { maxLength: 2 }),
      padding: fc.integer({ min: 0, max: 40 }),
      payload: fc.array(byte, { maxLength: 64 }),
    });
    await checkProperty(
      t,
      'packet-fields-round-trip',
      fc.property(frameArb, (f) => {
        const transport =
          f.proto === 'tcp'
            ? tcpSegment(f.sport, f.dport, f.seq, f.flags, f.payload, f.tcpWords)
            : udpDatagram(f.sport, f.dport, f.payload);
        const pnum = f.proto === 'tcp' ? 6 : 17;
        const ip =
          f.family === 4
            ? ipv4(f.src4, f.dst4, pnum, transport, { ihl: f.ihl })
            : ipv6(f.src6, f.dst6, pnum, transport, f.ext);
        const frame =
          f.linkType === 'ethernet' && f.tags.length > 0
            ? ethernet(f.family === 4 ? ETH_IPV4 : ETH_IPV6, ip, f.tags)
            : linkWrap(f.linkType, f.family, ip);
        const bytes = Uint8Array.from([...frame, ...new Array<number>(f.padding).fill(0xee)]);
        const r = parseFrame(f.linkType, bytes);
        assert.ok(r.ok, `expected a packet, got ${r.ok ? '' : r.reason}`);
        const p = r.packet;
        const fmt = (b: number[], fam: 4 | 6): string =>
          fam === 4
            ? formatIPAddress({ family: 4, bytes: Uint8Array.from(b) })
            : formatIPAddress({ family: 6, bytes: Uint8Array.from(b) });
        assert.equal(p.src, f.family === 4 ? fmt(f.src4, 4) : fmt(f.src6, 6));
        assert.equal(p.dst, f.family === 4 ? fmt(f.dst4, 4) : fmt(f.dst6, 6));
        assert.deepEqual([p.family, p.proto, p.sport, p.dport], [f.family, f.proto, f.sport, f.dport]);
        assert.deepEqual([p.tcpSeq, p.tcpFlags], f.proto === 'tcp' ? [f.seq, f.flags] : [0, 0]);
        assert.deepEqual([...p.payload], f.payload);
        checkFrame(f.linkType, bytes);
      }),
      { share: 0.2 },
    );
  });
});
