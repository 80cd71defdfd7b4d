// Invariant: parseNflogRecord and parseLogLine (with parseKmsgRecord before it) never throw on any input; a drop names a reason from their closed lists; a packet has ports and flags in range, canonical addresses of one family, and (NFLOG) exactly what the header parser makes of the record's own payload TLV, (log line) an empty payload; cutting an NFLOG record's length is the same as cutting its buffer; a log line without `PREFIX IN=` is `other`, and a dmesg header before a line changes nothing.
/**
 * Fuzz targets for the firewall-log sensors' parsers: src/core/nflog-record.ts (binary, seeds: the
 * records in test/fixtures/sensors/nflog-records.json) and src/core/netfilter-log-line.ts with
 * src/core/kmsg-record.ts (text, seeds: the kernel's lines in test/fixtures/sensors/).
 */

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TransportPacket } from '../../src/core/packet.js';
import { parseFrame } from '../../src/core/packet.js';
import { parseKmsgRecord } from '../../src/core/kmsg-record.js';
import { MAX_KERNEL_LOG_LINE_BYTES } from '../../src/core/limits.js';
import { parseLogLine } from '../../src/core/netfilter-log-line.js';
import { parseNflogRecord } from '../../src/core/nflog-record.js';
import { FRAME_DROP_REASONS, SENSOR_DROP_REASONS, SENSOR_RECORD_DROP_REASONS } from '../../src/core/reasons.js';
import { fuzzIn, testTimeoutMs } from './harness.js';

const FIXTURES = ['../../../test/fixtures/sensors', '../fixtures/sensors']
  .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
  .find((dir) => existsSync(dir)) as string;
const enc = new TextEncoder();
const dec = new TextDecoder();
const NFLOG_SEEDS = Object.entries(
  JSON.parse(readFileSync(join(FIXTURES, 'nflog-records.json'), 'utf8')) as Record<string, string>,
)
  .filter(([k]) => !k.startsWith('_'))
  .map(([, h]) => new Uint8Array(Buffer.from(h, 'hex')));
const LINE_SEEDS = ['kernel-log-lines.txt', 'kmsg-records.txt'].flatMap((f) =>
  readFileSync(join(FIXTURES, f), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => enc.encode(l)),
);
const SENSOR_REASONS = new Set<string>(SENSOR_DROP_REASONS);
const LINE_REASONS = new Set<string>(SENSOR_RECORD_DROP_REASONS);
const PREFIXES = ['kgtest ', 'kgseq '];

function checkPacket(p: TransportPacket): void {
  assert.ok(p.family === 4 || p.family === 6);
  assert.equal(isIP(p.src), p.family, `src ${p.src}`);
  assert.equal(isIP(p.dst), p.family, `dst ${p.dst}`);
  if (p.family === 6) assert.equal(new URL(`http://[${p.src}]/`).hostname, `[${p.src}]`, 'src not canonical');
  assert.ok(p.proto === 'tcp' || p.proto === 'udp');
  for (const n of [p.sport, p.dport]) assert.ok(Number.isInteger(n) && n >= 0 && n <= 65_535);
  assert.ok(Number.isInteger(p.tcpFlags) && p.tcpFlags >= 0 && p.tcpFlags <= 255);
  assert.ok(Number.isInteger(p.tcpSeq) && p.tcpSeq >= 0 && p.tcpSeq <= 0xffff_ffff);
}

/** The payload TLV found independently of the parser (first type-9 TLV), or null. */
function payloadTlv(b: Uint8Array): Uint8Array | null {
  for (let at = 4; at + 4 <= b.length; ) {
    const len = (b[at] as number) | ((b[at + 1] as number) << 8);
    const type = ((b[at + 2] as number) | ((b[at + 3] as number) << 8)) & 0x3fff;
    if (len < 4 || at + len > b.length) return null;
    if (type === 9) return b.subarray(at + 4, at + len);
    at += (len + 3) & ~3;
  }
  return null;
}

function checkNflog(input: Uint8Array): string {
  const r = parseNflogRecord(input);
  if (!r.ok) {
    assert.ok(SENSOR_REASONS.has(r.reason), `unknown reason ${r.reason}`);
  } else {
    checkPacket(r.record.packet);
    const payload = payloadTlv(input);
    assert.ok(payload !== null, 'a packet without a payload TLV');
    const direct = parseFrame('raw', payload);
    assert.ok(direct.ok, 'the header parser refuses the payload the record parser accepted');
    assert.deepEqual(
      { ...direct.packet, payload: [...direct.packet.payload] },
      {
        ...r.record.packet,
        payload: [...r.record.packet.payload],
      },
    );
    assert.equal(r.record.packet.family, input[0] === 2 ? 4 : 6);
  }
  const cut = input.length >> 1;
  const a = parseNflogRecord(input, cut);
  const b = parseNflogRecord(input.slice(0, cut));
  assert.deepEqual(
    a.ok ? { ...a.record, packet: a.record.packet.src } : a,
    b.ok ? { ...b.record, packet: b.record.packet.src } : b,
  );
  return r.ok ? `ok:${r.record.packet.proto}${r.record.packet.family}` : r.reason;
}

function checkLine(input: Uint8Array): string {
  const text = dec.decode(input);
  const kmsg = parseKmsgRecord(text);
  const line = kmsg?.message ?? text;
  let outcome = kmsg === null ? 'line' : 'kmsg';
  for (const prefix of PREFIXES) {
    const r = parseLogLine(line, prefix);
    if (r.kind === 'dropped') assert.ok(LINE_REASONS.has(r.reason), `unknown reason ${r.reason}`);
    if (r.kind === 'packet') {
      checkPacket(r.packet);
      assert.equal(r.packet.payload.length, 0);
      assert.ok(!/\s/.test(r.inInterface) && r.inInterface.length <= 15);
    }
    if (!line.includes(`${prefix}IN=`)) assert.deepEqual(r, { kind: 'other' });
    const header = 'Dec  3 17:27:06 h kernel: [1.23] ';
    // What a kernel message says, a syslog line of it says too (the marker may only start the message).
    if (r.kind !== 'other' && line.length + header.length <= MAX_KERNEL_LOG_LINE_BYTES)
      assert.deepEqual(parseLogLine(header + line, prefix, 'syslog'), r, 'a syslog header changed the result');
    // Quoted inside another message, it is never a packet.
    if (line.length + 5 <= MAX_KERNEL_LOG_LINE_BYTES)
      assert.notEqual(parseLogLine(`say ${line}`, prefix).kind, 'packet');
    outcome += `:${r.kind === 'dropped' ? r.reason : r.kind === 'packet' ? `${r.packet.proto}${r.packet.family}` : 'other'}`;
  }
  return outcome;
}

describe('fuzz: firewall-log sensor parsers', () => {
  it('nflog-record', { timeout: testTimeoutMs() }, async (t) => {
    await fuzzIn(t, {
      name: 'nflog-record',
      kind: 'binary',
      maxBytes: 1_500,
      seeds: NFLOG_SEEDS,
      dictionary: ['\x09\x00', '\x0a\x00', '\x04\x00', '\x02\x00\x00\x07', '\x0a\x00\x00\x07', '\x45', '\x60'],
      budgetShare: 0.5,
      check: checkNflog,
    });
  });

  it('kernel-log-line', { timeout: testTimeoutMs() }, async (t) => {
    await fuzzIn(t, {
      name: 'kernel-log-line',
      kind: 'text',
      maxBytes: 4_096,
      seeds: LINE_SEEDS,
      dictionary: [
        ' IN=',
        ' SRC=',
        ' DST=',
        ' PROTO=TCP',
        ' PROTO=UDP',
        ' SPT=',
        ' DPT=',
        ' SEQ=',
        ' SYN',
        ' ACK',
        'kgtest ',
        ';',
        '\n',
      ],
      budgetShare: 0.5,
      check: checkLine,
    });
  });
});

// The header parser's reasons are part of the NFLOG sensor's list (its payload goes through it).
assert.ok(FRAME_DROP_REASONS.every((r) => SENSOR_REASONS.has(r)));
