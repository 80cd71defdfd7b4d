/**
 * Where the kernel-log sensor reads its lines (src/sensors/): a followed file across both kinds of
 * rotation and a truncation, with lines cut at the limit; the journal through a stand-in for
 * journalctl (a real child process run with the sensor's argv, printing what journalctl -o json
 * prints), its non-kernel entries refused and its exit reported and recovered from; /dev/kmsg's
 * errors at open; and the sensor on top: only its prefix, only listed interfaces.
 */

import assert from 'node:assert/strict';
import {
  appendFileSync,
  chmodSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KnockgateError } from '../../src/core/errors.js';
import { KERNEL_LOG_FILE_POLL_MS, MAX_KERNEL_LOG_LINE_BYTES } from '../../src/core/limits.js';
import type { TransportPacket } from '../../src/core/packet.js';
import type { SensorDropReason } from '../../src/core/reasons.js';
import { JOURNALCTL_ARGS, followJournal } from '../../src/sensors/journal.js';
import { kernelLogSourceFactory } from '../../src/sensors/kernel-log.js';
import { openKmsg } from '../../src/sensors/kmsg.js';
import { followLogFile } from '../../src/sensors/log-file.js';

const DIR = mkdtempSync(join(tmpdir(), 'kg-kernel-log-'));
after(() => rmSync(DIR, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LINE = (port: number, iface = 'eth0', src = '198.18.0.2') =>
  `kg: IN=${iface} OUT= MAC= SRC=${src} DST=198.18.0.1 LEN=60 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=${port} WINDOW=64240 RES=0x00 SYN URGP=0 `;

/** Waits until `cond` holds, checking every 20 ms, for at most `ms`. */
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  for (const end = Date.now() + ms; !cond() && Date.now() < end; ) await sleep(20);
  assert.ok(cond(), 'timed out');
}

describe('a followed log file', () => {
  it('starts at the end, then reads new lines across rename-and-create, truncation and split writes', async () => {
    const file = join(DIR, 'kern.log');
    writeFileSync(file, 'old line, written before the daemon started\n');
    const got: string[] = [];
    const src = followLogFile(file, (l) => got.push(l), assert.fail);
    try {
      appendFileSync(file, 'one\ntw');
      await sleep(KERNEL_LOG_FILE_POLL_MS + 100);
      appendFileSync(file, 'o\r\n');
      await until(() => got.length === 2);
      renameSync(file, `${file}.1`);
      appendFileSync(`${file}.1`, 'three, in the old file after the rename\n');
      await sleep(KERNEL_LOG_FILE_POLL_MS + 100);
      writeFileSync(file, 'four, in the new file\n');
      await until(() => got.length === 4);
      truncateSync(file, 0);
      await sleep(KERNEL_LOG_FILE_POLL_MS + 100);
      appendFileSync(file, `${'x'.repeat(MAX_KERNEL_LOG_LINE_BYTES * 3)}\nfive\n`);
      await until(() => got.length === 6);
      assert.deepEqual(got.slice(0, 4), [
        'one',
        'two',
        'three, in the old file after the rename',
        'four, in the new file',
      ]);
      assert.equal(got[4]?.length, MAX_KERNEL_LOG_LINE_BYTES + 1, 'a long line is cut just past the limit');
      assert.equal(got[5], 'five');
    } finally {
      src.close();
    }
  });

  it('a file that does not exist fails at open with KG_CAPTURE_FAILED', () => {
    assert.throws(
      () => followLogFile(join(DIR, 'missing.log'), () => undefined, assert.fail),
      (e: unknown) => e instanceof KnockgateError && e.code === 'KG_CAPTURE_FAILED' && /missing\.log/.test(e.message),
    );
  });
});

describe('the journal (journalctl -k -f -o json, no shell)', () => {
  it('hands on kernel entries, marks others, skips what is not JSON, and restarts journalctl when it exits', async () => {
    const fake = join(DIR, 'journalctl');
    const argsFile = join(DIR, 'args');
    writeFileSync(
      fake,
      [
        `#!${process.execPath}`,
        `require('fs').appendFileSync(${JSON.stringify(argsFile)}, JSON.stringify(process.argv.slice(2)) + '\\n');`,
        `const out = (o) => process.stdout.write(typeof o === 'string' ? o : JSON.stringify(o) + '\\n');`,
        `out({ MESSAGE: 'kernel says', _TRANSPORT: 'kernel' });`,
        `out({ MESSAGE: 'a process says', _TRANSPORT: 'syslog' });`,
        `out('not json\\n');`,
        `out({ MESSAGE: [104, 105], _TRANSPORT: 'kernel' });`,
        `setTimeout(() => process.exit(3), 50);`,
        '',
      ].join('\n'),
    );
    chmodSync(fake, 0o755);
    const got: [string, boolean][] = [];
    const faults: string[] = [];
    const src = followJournal(
      (l, k) => got.push([l, k]),
      (m) => faults.push(m),
      fake,
    );
    try {
      await until(() => got.length >= 6, 4000);
      assert.deepEqual(got.slice(0, 3), [
        ['kernel says', true],
        ['a process says', false],
        ['hi', true],
      ]);
      assert.match(faults[0] ?? '', /journalctl exited \(3\); starting it again/);
      const argv = JSON.parse(readFileSync(argsFile, 'utf8').split('\n')[0] as string);
      assert.deepEqual(argv, [...JOURNALCTL_ARGS]);
    } finally {
      src.close();
    }
  });

  it('a journalctl that cannot be found fails at open with KG_CAPTURE_FAILED', () => {
    assert.throws(
      () => followJournal(() => undefined, assert.fail, join(DIR, 'no-journalctl')),
      (e: unknown) => e instanceof KnockgateError && e.code === 'KG_CAPTURE_FAILED' && /not found/.test(e.message),
    );
  });
});

describe('/dev/kmsg', () => {
  it('a device that cannot be opened fails with KG_CAPTURE_FAILED naming it', () => {
    assert.throws(
      () => openKmsg(() => undefined, assert.fail, join(DIR, 'no-kmsg')),
      (e: unknown) => e instanceof KnockgateError && e.code === 'KG_CAPTURE_FAILED' && /no-kmsg/.test(e.message),
    );
  });
});

describe('the kernel-log sensor', () => {
  it('takes only lines with its prefix, kernel-written, on a listed interface; counts what it received', async () => {
    const file = join(DIR, 'sensor.log');
    writeFileSync(file, '');
    const packets: TransportPacket[] = [];
    const drops: SensorDropReason[] = [];
    const sensor = kernelLogSourceFactory({
      prefix: 'kg: ',
      source: { kind: 'file', path: file },
      interfaces: ['eth0'],
      fault: assert.fail,
    }).open({ packet: (p) => packets.push(p), dropped: (r) => drops.push(r) });
    try {
      appendFileSync(
        file,
        [
          'Dec  3 17:00:00 host kernel: usb 1-1: new high-speed USB device',
          `Dec  3 17:00:00 host kernel: ${LINE(7000)}`,
          `Dec  3 17:00:00 host kernel: ${LINE(7001, 'eth9')}`,
          'Dec  3 17:00:00 host kernel: kg: IN=eth0 OUT= SRC=198.18.0.2 DST=198.18.0.1 PROTO=ICMP TYPE=8 CODE=0',
          // A file line must carry the kernel's syslog tag before the prefix; a bare one is not a knock.
          LINE(7003),
          `Dec  3 17:00:00 host myapp: ${LINE(7004)}`,
          `Dec  3 17:00:00 host kernel: [12.5] ${LINE(7002, 'eth0', '2001:0db8:0000:0000:0000:0000:0000:0002').replace('DST=198.18.0.1', 'DST=2001:0db8:0000:0000:0000:0000:0000:0001')}`,
          '',
        ].join('\n'),
      );
      await until(() => packets.length + drops.length === 4);
      assert.deepEqual(
        packets.map((p) => [p.src, p.dport]),
        [
          ['198.18.0.2', 7000],
          ['2001:db8::2', 7002],
        ],
      );
      assert.deepEqual(drops, ['log-line-other-interface', 'log-line-not-tcp-udp']);
      assert.deepEqual(sensor.stats?.(), { received: 4, dropped: 0 });
    } finally {
      sensor.close();
    }
  });
});
