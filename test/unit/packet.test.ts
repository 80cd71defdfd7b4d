/**
 * Covers src/core/packet.ts (parseFrame) and src/core/ip-address.ts (formatIPv4, formatIPv6).
 *
 * Examples: every supported link type (Ethernet with 0-2 VLAN tags, Linux cooked v1/v2, raw IP,
 * BSD null), the local-MAC filter, IPv4/IPv6 with TCP/UDP, IPv6 extension headers, and each drop
 * reason (truncation at every length, fragments, bad header lengths, unsupported protocols).
 * Properties: parseFrame never throws on arbitrary or mutated input and only returns known reasons;
 * frames built from arbitrary header fields round-trip; formatIPv6 matches the WHATWG URL
 * serializer (RFC 5952 compression) for every non-IPv4-mapped address.
 *
 * Packets are built byte by byte by the helpers below; checksums are left zero (the parser does
 * not check them, the kernel already did).
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseFrame, type FrameResult, type LinkType, type TransportPacket } from '../../src/core/packet.js';
import { formatIPv4, formatIPv6 } from '../../src/core/ip-address.js';
import { FRAME_DROP_REASONS } from '../../src/core/reasons.js';

// ---------------------------------------------------------------------------------------------
// Packet builders

const u16 = (n: number): number[] => [(n >>> 8) & 0xff, n & 0xff];
const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMP = 1;
const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;

const SYN = 0x02;

interface TcpOpts {
  sport: number;
  dport: number;
  seq?: number;
  flags?: number;
  payload?: readonly number[];
  /** Data offset in 32-bit words; options are zero-filled to fit. */
  dataOffsetWords?: number;
}

function tcpSegment(o: TcpOpts): number[] {
  const words = o.dataOffsetWords ?? 5;
  const headerLen = Math.max(words, 5) * 4;
  const h = [
    ...u16(o.sport),
    ...u16(o.dport),
    ...u32(o.seq ?? 0),
    ...u32(0), // ack
    (words & 0x0f) << 4,
    o.flags ?? SYN,
    ...u16(64240), // window
    ...u16(0), // checksum
    ...u16(0), // urgent
  ];
  while (h.length < headerLen) h.push(1); // NOP options
  return [...h, ...(o.payload ?? [])];
}

function udpDatagram(sport: number, dport: number, payload: readonly number[] = [], lengthField?: number): number[] {
  return [...u16(sport), ...u16(dport), ...u16(lengthField ?? 8 + payload.length), ...u16(0), ...payload];
}

interface V4Opts {
  src?: readonly number[];
  dst?: readonly number[];
  proto?: number;
  /** Header length in 32-bit words (the IHL field); options are zero-filled. */
  ihl?: number;
  /** The 16-bit flags + fragment offset field. */
  frag?: number;
  totalLength?: number;
}

function ipv4Packet(l4: readonly number[], o: V4Opts = {}): number[] {
  const ihl = o.ihl ?? 5;
  const headerLen = Math.max(ihl, 5) * 4;
  const total = o.totalLength ?? headerLen + l4.length;
  const h = [
    0x40 | (ihl & 0x0f),
    0, // DSCP/ECN
    ...u16(total),
    ...u16(0x1234), // identification
    ...u16(o.frag ?? 0),
    64, // TTL
    o.proto ?? PROTO_TCP,
    ...u16(0), // checksum
    ...(o.src ?? [198, 51, 100, 7]),
    ...(o.dst ?? [192, 0, 2, 1]),
  ];
  while (h.length < headerLen) h.push(0); // end-of-options padding
  return [...h, ...l4];
}

interface V6Opts {
  src?: readonly number[];
  dst?: readonly number[];
  next?: number;
  payloadLength?: number;
}

function ipv6Packet(payload: readonly number[], o: V6Opts = {}): number[] {
  return [
    0x60,
    0,
    0,
    0, // version, traffic class, flow label
    ...u16(o.payloadLength ?? payload.length),
    o.next ?? PROTO_TCP,
    64, // hop limit
    ...(o.src ?? V6_SRC),
    ...(o.dst ?? V6_DST),
    ...payload,
  ];
}

/** An IPv6 extension header (hop-by-hop, routing or destination options) of (extLen+1)*8 bytes. */
function ipv6ExtHeader(next: number, extLen = 0): number[] {
  const h = [next, extLen];
  // PadN option filling the rest: type 1, length, zeros.
  const rest = (extLen + 1) * 8 - 2;
  h.push(1, rest - 2);
  for (let i = 0; i < rest - 2; i++) h.push(0);
  return h;
}

const MAC_LOCAL = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const MAC_PEER = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];

function ethernet(
  ethertype: number,
  payload: readonly number[],
  o: { dst?: readonly number[]; vlanTpids?: readonly number[] } = {},
): number[] {
  const f = [...(o.dst ?? MAC_LOCAL), ...MAC_PEER];
  (o.vlanTpids ?? []).forEach((tpid, i) => {
    f.push(...u16(tpid), ...u16(100 + i));
  });
  return [...f, ...u16(ethertype), ...payload];
}

function sll(packetType: number, ethertype: number, payload: readonly number[]): number[] {
  return [...u16(packetType), ...u16(1), ...u16(6), ...MAC_PEER, 0, 0, ...u16(ethertype), ...payload];
}

function sll2(packetType: number, ethertype: number, payload: readonly number[]): number[] {
  return [...u16(ethertype), 0, 0, ...u32(3), ...u16(1), packetType, 6, ...MAC_PEER, 0, 0, ...payload];
}

const V6_SRC = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05];
const V6_DST = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01];

const bytes = (a: readonly number[]): Uint8Array => Uint8Array.from(a);

function ok(r: FrameResult): TransportPacket {
  if (!r.ok) assert.fail(`expected a parsed packet, got drop reason ${r.reason}`);
  return r.packet;
}

function reason(r: FrameResult): string {
  if (r.ok)
    assert.fail(`expected a drop, got a packet ${JSON.stringify({ ...r.packet, payload: [...r.packet.payload] })}`);
  return r.reason;
}

const KNOWN_REASONS: readonly string[] = FRAME_DROP_REASONS;
const LINK_TYPES: readonly LinkType[] = ['ethernet', 'linux-sll', 'linux-sll2', 'raw', 'null'];

/** Wraps an IP packet in the given link layer (addressed to us). */
function frameFor(link: LinkType, ethertype: number, ip: readonly number[]): number[] {
  switch (link) {
    case 'ethernet':
      return ethernet(ethertype, ip);
    case 'linux-sll':
      return sll(0, ethertype, ip);
    case 'linux-sll2':
      return sll2(0, ethertype, ip);
    case 'raw':
      return [...ip];
    case 'null':
      return [ethertype === ETH_IPV4 ? 2 : 10, 0, 0, 0, ...ip];
  }
}

// ---------------------------------------------------------------------------------------------
// IPv6 text helpers independent of the code under test

function groupsOf(b: Uint8Array | readonly number[]): number[] {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(((b[2 * i] as number) << 8) | (b[2 * i + 1] as number));
  return g;
}

function uncompressed(b: Uint8Array | readonly number[]): string {
  return groupsOf(b)
    .map((g) => g.toString(16))
    .join(':');
}

/** The WHATWG URL serializer's text of an IPv6 address (RFC 5952 compression, no dotted quad). */
function urlCanonical(text: string): string {
  const host = new URL(`http://[${text}]/`).hostname;
  assert.ok(host.startsWith('[') && host.endsWith(']'), host);
  return host.slice(1, -1);
}

function isV4Mapped(b: Uint8Array | readonly number[]): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** Parses a canonical (compressed, hex-only) IPv6 text into 16 bytes. */
function v6Bytes(text: string): number[] {
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? 0 : 8 - h.length - t.length;
  const groups = [
    ...h.map((x) => parseInt(x, 16)),
    ...new Array<number>(zeros).fill(0),
    ...t.map((x) => parseInt(x, 16)),
  ];
  assert.equal(groups.length, 8, text);
  return groups.flatMap((g) => u16(g));
}

// ---------------------------------------------------------------------------------------------
// Examples

describe('parseFrame: supported link types and protocols', () => {
  it('parses Ethernet + IPv4 + TCP SYN: addresses, ports, flags, seq, family and payload', () => {
    const tcp = tcpSegment({ sport: 51515, dport: 5643, seq: 0xdeadbeef, flags: SYN, payload: [1, 2, 3] });
    const frame = bytes(ethernet(ETH_IPV4, ipv4Packet(tcp, { src: [198, 51, 100, 7], dst: [192, 0, 2, 1] })));
    const p = ok(parseFrame('ethernet', frame));
    assert.equal(p.family, 4);
    assert.equal(p.src, '198.51.100.7');
    assert.equal(p.dst, '192.0.2.1');
    assert.equal(p.proto, 'tcp');
    assert.equal(p.sport, 51515);
    assert.equal(p.dport, 5643);
    assert.equal(p.tcpFlags, SYN);
    assert.equal(p.tcpSeq, 0xdeadbeef);
    assert.deepEqual([...p.payload], [1, 2, 3]);
  });

  it('parses Ethernet + IPv6 + UDP', () => {
    const udp = udpDatagram(40000, 7000, [0xaa, 0xbb]);
    const p = ok(parseFrame('ethernet', bytes(ethernet(ETH_IPV6, ipv6Packet(udp, { next: PROTO_UDP })))));
    assert.equal(p.family, 6);
    assert.equal(p.src, '2001:db8::5');
    assert.equal(p.dst, '2001:db8::1');
    assert.equal(p.proto, 'udp');
    assert.equal(p.sport, 40000);
    assert.equal(p.dport, 7000);
    assert.equal(p.tcpFlags, 0);
    assert.equal(p.tcpSeq, 0);
    assert.deepEqual([...p.payload], [0xaa, 0xbb]);
  });

  it('skips an IPv6 hop-by-hop extension header before TCP', () => {
    const tcp = tcpSegment({ sport: 1234, dport: 22, seq: 7, payload: [9] });
    const payload = [...ipv6ExtHeader(PROTO_TCP, 0), ...tcp];
    const p = ok(parseFrame('ethernet', bytes(ethernet(ETH_IPV6, ipv6Packet(payload, { next: 0 })))));
    assert.equal(p.proto, 'tcp');
    assert.equal(p.sport, 1234);
    assert.equal(p.dport, 22);
    assert.equal(p.tcpSeq, 7);
    assert.deepEqual([...p.payload], [9]);
  });

  it('walks a chain of hop-by-hop, routing and destination options headers of several sizes', () => {
    const udp = udpDatagram(5, 6, [1]);
    const payload = [...ipv6ExtHeader(43, 1), ...ipv6ExtHeader(60, 2), ...ipv6ExtHeader(PROTO_UDP, 0), ...udp];
    const p = ok(parseFrame('raw', bytes(ipv6Packet(payload, { next: 0 }))));
    assert.equal(p.proto, 'udp');
    assert.equal(p.sport, 5);
    assert.equal(p.dport, 6);
    assert.deepEqual([...p.payload], [1]);
  });

  it('accepts 8 IPv6 extension headers and drops 9 as ip-extension-headers-exceeded', () => {
    const chain = (count: number): number[] => {
      const out: number[] = [];
      for (let i = 0; i < count; i++) out.push(...ipv6ExtHeader(i === count - 1 ? PROTO_TCP : 60, 0));
      return out;
    };
    const tcp = tcpSegment({ sport: 1, dport: 2 });
    assert.equal(ok(parseFrame('raw', bytes(ipv6Packet([...chain(8), ...tcp], { next: 60 })))).dport, 2);
    assert.equal(
      reason(parseFrame('raw', bytes(ipv6Packet([...chain(9), ...tcp], { next: 60 })))),
      'ip-extension-headers-exceeded',
    );
  });

  it('drops an IPv6 extension header that runs past the payload length as ip-header-invalid', () => {
    // Claims (3+1)*8 = 32 bytes but the payload holds only 8 + 20.
    const payload = [PROTO_TCP, 3, 1, 4, 0, 0, 0, 0, ...tcpSegment({ sport: 1, dport: 2 })];
    assert.equal(reason(parseFrame('raw', bytes(ipv6Packet(payload, { next: 0 })))), 'ip-header-invalid');
  });

  it('drops an IPv6 extension header chain that ends at the packet end without a transport header as ip-header-invalid', () => {
    // The destination options header says another one follows, but the packet is over.
    assert.equal(reason(parseFrame('raw', bytes(ipv6Packet(ipv6ExtHeader(60, 0), { next: 60 })))), 'ip-header-invalid');
    assert.equal(
      reason(parseFrame('raw', bytes(ipv6Packet([...ipv6ExtHeader(60, 0), 6, 0, 0, 0], { next: 60 })))),
      'ip-header-invalid',
    );
    // "No next header" (59) is not a transport we parse.
    assert.equal(
      reason(parseFrame('raw', bytes(ipv6Packet(ipv6ExtHeader(59, 0), { next: 0 })))),
      'transport-unsupported',
    );
  });

  it('skips one 802.1Q VLAN tag', () => {
    const frame = ethernet(ETH_IPV4, ipv4Packet(tcpSegment({ sport: 1, dport: 2345 })), { vlanTpids: [ETH_VLAN] });
    assert.equal(ok(parseFrame('ethernet', bytes(frame))).dport, 2345);
  });

  it('skips two tags (QinQ, 802.1ad outer + 802.1Q inner) but drops three as link-unsupported', () => {
    const ip = ipv4Packet(tcpSegment({ sport: 1, dport: 2345 }));
    assert.equal(
      ok(parseFrame('ethernet', bytes(ethernet(ETH_IPV4, ip, { vlanTpids: [ETH_QINQ, ETH_VLAN] })))).dport,
      2345,
    );
    assert.equal(
      ok(parseFrame('ethernet', bytes(ethernet(ETH_IPV4, ip, { vlanTpids: [ETH_VLAN, ETH_VLAN] })))).dport,
      2345,
    );
    assert.equal(
      reason(parseFrame('ethernet', bytes(ethernet(ETH_IPV4, ip, { vlanTpids: [ETH_QINQ, ETH_VLAN, ETH_VLAN] })))),
      'link-unsupported',
    );
  });

  it('drops an Ethernet frame of another ethertype (ARP) as link-unsupported', () => {
    assert.equal(
      reason(parseFrame('ethernet', bytes(ethernet(0x0806, new Array<number>(28).fill(0))))),
      'link-unsupported',
    );
  });

  it('parses linux-sll (cooked v1) with packet type host, and drops outgoing (4) and other-host (3)', () => {
    const ip = ipv4Packet(tcpSegment({ sport: 1000, dport: 2000 }));
    const p = ok(parseFrame('linux-sll', bytes(sll(0, ETH_IPV4, ip))));
    assert.equal(p.sport, 1000);
    assert.equal(p.dport, 2000);
    assert.equal(reason(parseFrame('linux-sll', bytes(sll(4, ETH_IPV4, ip)))), 'link-not-for-us');
    assert.equal(reason(parseFrame('linux-sll', bytes(sll(3, ETH_IPV4, ip)))), 'link-not-for-us');
  });

  it('parses linux-sll2 (cooked v2): protocol at offset 0, packet type at offset 10', () => {
    const ip = ipv6Packet(udpDatagram(3000, 4000), { next: PROTO_UDP });
    const frame = sll2(0, ETH_IPV6, ip);
    assert.equal(frame.length, 20 + ip.length);
    const p = ok(parseFrame('linux-sll2', bytes(frame)));
    assert.equal(p.family, 6);
    assert.equal(p.dport, 4000);
    assert.equal(reason(parseFrame('linux-sll2', bytes(sll2(4, ETH_IPV6, ip)))), 'link-not-for-us');
  });

  it('parses raw IPv4 and raw IPv6, and drops a raw packet of another version as link-unsupported', () => {
    assert.equal(ok(parseFrame('raw', bytes(ipv4Packet(tcpSegment({ sport: 1, dport: 80 }))))).family, 4);
    assert.equal(ok(parseFrame('raw', bytes(ipv6Packet(tcpSegment({ sport: 1, dport: 80 }))))).family, 6);
    const v5 = ipv4Packet(tcpSegment({ sport: 1, dport: 80 }));
    v5[0] = 0x55;
    assert.equal(reason(parseFrame('raw', bytes(v5))), 'link-unsupported');
  });

  it('parses BSD null/loopback in either byte order of the address family', () => {
    const ip4 = ipv4Packet(tcpSegment({ sport: 1, dport: 80 }));
    const ip6 = ipv6Packet(tcpSegment({ sport: 1, dport: 80 }));
    assert.equal(ok(parseFrame('null', bytes([2, 0, 0, 0, ...ip4]))).family, 4);
    assert.equal(ok(parseFrame('null', bytes([0, 0, 0, 2, ...ip4]))).family, 4);
    for (const fam of [10, 24, 28, 30]) {
      assert.equal(ok(parseFrame('null', bytes([fam, 0, 0, 0, ...ip6]))).family, 6);
      assert.equal(ok(parseFrame('null', bytes([0, 0, 0, fam, ...ip6]))).family, 6);
    }
    assert.equal(reason(parseFrame('null', bytes([7, 0, 0, 0, ...ip4]))), 'link-unsupported');
  });

  it('with localMac: drops a frame addressed to another MAC, parses one addressed to ours', () => {
    const ip = ipv4Packet(tcpSegment({ sport: 1, dport: 80 }));
    const local = bytes(MAC_LOCAL);
    assert.equal(
      reason(parseFrame('ethernet', bytes(ethernet(ETH_IPV4, ip, { dst: MAC_PEER })), undefined, local)),
      'link-not-for-us',
    );
    const broadcast = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    assert.equal(
      reason(parseFrame('ethernet', bytes(ethernet(ETH_IPV4, ip, { dst: broadcast })), undefined, local)),
      'link-not-for-us',
    );
    // Last byte differs only.
    const almost = [...MAC_LOCAL.slice(0, 5), 0x03];
    assert.equal(
      reason(parseFrame('ethernet', bytes(ethernet(ETH_IPV4, ip, { dst: almost })), undefined, local)),
      'link-not-for-us',
    );
    assert.equal(
      ok(parseFrame('ethernet', bytes(ethernet(ETH_IPV4, ip, { dst: MAC_LOCAL })), undefined, local)).dport,
      80,
    );
    // Without localMac the MAC is not looked at.
    assert.equal(ok(parseFrame('ethernet', bytes(ethernet(ETH_IPV4, ip, { dst: MAC_PEER })))).dport, 80);
  });

  it('accepts Ethernet padding after a short IPv4 packet and does not count it as payload', () => {
    const ip = ipv4Packet(tcpSegment({ sport: 1, dport: 80 })); // 40 bytes: frame of 54 is padded to 60
    const frame = [...ethernet(ETH_IPV4, ip), 0, 0, 0, 0, 0, 0];
    assert.equal(frame.length, 60);
    const p = ok(parseFrame('ethernet', bytes(frame)));
    assert.equal(p.payload.length, 0);
    const udpIp = ipv4Packet(udpDatagram(1, 53, [7]), { proto: PROTO_UDP }); // 29 bytes
    const q = ok(parseFrame('ethernet', bytes([...ethernet(ETH_IPV4, udpIp), ...new Array<number>(17).fill(0xee)])));
    assert.deepEqual([...q.payload], [7]);
  });

  it('honours the length argument as the captured length', () => {
    const frame = ethernet(ETH_IPV4, ipv4Packet(tcpSegment({ sport: 1, dport: 80, payload: [1, 2, 3, 4] })));
    const buf = bytes([...frame, ...new Array<number>(100).fill(0x55)]); // a reused, larger buffer
    assert.deepEqual([...ok(parseFrame('ethernet', buf, frame.length)).payload], [1, 2, 3, 4]);
    assert.equal(reason(parseFrame('ethernet', buf, frame.length - 1)), 'frame-truncated');
    // A length larger than the buffer is clamped to the buffer.
    assert.equal(ok(parseFrame('ethernet', bytes(frame), frame.length + 1000)).dport, 80);
  });

  it('returns the payload as a view into the captured buffer', () => {
    const frame = bytes(ethernet(ETH_IPV4, ipv4Packet(tcpSegment({ sport: 1, dport: 80, payload: [5, 6] }))));
    const p = ok(parseFrame('ethernet', frame));
    assert.equal(p.payload.buffer, frame.buffer);
    frame[frame.length - 1] = 0x77;
    assert.equal(p.payload[1], 0x77);
  });
});

describe('parseFrame: drop reasons', () => {
  const valid: [string, LinkType, number[]][] = [
    [
      'Ethernet IPv4 TCP',
      'ethernet',
      ethernet(ETH_IPV4, ipv4Packet(tcpSegment({ sport: 1, dport: 2, payload: [1, 2, 3] }))),
    ],
    [
      'Ethernet IPv4 TCP with IP and TCP options',
      'ethernet',
      ethernet(ETH_IPV4, ipv4Packet(tcpSegment({ sport: 1, dport: 2, dataOffsetWords: 8 }), { ihl: 7 })),
    ],
    [
      'Ethernet QinQ IPv4 UDP',
      'ethernet',
      ethernet(ETH_IPV4, ipv4Packet(udpDatagram(1, 2, [1]), { proto: PROTO_UDP }), { vlanTpids: [ETH_QINQ, ETH_VLAN] }),
    ],
    ['Ethernet IPv6 UDP', 'ethernet', ethernet(ETH_IPV6, ipv6Packet(udpDatagram(1, 2, [1, 2]), { next: PROTO_UDP }))],
    [
      'Ethernet IPv6 hop-by-hop TCP',
      'ethernet',
      ethernet(
        ETH_IPV6,
        ipv6Packet([...ipv6ExtHeader(PROTO_TCP, 1), ...tcpSegment({ sport: 1, dport: 2 })], { next: 0 }),
      ),
    ],
    ['linux-sll IPv4 TCP', 'linux-sll', sll(0, ETH_IPV4, ipv4Packet(tcpSegment({ sport: 1, dport: 2 })))],
    ['linux-sll2 IPv6 TCP', 'linux-sll2', sll2(0, ETH_IPV6, ipv6Packet(tcpSegment({ sport: 1, dport: 2 })))],
    ['raw IPv4 UDP', 'raw', ipv4Packet(udpDatagram(1, 2), { proto: PROTO_UDP })],
    ['null IPv6 TCP', 'null', [30, 0, 0, 0, ...ipv6Packet(tcpSegment({ sport: 1, dport: 2 }))]],
  ];

  for (const [name, link, frame] of valid) {
    it(`${name}: every truncation (by slicing and by length) is frame-truncated, the full frame parses`, () => {
      assert.equal(ok(parseFrame(link, bytes(frame))).dport, 2);
      const full = bytes(frame);
      for (let len = 0; len < frame.length; len++) {
        assert.equal(
          reason(parseFrame(link, full.slice(0, len))),
          'frame-truncated',
          `sliced to ${len} of ${frame.length}`,
        );
        assert.equal(reason(parseFrame(link, full, len)), 'frame-truncated', `length ${len} of ${frame.length}`);
      }
    });
  }

  it('drops IPv4 fragments (MF set, or a non-zero offset) as ip-fragment, but not DF-only packets', () => {
    const tcp = tcpSegment({ sport: 1, dport: 2 });
    assert.equal(reason(parseFrame('raw', bytes(ipv4Packet(tcp, { frag: 0x2000 })))), 'ip-fragment');
    assert.equal(reason(parseFrame('raw', bytes(ipv4Packet(tcp, { frag: 0x0001 })))), 'ip-fragment');
    assert.equal(reason(parseFrame('raw', bytes(ipv4Packet(tcp, { frag: 0x1fff })))), 'ip-fragment');
    assert.equal(reason(parseFrame('raw', bytes(ipv4Packet(tcp, { frag: 0x6000 })))), 'ip-fragment');
    assert.equal(ok(parseFrame('raw', bytes(ipv4Packet(tcp, { frag: 0x4000 })))).dport, 2);
  });

  it('drops an IPv6 packet with a fragment header as ip-fragment, also behind another extension header', () => {
    const fragHeader = [PROTO_TCP, 0, 0, 0, 0, 0, 0, 1];
    const tcp = tcpSegment({ sport: 1, dport: 2 });
    assert.equal(reason(parseFrame('raw', bytes(ipv6Packet([...fragHeader, ...tcp], { next: 44 })))), 'ip-fragment');
    assert.equal(
      reason(parseFrame('raw', bytes(ipv6Packet([...ipv6ExtHeader(44, 0), ...fragHeader, ...tcp], { next: 0 })))),
      'ip-fragment',
    );
  });

  it('drops IPv4 with IHL < 5 or a total length below the header length as ip-header-invalid', () => {
    const tcp = tcpSegment({ sport: 1, dport: 2 });
    for (const ihl of [0, 1, 4]) {
      assert.equal(reason(parseFrame('raw', bytes(ipv4Packet(tcp, { ihl })))), 'ip-header-invalid', `ihl ${ihl}`);
    }
    assert.equal(reason(parseFrame('raw', bytes(ipv4Packet(tcp, { totalLength: 19 })))), 'ip-header-invalid');
    assert.equal(reason(parseFrame('raw', bytes(ipv4Packet(tcp, { ihl: 6, totalLength: 23 })))), 'ip-header-invalid');
  });

  it('drops an IPv6 packet with payload length 0 (jumbogram) as ip-header-invalid', () => {
    assert.equal(
      reason(parseFrame('raw', bytes(ipv6Packet(tcpSegment({ sport: 1, dport: 2 }), { payloadLength: 0 })))),
      'ip-header-invalid',
    );
  });

  it('drops an IP version that disagrees with the ethertype as ip-version-mismatch', () => {
    const v6 = ipv6Packet(tcpSegment({ sport: 1, dport: 2 }));
    const v4 = ipv4Packet(tcpSegment({ sport: 1, dport: 2 }));
    assert.equal(reason(parseFrame('ethernet', bytes(ethernet(ETH_IPV4, v6)))), 'ip-version-mismatch');
    assert.equal(
      reason(parseFrame('ethernet', bytes(ethernet(ETH_IPV6, [...v4, ...new Array<number>(20).fill(0)])))),
      'ip-version-mismatch',
    );
  });

  it('drops TCP with data offset < 5, or past the packet end, as transport-header-invalid', () => {
    for (const words of [0, 1, 4]) {
      assert.equal(
        reason(parseFrame('raw', bytes(ipv4Packet(tcpSegment({ sport: 1, dport: 2, dataOffsetWords: words }))))),
        'transport-header-invalid',
        `offset ${words}`,
      );
    }
    // Data offset 6 (24 bytes) in a 20-byte segment.
    const seg = tcpSegment({ sport: 1, dport: 2 });
    seg[12] = 6 << 4;
    assert.equal(reason(parseFrame('raw', bytes(ipv4Packet(seg)))), 'transport-header-invalid');
  });

  it('drops UDP with length < 8, or past the packet end, as transport-header-invalid', () => {
    for (const len of [0, 1, 7]) {
      assert.equal(
        reason(parseFrame('raw', bytes(ipv4Packet(udpDatagram(1, 2, [1, 2], len), { proto: PROTO_UDP })))),
        'transport-header-invalid',
        `udp length ${len}`,
      );
    }
    assert.equal(
      reason(parseFrame('raw', bytes(ipv4Packet(udpDatagram(1, 2, [1, 2], 11), { proto: PROTO_UDP })))),
      'transport-header-invalid',
    );
    // A UDP length shorter than the IP payload is fine: the payload ends where UDP says.
    assert.deepEqual(
      [...ok(parseFrame('raw', bytes(ipv4Packet(udpDatagram(1, 2, [1, 2], 9), { proto: PROTO_UDP })))).payload],
      [1],
    );
  });

  it('drops ICMP and ICMPv6 as transport-unsupported', () => {
    const icmp = [8, 0, 0, 0, 0, 1, 0, 1];
    assert.equal(
      reason(parseFrame('ethernet', bytes(ethernet(ETH_IPV4, ipv4Packet(icmp, { proto: PROTO_ICMP }))))),
      'transport-unsupported',
    );
    assert.equal(
      reason(parseFrame('ethernet', bytes(ethernet(ETH_IPV6, ipv6Packet(icmp, { next: 58 }))))),
      'transport-unsupported',
    );
  });
});

describe('formatIPv4 / formatIPv6', () => {
  it('formats IPv4 at an offset', () => {
    assert.equal(formatIPv4(bytes([9, 0, 255, 10, 0, 1]), 2), '255.10.0.1');
  });

  it('follows RFC 5952 on fixed examples', () => {
    const cases: [number[], string][] = [
      [[0, 0, 0, 0, 0, 0, 0, 0], '::'],
      [[0, 0, 0, 0, 0, 0, 0, 1], '::1'],
      [[1, 0, 0, 0, 0, 0, 0, 0], '1::'],
      [[0x2001, 0xdb8, 0, 0, 0, 0, 2, 1], '2001:db8::2:1'],
      [[0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], '2001:db8:0:1:1:1:1:1'], // a single zero group is not shortened
      [[0x2001, 0, 0, 1, 0, 0, 0, 1], '2001:0:0:1::1'], // the longest run wins
      [[0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], '2001:db8::1:0:0:1'], // first run on a tie
      [[0xabcd, 0xef01, 0, 0, 0, 0, 0, 0xffff], 'abcd:ef01::ffff'], // lower case
      [[0, 0, 0, 0, 0, 0xfffe, 0xc000, 0x0201], '::fffe:c000:201'],
      [[0, 0, 0, 0, 1, 0xffff, 0xc000, 0x0201], '::1:ffff:c000:201'],
      [[0, 0, 0, 0, 0, 0, 0xc000, 0x0201], '::c000:201'], // IPv4-compatible: no dotted quad
    ];
    for (const [groups, text] of cases) {
      const b = bytes(groups.flatMap((g) => u16(g)));
      assert.equal(formatIPv6(b, 0), text, text);
    }
  });

  it('writes IPv4-mapped addresses as ::ffff:a.b.c.d', () => {
    const mapped = (a: number, b: number, c: number, d: number): Uint8Array =>
      bytes([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d]);
    assert.equal(formatIPv6(mapped(192, 0, 2, 1), 0), '::ffff:192.0.2.1');
    assert.equal(formatIPv6(mapped(0, 0, 0, 0), 0), '::ffff:0.0.0.0');
    assert.equal(formatIPv6(mapped(255, 255, 255, 255), 0), '::ffff:255.255.255.255');
    assert.equal(formatIPv6(bytes([7, 7, ...mapped(10, 1, 2, 3)]), 2), '::ffff:10.1.2.3');
  });

  it('an IPv4-mapped source in a packet is reported in the ::ffff: form', () => {
    const src = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 9];
    const p = ok(parseFrame('raw', bytes(ipv6Packet(tcpSegment({ sport: 1, dport: 2 }), { src }))));
    assert.equal(p.src, '::ffff:203.0.113.9');
  });

  const group = fc.oneof(
    { arbitrary: fc.constant(0), weight: 3 },
    { arbitrary: fc.integer({ min: 0, max: 0xffff }), weight: 2 },
  );
  const zeroRichAddress = fc.array(group, { minLength: 8, maxLength: 8 }).map((g) => bytes(g.flatMap((x) => u16(x))));
  const anyAddress = fc.oneof(zeroRichAddress, fc.uint8Array({ minLength: 16, maxLength: 16 }));

  it("property: formatIPv6 equals the URL serializer's form of the same address, for non-mapped addresses", () => {
    fc.assert(
      fc.property(anyAddress, fc.nat({ max: 8 }), (addr, pad) => {
        fc.pre(!isV4Mapped(addr));
        const buf = new Uint8Array(pad + 16);
        buf.set(addr, pad);
        assert.equal(formatIPv6(buf, pad), urlCanonical(uncompressed(addr)));
      }),
      { numRuns: 3000 },
    );
  });

  it('property: formatIPv6 output parses back to the same 16 bytes (mapped or not)', () => {
    fc.assert(
      fc.property(anyAddress, fc.boolean(), (addr, mapped) => {
        if (mapped) {
          addr.fill(0, 0, 10);
          addr[10] = 0xff;
          addr[11] = 0xff;
        }
        const text = formatIPv6(addr, 0);
        if (isV4Mapped(addr)) {
          assert.equal(text, `::ffff:${addr[12]}.${addr[13]}.${addr[14]}.${addr[15]}`);
        } else {
          assert.deepEqual(v6Bytes(text), [...addr]);
          assert.match(text, /^[0-9a-f:]+$/);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("property: for fc.ipV6() strings, formatIPv6 of the address bytes equals the URL serializer's form", () => {
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        const canonical = urlCanonical(text);
        const b = v6Bytes(canonical);
        fc.pre(!isV4Mapped(b));
        assert.equal(formatIPv6(bytes(b), 0), canonical);
      }),
      { numRuns: 2000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Properties of parseFrame

const ipv4Addr = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 });
const ipv6Addr = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => [...a]),
  zeroRich(),
);
function zeroRich(): fc.Arbitrary<number[]> {
  const g = fc.oneof(
    { arbitrary: fc.constant(0), weight: 3 },
    { arbitrary: fc.integer({ min: 0, max: 0xffff }), weight: 2 },
  );
  return fc.array(g, { minLength: 8, maxLength: 8 }).map((gs) => gs.flatMap((x) => u16(x)));
}
const port = fc.integer({ min: 0, max: 0xffff });
const payloadArb = fc.uint8Array({ maxLength: 64, size: 'medium' }).map((a) => [...a]);

/** Expected IPv6 text, computed without formatIPv6. */
function expectedV6(b: readonly number[]): string {
  return isV4Mapped(b) ? `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}` : urlCanonical(uncompressed(b));
}

const tcp4Case = fc.record({
  link: fc.constantFrom<LinkType>(...LINK_TYPES),
  src: ipv4Addr,
  dst: ipv4Addr,
  sport: port,
  dport: port,
  seq: fc.integer({ min: 0, max: 0xffffffff }),
  flags: fc.integer({ min: 0, max: 255 }),
  payload: payloadArb,
  ihl: fc.integer({ min: 5, max: 15 }),
  dataOffset: fc.integer({ min: 5, max: 15 }),
  ethPad: fc.nat({ max: 20 }),
});

function buildTcp4(c: typeof tcp4Case extends fc.Arbitrary<infer T> ? T : never): {
  frame: number[];
  headerEnd: number;
} {
  const tcp = tcpSegment({
    sport: c.sport,
    dport: c.dport,
    seq: c.seq,
    flags: c.flags,
    payload: c.payload,
    dataOffsetWords: c.dataOffset,
  });
  const ip = ipv4Packet(tcp, { src: c.src, dst: c.dst, ihl: c.ihl });
  const frame = frameFor(c.link, ETH_IPV4, ip);
  const headerEnd = frame.length - c.payload.length;
  // Link padding after the IP packet is only meaningful on Ethernet, but harmless on every link.
  return { frame: [...frame, ...new Array<number>(c.ethPad).fill(0)], headerEnd };
}

const udp6Case = fc.record({
  link: fc.constantFrom<LinkType>(...LINK_TYPES),
  src: ipv6Addr,
  dst: ipv6Addr,
  sport: port,
  dport: port,
  payload: payloadArb,
  ext: fc.array(fc.record({ type: fc.constantFrom(0, 43, 60), len: fc.nat({ max: 3 }) }), { maxLength: 3 }),
});

function buildUdp6(c: typeof udp6Case extends fc.Arbitrary<infer T> ? T : never): number[] {
  const udp = udpDatagram(c.sport, c.dport, c.payload);
  const exts: number[] = [];
  c.ext.forEach((e, i) => {
    exts.push(...ipv6ExtHeader(i + 1 < c.ext.length ? (c.ext[i + 1] as { type: number }).type : PROTO_UDP, e.len));
  });
  const first = c.ext.length > 0 ? (c.ext[0] as { type: number }).type : PROTO_UDP;
  return frameFor(c.link, ETH_IPV6, ipv6Packet([...exts, ...udp], { src: c.src, dst: c.dst, next: first }));
}

function assertKnown(r: FrameResult, input: Uint8Array): void {
  if (r.ok) {
    // The payload is a view inside the input.
    assert.equal(r.packet.payload.buffer, input.buffer);
    assert.ok(r.packet.payload.byteOffset + r.packet.payload.length <= input.byteOffset + input.length);
    assert.ok(r.packet.family === 4 || r.packet.family === 6);
    assert.ok(r.packet.proto === 'tcp' || r.packet.proto === 'udp');
  } else {
    assert.ok(KNOWN_REASONS.includes(r.reason), `unknown reason ${r.reason}`);
  }
}

describe('parseFrame properties', () => {
  it('property: parseFrame never throws and returns ok or a known reason for any byte string and any link type', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200, size: 'max' }),
        fc.constantFrom<LinkType>(...LINK_TYPES),
        fc.option(fc.nat({ max: 250 })),
        fc.option(fc.uint8Array({ minLength: 0, maxLength: 8 })),
        (b, link, length, mac) => {
          const r = parseFrame(link, b, length ?? undefined, mac ?? undefined);
          assertKnown(r, b);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('property: a valid TCP/IPv4 frame built from arbitrary header fields round-trips', () => {
    fc.assert(
      fc.property(tcp4Case, (c) => {
        const { frame } = buildTcp4(c);
        const p = ok(parseFrame(c.link, bytes(frame)));
        assert.deepEqual(
          { ...p, payload: [...p.payload] },
          {
            family: 4,
            src: c.src.join('.'),
            dst: c.dst.join('.'),
            proto: 'tcp',
            sport: c.sport,
            dport: c.dport,
            tcpFlags: c.flags,
            tcpSeq: c.seq,
            payload: c.payload,
          },
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('property: a valid UDP/IPv6 frame (with 0-3 extension headers) built from arbitrary fields round-trips', () => {
    fc.assert(
      fc.property(udp6Case, (c) => {
        const p = ok(parseFrame(c.link, bytes(buildUdp6(c))));
        assert.deepEqual(
          { ...p, payload: [...p.payload] },
          {
            family: 6,
            src: expectedV6(c.src),
            dst: expectedV6(c.dst),
            proto: 'udp',
            sport: c.sport,
            dport: c.dport,
            tcpFlags: 0,
            tcpSeq: 0,
            payload: c.payload,
          },
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('property: flipping any byte of a valid frame never throws, and a flip inside the payload changes only the payload', () => {
    fc.assert(
      fc.property(tcp4Case, fc.nat(), fc.integer({ min: 1, max: 255 }), (c, where, xor) => {
        const { frame, headerEnd } = buildTcp4(c);
        const i = where % frame.length;
        const mutated = bytes(frame);
        mutated[i] = (mutated[i] as number) ^ xor;
        const r = parseFrame(c.link, mutated);
        assertKnown(r, mutated);
        if (i >= headerEnd && i < headerEnd + c.payload.length) {
          const p = ok(r);
          assert.equal(p.sport, c.sport);
          assert.equal(p.dport, c.dport);
          assert.equal(p.tcpSeq, c.seq);
          assert.equal(p.payload[i - headerEnd], mutated[i]);
        }
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(udp6Case, fc.nat(), fc.integer({ min: 1, max: 255 }), (c, where, xor) => {
        const frame = buildUdp6(c);
        const i = where % frame.length;
        const mutated = bytes(frame);
        mutated[i] = (mutated[i] as number) ^ xor;
        assertKnown(parseFrame(c.link, mutated), mutated);
      }),
      { numRuns: 3000 },
    );
  });
});
