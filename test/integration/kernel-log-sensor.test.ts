/**
 * The kernel-log sensor end to end on the real kernel: knockgated in a server namespace with
 * `sensor: kernel-log`, its own table adding `log prefix "P"` for exactly the knock ports, the
 * LOG lines read back from /dev/kmsg, and from a log file that this test writes from the kernel's
 * own lines (`dmesg -W`, with a syslog header, as rsyslog would) and rotates by rename and by
 * truncation. A sequence door over IPv4 and IPv6 each time: filtered before, open for the knocking
 * client alone after, filtered again after the grant. Lines from a namespace reach the kernel log
 * only with net.netfilter.nf_log_all_netns=1: set for these tests and put back after them.
 * Last, a burst of UDP knocks through /dev/kmsg, and the loss figure printed (not asserted).
 */

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BUILD_ROOT, sleep } from '../support/daemon-process.js';
import { grantCycle } from '../support/grant-cycle.js';
import { printedAndInstalled } from '../support/printed-ruleset.js';
import { useLogAllNetns } from '../support/nf-log-all-netns.js';
import { type Scenario, useScenario } from '../support/scenario.js';

const SEQUENCE = [5643, 2340, 6543];
const BURST_PORTS = [9101, 9102];
const DURATION_S = 3;
const BURST = 3_000;
const UDP_BURST = join(BUILD_ROOT, 'test', 'support', 'udp-burst.js');

const prefixOf = (s: Scenario): string => `kg${s.tb.id}: `;
const doors = (): string[] => [
  '  - name: ssh',
  `    sequence: [${SEQUENCE.join(', ')}]`,
  '    sequence_timeout: 10s',
  '    open: [22/tcp]',
  `    duration: ${DURATION_S}s`,
  '  - name: burst',
  `    sequence: [${BURST_PORTS.map((p) => `${p}/udp`).join(', ')}]`,
  '    open: [2222/tcp]',
  '    duration: 5s',
];

describe('sensor kernel-log from /dev/kmsg, nftables gate, real kernel', () => {
  useLogAllNetns(); // before the scenario's before(), which starts the daemon
  const s = useScenario({
    banner: [22, 2222],
    interfaces: ({ tb }) => [tb.server.clientSide.ifname, tb.server.otherSide.ifname],
    settings: (s) => [
      'firewall: nftables',
      `sensor: { kernel-log: { prefix: ${JSON.stringify(prefixOf(s))}, source: kmsg } }`,
    ],
    doors,
  });
  const { tb, daemon } = s;

  it('adds the log rule for exactly the knock ports and reads /dev/kmsg, no capture', async () => {
    const ready = await daemon.waitFor((l) => l.event === 'ready');
    assert.deepEqual(ready.captures, ['kernel-log:/dev/kmsg']);
    // The test runs with nf_log_all_netns=1 (the daemon is in a namespace): it says what that costs.
    assert.ok(daemon.lines.some((l) => l.event === 'log-all-netns' && /can forge knocks/.test(String(l.detail))));
    const table = tb.run(tb.server.ns, ['nft', 'list', 'table', 'inet', 'knockgate']);
    assert.match(table, new RegExp(`@knocklog log prefix "${prefixOf(s)}" flags tcp sequence`));
  });

  it('--print-ruleset prints the log rule the daemon installs: the kernel lists both the same', () => {
    const { printed, installed } = printedAndInstalled(s);
    assert.equal(printed, installed);
  });

  it('a sequence door over IPv4', () => grantCycle(s, 4, SEQUENCE, DURATION_S));
  it('a sequence door over IPv6 (the kernel prints the addresses expanded)', () =>
    grantCycle(s, 6, SEQUENCE, DURATION_S));

  it(`a burst of ${BURST} UDP knocks: what /dev/kmsg delivered and lost (printed)`, { timeout: 60_000 }, async (t) => {
    const statsNow = async (): Promise<Record<string, unknown>> => {
      const n = daemon.lines.length;
      process.kill(daemon.pid, 'SIGUSR1');
      return daemon.waitFor((l) => daemon.lines.indexOf(l) >= n && l.event === 'stats', 5000, 'a stats line');
    };
    const before = await statsNow();
    const sent = JSON.parse(
      tb.run(tb.client.ns, [
        process.execPath,
        UDP_BURST,
        tb.server.clientSide.v4,
        String(BURST_PORTS[0]),
        String(BURST),
      ]),
    ) as { sent: number; ms: number };
    // Until two stats lines a second apart agree (bounded: 20 s).
    let last = before;
    for (let i = 0; i < 20; i++) {
      await sleep(1000);
      const now = await statsNow();
      const settled = now.sensor_received === last.sensor_received && now.sensor_lost === last.sensor_lost;
      last = now;
      if (settled) break;
    }
    const received = Number(last.sensor_received ?? 0) - Number(before.sensor_received ?? 0);
    const lost = Number(last.sensor_lost ?? 0) - Number(before.sensor_lost ?? 0);
    const figure = `kernel-log burst: ${sent.sent} knocks sent in ${sent.ms} ms; ${received} lines read, ${lost} records lost in the kernel ring (${((100 * received) / sent.sent).toFixed(1)}% of the knocks seen)`;
    t.diagnostic(figure);
    assert.ok(received > 0, 'some of the burst came through');
    assert.ok(received <= sent.sent);
  });
});

describe('sensor kernel-log from a followed log file (rotated by rename and by truncation), nftables gate', () => {
  const FILE = 'kern.log';
  const s = useScenario({
    banner: [22],
    settings: (s) => [
      'firewall: nftables',
      `sensor: { kernel-log: { prefix: ${JSON.stringify(prefixOf(s))}, source: { file: ${FILE} } } }`,
    ],
    files: () => ({ [FILE]: '' }),
    doors,
  });
  useLogAllNetns();
  let dmesg: ChildProcess | undefined;
  before(() => {
    // The kernel's new lines, written to the file as rsyslog would: a header, then the message.
    dmesg = spawn('dmesg', ['-W', '-k'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let buffered = '';
    dmesg.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) appendFileSync(s.path(FILE), `Dec  3 17:27:06 server kernel: ${line}\n`);
    });
  });
  after(() => {
    if (dmesg?.pid !== undefined && dmesg.exitCode === null) process.kill(dmesg.pid, 'SIGKILL');
  });

  it('a sequence door over IPv4', () => grantCycle(s, 4, SEQUENCE, DURATION_S));

  it('after a rotation by rename and a new file: a sequence door over IPv6', async () => {
    renameSync(s.path(FILE), s.path(`${FILE}.1`));
    await sleep(100);
    writeFileSync(s.path(FILE), '');
    await grantCycle(s, 6, SEQUENCE, DURATION_S);
  });

  it('after a truncation in place: a sequence door over IPv4 again', async () => {
    truncateSync(s.path(FILE), 0);
    await sleep(600);
    await grantCycle(s, 4, SEQUENCE, DURATION_S);
  });
});
