/**
 * The firewall-log sensors' parsers on records and lines as this machine's kernel wrote them
 * (test/fixtures/sensors/: NFLOG records read through libpcap's nflog:7, LOG lines from dmesg and
 * /dev/kmsg, an IPv4 and an IPv6 SYN and UDP datagram each), and on the ways they go wrong.
 */

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { kmsgLost, parseKmsgRecord } from '../../src/core/kmsg-record.js';
import { MAX_KERNEL_LOG_LINE_BYTES, MAX_NFLOG_TLVS } from '../../src/core/limits.js';
import { parseLogLine } from '../../src/core/netfilter-log-line.js';
import { parseNflogRecord } from '../../src/core/nflog-record.js';

const FIXTURES = ['../../../test/fixtures/sensors', '../fixtures/sensors']
  .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
  .find((dir) => existsSync(dir)) as string;
const NFLOG = JSON.parse(readFileSync(join(FIXTURES, 'nflog-records.json'), 'utf8')) as Record<string, string>;
const LINES = readFileSync(join(FIXTURES, 'kernel-log-lines.txt'), 'utf8').split('\n').filter(Boolean);
const KMSG = readFileSync(join(FIXTURES, 'kmsg-records.txt'), 'utf8').split('\n').filter(Boolean);
const hex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

describe('NFLOG records (core/nflog-record.ts)', () => {
  it('reads the group, prefix, inbound interface and the IPv4 SYN inside', () => {
    const r = parseNflogRecord(hex(NFLOG.tcp4 as string));
    assert.ok(r.ok, JSON.stringify(r));
    const { group, prefix, inIfindex, packet } = r.record;
    assert.deepEqual({ group, prefix, inIfindex }, { group: 7, prefix: 'kgpfx', inIfindex: 2 });
    assert.equal(packet.family, 4);
    assert.equal(packet.src, '198.18.250.2');
    assert.equal(packet.dst, '198.18.250.1');
    assert.equal(packet.proto, 'tcp');
    assert.equal(packet.dport, 4444);
    assert.equal(packet.tcpFlags, 0x02);
    assert.equal(packet.tcpSeq, 0xb106abfb);
  });

  it('reads the IPv6 SYN, addresses in canonical text', () => {
    const r = parseNflogRecord(hex(NFLOG.tcp6 as string));
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.record.packet.family, 6);
    assert.equal(r.record.packet.src, '2001:db8:250::2');
    assert.equal(r.record.packet.dst, '2001:db8:250::1');
    assert.equal(r.record.packet.dport, 4444);
  });

  it('drops a record cut anywhere inside a TLV as truncated, and never throws', () => {
    const full = hex(NFLOG.tcp4 as string);
    for (let n = 0; n < full.length; n++) {
      const r = parseNflogRecord(full, n);
      assert.equal(r.ok, false, `cut at ${n}`);
    }
    assert.deepEqual(parseNflogRecord(full, 10), { ok: false, reason: 'nflog-truncated' });
  });

  it('drops a bad version, an unknown family, a zero-length TLV and a TLV flood as malformed', () => {
    const full = hex(NFLOG.tcp4 as string);
    const bad = (edit: (b: Uint8Array) => void): unknown => {
      const b = Uint8Array.from(full);
      edit(b);
      return parseNflogRecord(b);
    };
    assert.deepEqual(
      bad((b) => (b[1] = 1)),
      { ok: false, reason: 'nflog-malformed' },
    );
    assert.deepEqual(
      bad((b) => (b[0] = 7)),
      { ok: false, reason: 'nflog-malformed' },
    );
    assert.deepEqual(
      bad((b) => (b[4] = 0)),
      { ok: false, reason: 'nflog-malformed' },
    );
    const flood = new Uint8Array(4 + 4 * (MAX_NFLOG_TLVS + 1));
    flood.set([2, 0, 0, 7]);
    for (let at = 4; at < flood.length; at += 4) flood.set([4, 0, 1, 0], at);
    assert.deepEqual(parseNflogRecord(flood), { ok: false, reason: 'nflog-malformed' });
  });

  it('drops a record without a packet, and one whose family disagrees with its packet', () => {
    assert.deepEqual(parseNflogRecord(hex('020000070800010008000100')), { ok: false, reason: 'nflog-no-payload' });
    const v6as4 = hex(NFLOG.tcp6 as string);
    v6as4[0] = 2;
    assert.deepEqual(parseNflogRecord(v6as4), { ok: false, reason: 'ip-version-mismatch' });
  });
});

describe('netfilter LOG lines (core/netfilter-log-line.ts)', () => {
  it('reads the IPv4 and IPv6 SYNs and UDP datagrams the kernel printed', () => {
    const got = LINES.map((l) => parseLogLine(l, 'kgtest '));
    const brief = got.map((r) =>
      r.kind === 'packet'
        ? [
            r.inInterface,
            r.packet.family,
            r.packet.src,
            r.packet.dst,
            r.packet.proto,
            r.packet.dport,
            r.packet.tcpFlags,
          ]
        : r,
    );
    assert.deepEqual(brief, [
      ['kgxa', 4, '198.18.250.2', '198.18.250.1', 'tcp', 4445, 0x02],
      ['kgxa', 6, '2001:db8:250::2', '2001:db8:250::1', 'tcp', 4445, 0x02],
      ['kgxa', 4, '198.18.250.2', '198.18.250.1', 'udp', 4445, 0],
      ['kgxa', 6, '2001:db8:250::2', '2001:db8:250::1', 'udp', 4445, 0],
    ]);
    const first = got[0];
    assert.ok(first?.kind === 'packet');
    assert.equal(first.packet.sport, 55248);
    assert.equal(first.packet.payload.length, 0);
  });

  it('reads SEQ= when the rule logs TCP sequence numbers (a /dev/kmsg record)', () => {
    const rec = parseKmsgRecord(KMSG[0] as string);
    assert.ok(rec);
    assert.equal(rec.facility, 0);
    const r = parseLogLine(rec.message, 'kgseq ');
    assert.ok(r.kind === 'packet', JSON.stringify(r));
    assert.equal(r.packet.tcpSeq, 1338257175);
    assert.equal(r.packet.tcpFlags, 0x02, 'ACK=0 is the acknowledgement number, not the ACK flag');
  });

  it('matches only its own prefix, also after a syslog or dmesg header, never inside another prefix', () => {
    const line = LINES[0] as string;
    assert.deepEqual(parseLogLine(line, 'other '), { kind: 'other' });
    assert.deepEqual(parseLogLine(line.replace('kgtest ', 'xkgtest '), 'kgtest '), { kind: 'other' });
    assert.deepEqual(parseLogLine('usb 1-1: new device', 'kgtest '), { kind: 'other' });
    for (const header of ['Dec  3 17:27:06 host kernel: ', 'Dec  3 17:27:06 host kernel: [81157.229127] '])
      assert.equal(parseLogLine(header + line, 'kgtest ', 'syslog').kind, 'packet', header);
  });

  it('takes the marker only where nf_log puts it: first in a kernel message, right after `kernel: ` in a syslog line', () => {
    const line = LINES[0] as string;
    // A user can make the kernel print text of their choosing (a refused mount option, say):
    // a marker inside another message is never a packet, whatever follows it.
    const quoted = `tmpfs: Unknown parameter 'x ${line}'`;
    assert.deepEqual(parseLogLine(quoted, 'kgtest '), { kind: 'other' });
    assert.deepEqual(parseLogLine(`Dec  3 17:27:06 host kernel: ${quoted}`, 'kgtest ', 'syslog'), { kind: 'other' });
    // A syslog line from another program, or with the header but not the kernel's tag.
    assert.deepEqual(parseLogLine(`Dec  3 17:27:06 host myapp: ${line}`, 'kgtest ', 'syslog'), { kind: 'other' });
    assert.deepEqual(parseLogLine(`[81157.229127] ${line}`, 'kgtest '), { kind: 'other' });
    assert.equal(parseLogLine(line, 'kgtest ').kind, 'packet');
  });

  it('drops lines with the prefix that are not a TCP or UDP packet with addresses and ports', () => {
    const p = 'kg IN=eth0 OUT= ';
    const cases: [string, string][] = [
      [`${p}SRC=198.18.0.2 DST=198.18.0.1 LEN=84 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1`, 'log-line-not-tcp-udp'],
      [`${p}SRC=198.18.0.2 DST=198.18.0.1 LEN=84 FRAG=8 PROTO=TCP`, 'log-line-not-tcp-udp'],
      [
        `${p}SRC=198.18.0.2 DST=2001:0db8:0000:0000:0000:0000:0000:0001 PROTO=TCP SPT=1 DPT=2 SYN`,
        'log-line-malformed',
      ],
      [`${p}SRC=2001:db8::2 DST=2001:db8::1 PROTO=TCP SPT=1 DPT=2 SYN`, 'log-line-malformed'],
      [`${p}SRC=198.18.0.256 DST=198.18.0.1 PROTO=TCP SPT=1 DPT=2 SYN`, 'log-line-malformed'],
      [`${p}SRC=198.18.0.2 DST=198.18.0.1 PROTO=TCP SPT=1 DPT=65536 SYN`, 'log-line-not-tcp-udp'],
      [`${p}SRC=198.18.0.2 DST=198.18.0.1 PROTO=TCP SPT=1 DPT=2 SEQ=99999999999 SYN`, 'log-line-malformed'],
      [`${p}DST=198.18.0.1 PROTO=TCP SPT=1 DPT=2 SYN`, 'log-line-malformed'],
      [`${p}SRC=198.18.0.2 DST=198.18.0.1 SPT=1 DPT=2`, 'log-line-malformed'],
      [
        `${p}SRC=198.18.0.2 DST=198.18.0.1 PROTO=TCP SPT=1 DPT=2 ${'x'.repeat(MAX_KERNEL_LOG_LINE_BYTES)}`,
        'log-line-too-long',
      ],
    ];
    for (const [line, reason] of cases)
      assert.deepEqual(parseLogLine(line, 'kg '), { kind: 'dropped', reason }, line.slice(0, 120));
    assert.deepEqual(parseLogLine(`x${'y'.repeat(MAX_KERNEL_LOG_LINE_BYTES)}`, 'kg '), { kind: 'other' });
  });

  it('reads every TCP flag word after PROTO=, and no IP flag (DF) as one', () => {
    const r = parseLogLine(
      'kg IN=eth0 OUT= SRC=198.18.0.2 DST=198.18.0.1 LEN=40 DF PROTO=TCP SPT=1 DPT=2 CWR ECE URG ACK PSH RST SYN FIN URGP=0',
      'kg ',
    );
    assert.ok(r.kind === 'packet');
    assert.equal(r.packet.tcpFlags, 0xff);
  });
});

describe('/dev/kmsg records (core/kmsg-record.ts)', () => {
  it('reads facility, sequence number and message; the dictionary lines are not the message', () => {
    assert.deepEqual(parseKmsgRecord('6,1234,81157229127,-;hello world\n SUBSYSTEM=net\n DEVICE=n2\n'), {
      facility: 0,
      seq: 1234,
      message: 'hello world',
    });
    assert.equal(parseKmsgRecord('12,5,100,-;written by a process')?.facility, 1);
    assert.equal(parseKmsgRecord('6,5,100,c,caller=T12;continued')?.seq, 5);
    for (const bad of ['', 'no header', '6,x,1,-;m', `${'9'.repeat(70)};m`, '6,99999999999999999999,1,-;m'])
      assert.equal(parseKmsgRecord(bad), null, bad);
  });

  it('counts the records lost between two sequence numbers', () => {
    assert.equal(kmsgLost(null, 10), 0);
    assert.equal(kmsgLost(10, 11), 0);
    assert.equal(kmsgLost(10, 25), 14);
    assert.equal(kmsgLost(10, 3), 0);
  });
});
