/**
 * The benchmark's sender (bench/flood.c) builds well-formed IPv6 frames, and the benchmark's spoofed
 * sources stay inside the ranges this project may use.
 *
 * Two looks at the same frames: (1) a dry run (--write) whose frames are parsed and checked here,
 * with a checksum computed independently of flood.c; (2) the same modes sent for real on a veth in
 * a fresh testbed, where the server kernel must deliver every UDP datagram to a socket (with a
 * source inside the --spoof prefix) and count every SYN without a checksum error; a frame whose
 * checksum is corrupted on purpose is refused there, which shows the kernel checks on this path.
 * Bounded: a few hundred packets at 2,000/s; well under 10 s.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { floodBinary, macOf, startFlood } from '../../bench/flood.js';
import { writeFramesFile } from '../../bench/frames.js';
import { BURST_SOURCES, JUNK_SOURCES, STORM_SOURCES, SUSTAINED_SOURCES, burstSource } from '../../bench/sources.js';
import { createTestbed, type Testbed } from '../support/netns.js';

const V6_MODES = ['syn', 'udp-random', 'udp-native', 'udp-fwknop'] as const;
const PREFIX6 = STORM_SOURCES; // 2001:db8:ffff::/48
const DST6 = '2001:db8:1:7f::1';
const MACS = ['02:00:5e:00:00:01', '02:00:5e:00:00:02'] as const;
const PORTS = [40_001, 40_002];

// ------------------------------------------------------------------ address helpers (independent of flood.c)

function v4ToInt(a: string): number {
  const p = a.split('.').map(Number);
  assert.equal(p.length, 4, a);
  return (((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!) >>> 0;
}
function inV4(a: string, cidr: string): boolean {
  const [base, len] = cidr.split('/') as [string, string];
  const l = Number(len);
  const mask = l === 0 ? 0 : (0xffffffff << (32 - l)) >>> 0;
  return (v4ToInt(a) & mask) >>> 0 === (v4ToInt(base) & mask) >>> 0;
}
function v6Bytes(a: string): Buffer {
  const [head, tail] = a.includes('::') ? (a.split('::') as [string, string]) : [a, null];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === null ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  assert.equal(groups.length, 8, a);
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => {
    b.writeUInt16BE(parseInt(g, 16), 2 * i);
  });
  return b;
}
function inV6(b: Buffer, cidr: string): boolean {
  const [base, len] = cidr.split('/') as [string, string];
  const bb = v6Bytes(base);
  let bits = Number(len);
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const m = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((b[i]! & m) !== (bb[i]! & m)) return false;
  }
  return true;
}

/** Ones-complement sum of 16-bit words; returns the folded sum (0xffff when a checksum verifies). */
function onesSum(parts: Buffer[]): number {
  let s = 0;
  for (const p of parts) {
    for (let i = 0; i + 1 < p.length; i += 2) s += p.readUInt16BE(i);
    if (p.length % 2) s += p[p.length - 1]! << 8;
  }
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

function readRecords(file: string): Buffer[] {
  const d = readFileSync(file);
  const out: Buffer[] = [];
  for (let p = 0; p < d.length; ) {
    const l = d.readUInt16BE(p);
    out.push(d.subarray(p + 2, p + 2 + l));
    p += 2 + l;
  }
  return out;
}

interface Parsed {
  src: Buffer;
  dst: Buffer;
  proto: number;
  dport: number;
  payloadLen: number;
  csumOk: boolean;
  tcpFlags: number | null;
}

/** Checks an IPv6 frame's structure and returns what it carries; throws (assert) on anything malformed. */
function parseV6(f: Buffer): Parsed {
  assert.equal(f.subarray(0, 6).toString('hex'), MACS[1].replace(/:/g, ''), 'destination MAC');
  assert.equal(f.subarray(6, 12).toString('hex'), MACS[0].replace(/:/g, ''), 'source MAC');
  assert.equal(f.readUInt16BE(12), 0x86dd, 'Ethertype');
  const ip = f.subarray(14);
  assert.equal(ip[0]! >> 4, 6, 'IP version');
  const plen = ip.readUInt16BE(4);
  assert.equal(plen, f.length - 54, 'IPv6 payload length = frame − 14 − 40 (no padding)');
  const proto = ip[6]!;
  assert.ok(proto === 6 || proto === 17, `next header ${proto}`);
  assert.equal(ip[7], 64, 'hop limit');
  const src = Buffer.from(ip.subarray(8, 24));
  const dst = Buffer.from(ip.subarray(24, 40));
  const l4 = ip.subarray(40, 40 + plen);
  const pseudo = Buffer.alloc(40);
  src.copy(pseudo, 0);
  dst.copy(pseudo, 16);
  pseudo.writeUInt32BE(plen, 32);
  pseudo[39] = proto;
  const csumOk = onesSum([pseudo, l4]) === 0xffff;
  let tcpFlags: number | null = null;
  let payloadLen = 0;
  if (proto === 6) {
    assert.equal(plen, 24, 'SYN with one MSS option');
    assert.equal(l4[12]! >> 4, 6, 'TCP data offset');
    tcpFlags = l4[13]!;
  } else {
    assert.equal(l4.readUInt16BE(4), plen, 'UDP length');
    assert.notEqual(l4.readUInt16BE(6), 0, 'UDP checksum present (mandatory over IPv6)');
    payloadLen = plen - 8;
  }
  return { src, dst, proto, dport: l4.readUInt16BE(2), payloadLen, csumOk, tcpFlags };
}

function dryRun(dir: string, args: string[]): Buffer[] {
  const file = join(dir, `dry-${Math.random().toString(36).slice(2)}.frames`);
  const r = spawnSync(floodBinary(), [...args, '--write', file], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout.trim()) as { sent: number };
  const frames = readRecords(file);
  assert.equal(frames.length, summary.sent);
  return frames;
}

const common = [
  '--src-mac',
  MACS[0],
  '--dst-mac',
  MACS[1],
  '--ports',
  PORTS.join(','),
  '--rate',
  '1000000',
  '--seconds',
  '5',
  '--seed',
  '42',
];

describe('bench/flood.c IPv6 frames (dry run, checked here)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kg-flood-v6-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const mode of V6_MODES) {
    it(`${mode}: Ethertype 0x86DD, lengths, source in ${PREFIX6}, correct checksum over the IPv6 pseudo-header`, () => {
      const frames = dryRun(dir, ['--mode', mode, '--dst', DST6, '--spoof', PREFIX6, '--count', '500', ...common]);
      assert.equal(frames.length, 500);
      const sources = new Set<string>();
      for (const f of frames) {
        const p = parseV6(f);
        assert.ok(p.csumOk, `${mode}: bad checksum in ${f.toString('hex')}`);
        assert.ok(inV6(p.src, PREFIX6), `source ${p.src.toString('hex')} outside ${PREFIX6}`);
        assert.ok(p.dst.equals(v6Bytes(DST6)), 'destination');
        assert.ok(PORTS.includes(p.dport), `port ${p.dport}`);
        assert.equal(p.proto, mode === 'syn' ? 6 : 17);
        if (mode === 'syn') assert.equal(p.tcpFlags, 0x02, 'SYN only');
        if (mode === 'udp-random') assert.ok(p.payloadLen >= 16 && p.payloadLen <= 512);
        if (mode === 'udp-native') assert.ok(p.payloadLen >= 145 && p.payloadLen <= 512);
        if (mode === 'udp-fwknop') assert.ok(p.payloadLen >= 140 && p.payloadLen <= 399);
        sources.add(p.src.toString('hex'));
      }
      assert.equal(sources.size, 500, 'every source distinct (2^80 to draw from)');
    });
  }

  it('IPv4 still: junk sources inside JUNK_SOURCES, valid header checksum', () => {
    const frames = dryRun(dir, [
      '--mode',
      'syn',
      '--dst',
      '198.18.127.1',
      '--spoof',
      JUNK_SOURCES,
      '--count',
      '200',
      ...common,
    ]);
    for (const f of frames) {
      assert.equal(f.readUInt16BE(12), 0x0800);
      const ip = f.subarray(14, 34);
      assert.equal(onesSum([ip]), 0xffff, 'IPv4 header checksum');
      const src = `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
      assert.ok(inV4(src, JUNK_SOURCES), src);
    }
  });

  it('refuses a --spoof prefix of the other family than --dst (exit 64, nothing written)', () => {
    const file = join(dir, 'mixed.frames');
    const r = spawnSync(
      floodBinary(),
      ['--mode', 'syn', '--dst', '198.18.127.1', '--spoof', PREFIX6, '--count', '1', ...common, '--write', file],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 64);
    assert.match(r.stderr, /same address family/);
    assert.throws(() => readFileSync(file));
  });
});

describe("the benchmark's spoofed sources", () => {
  const testbedV4 = (a: string): boolean => {
    const [w, x, y] = a.split('.').map(Number) as [number, number, number];
    return w === 198 && (x === 18 || x === 19) && y < 128;
  };
  it('lie in 198.18.0.0/15 or 2001:db8::/32, outside every testbed, pairwise disjoint', () => {
    assert.ok(inV4(JUNK_SOURCES.split('/')[0]!, '198.18.0.0/15') && Number(JUNK_SOURCES.split('/')[1]) >= 15);
    // A /17 starting at .128.0 of 198.18 or 198.19 is exactly the half testbeds never use.
    assert.match(JUNK_SOURCES, /^198\.1[89]\.128\.0\/17$/);
    assert.ok(
      inV6(v6Bytes(STORM_SOURCES.split('/')[0]!), '2001:db8::/32') && Number(STORM_SOURCES.split('/')[1]) >= 32,
    );
    for (const testbedNet of ['2001:db8:1::/48', '2001:db8:2::/48'])
      assert.ok(!inV6(v6Bytes(STORM_SOURCES.split('/')[0]!), testbedNet));
    const seen = new Set<string>();
    for (const range of [BURST_SOURCES, SUSTAINED_SOURCES]) {
      for (let i = 0; i < range.size; i++) {
        const a = burstSource(range, i);
        assert.ok(inV4(a, range.cidr) && inV4(a, '198.18.0.0/15') && !testbedV4(a), a);
        assert.ok(!inV4(a, JUNK_SOURCES), `${a} is also a junk source`);
        assert.ok(!seen.has(a), `${a} twice`);
        seen.add(a);
      }
      assert.throws(() => burstSource(range, range.size), RangeError);
    }
    assert.ok(
      BURST_SOURCES.size >= 1000 && SUSTAINED_SOURCES.size >= 5000,
      'room for the default burst and sustained counts',
    );
  });
});

describe('bench/flood.c IPv6 frames on a real veth', () => {
  let tb: Testbed;
  let dir: string;
  const snmp = (file: string): Map<string, number> => {
    const m = new Map<string, number>();
    const text = tb.run(tb.server.ns, ['cat', file]);
    if (file.endsWith('snmp6')) {
      for (const line of text.split('\n')) {
        const [k, v] = line.trim().split(/\s+/);
        if (k && v) m.set(k, Number(v));
      }
    } else {
      const lines = text.split('\n');
      for (let i = 0; i + 1 < lines.length; i += 2) {
        const ks = lines[i]!.split(/\s+/);
        const vs = lines[i + 1]!.split(/\s+/);
        const pre = ks[0]!.replace(':', '');
        ks.slice(1).forEach((k, j) => {
          m.set(`${pre}${k}`, Number(vs[j + 1]));
        });
      }
    }
    return m;
  };
  const receiver = (
    count: number,
    lifeMs = 6000,
  ): { ready: Promise<void>; result: Promise<{ n: number; sources: string[] }> } => {
    const script = join(dir, `recv-${count}-${lifeMs}.mjs`);
    writeFileSync(
      script,
      `
      import { createSocket } from 'node:dgram';
      const want = ${count}; let n = 0; const sources = new Set(); let left = ${PORTS.length};
      const done = () => { process.stdout.write(JSON.stringify({ n, sources: [...sources] }) + '\\n'); process.exit(0); };
      setTimeout(done, ${lifeMs});
      for (const p of ${JSON.stringify(PORTS)}) {
        const s = createSocket({ type: 'udp6', ipv6Only: true, recvBufferSize: 4 << 20 });
        s.on('message', (_m, r) => { n++; sources.add(r.address); if (n >= want) setTimeout(done, 200); });
        s.bind(p, '::', () => { if (--left === 0) process.stdout.write('ready\\n'); });
      }
    `,
    );
    const child = tb.start(tb.server.ns, [process.execPath, script]);
    let out = '';
    let onReady: () => void = () => {};
    const ready = new Promise<void>((r) => (onReady = r));
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('ready\n')) onReady();
    });
    const result = new Promise<{ n: number; sources: string[] }>((resolve, reject) => {
      child.on('close', () => {
        try {
          resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as { n: number; sources: string[] });
        } catch {
          reject(new Error(`receiver: ${out}`));
        }
      });
    });
    return { ready, result };
  };

  before(() => {
    tb = createTestbed();
    dir = mkdtempSync(join(tmpdir(), 'kg-flood-v6-net-'));
  });
  after(() => {
    tb?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const wire = () => ({
    ifname: tb.client.ifname,
    srcMac: macOf(tb, tb.client.ns, tb.client.ifname),
    dstMac: macOf(tb, tb.server.ns, tb.server.clientSide.ifname),
    dst: tb.server.clientSide.v6,
  });

  it('udp-random over IPv6: every datagram delivered to a UDP socket, from a source in the prefix; a corrupted one is not', async () => {
    const N = 300;
    const rx = receiver(N);
    await rx.ready;
    const before = snmp('/proc/net/snmp6');
    const f = startFlood(tb, tb.client.ns, {
      ...wire(),
      mode: 'udp-random',
      spoof: PREFIX6,
      ports: PORTS,
      rate: 2000,
      count: N,
      seconds: 5,
      seed: 7,
    });
    const sum = await f.done;
    assert.equal(sum.sent, N);
    const got = await rx.result;
    assert.equal(got.n, N, `the server's UDP sockets received ${got.n} of ${N}`);
    assert.equal(got.sources.length, N, 'distinct sources');
    for (const a of got.sources) assert.ok(inV6(v6Bytes(a), PREFIX6), `source ${a}`);
    const afterGood = snmp('/proc/net/snmp6');
    assert.equal((afterGood.get('Udp6InCsumErrors') ?? 0) - (before.get('Udp6InCsumErrors') ?? 0), 0);

    // Negative control: one of those frames with its UDP checksum broken is refused by the kernel.
    const good = dryRun(dir, [
      '--mode',
      'udp-random',
      '--dst',
      tb.server.clientSide.v6,
      '--spoof',
      PREFIX6,
      '--count',
      '1',
      '--src-mac',
      wire().srcMac,
      '--dst-mac',
      wire().dstMac,
      '--ports',
      PORTS.join(','),
      '--rate',
      '1000',
      '--seconds',
      '5',
    ])[0]!;
    const bad = Buffer.from(good);
    bad[14 + 40 + 6]! ^= 0x5a;
    const file = join(dir, 'bad.frames');
    writeFramesFile(file, [bad]);
    const rx2 = receiver(1, 1000);
    await rx2.ready;
    await startFlood(tb, tb.client.ns, {
      ...wire(),
      mode: 'frames',
      framesFile: file,
      rate: 1000,
      count: 1,
      seconds: 5,
    }).done;
    await new Promise((r) => setTimeout(r, 300));
    const afterBad = snmp('/proc/net/snmp6');
    assert.equal(
      (afterBad.get('Udp6InCsumErrors') ?? 0) - (afterGood.get('Udp6InCsumErrors') ?? 0),
      1,
      'the corrupted datagram counted as a checksum error',
    );
    assert.equal((await rx2.result).n, 0, 'the corrupted datagram reached no socket');
  });

  it('syn over IPv6: every segment reaches TCP without a checksum error', async () => {
    const N = 300;
    const before = snmp('/proc/net/snmp');
    const f = startFlood(tb, tb.client.ns, {
      ...wire(),
      mode: 'syn',
      spoof: PREFIX6,
      ports: PORTS,
      rate: 2000,
      count: N,
      seconds: 5,
      seed: 9,
    });
    assert.equal((await f.done).sent, N);
    await new Promise((r) => setTimeout(r, 300));
    const afterS = snmp('/proc/net/snmp');
    const d = (k: string): number => (afterS.get(k) ?? 0) - (before.get(k) ?? 0);
    assert.equal(d('TcpInSegs'), N, 'segments received by TCP');
    assert.equal(d('TcpInCsumErrors'), 0);
    assert.equal(d('TcpInErrs'), 0);
  });
});
