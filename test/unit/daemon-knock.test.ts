/**
 * The daemon built in process on the memory adapters (test/support/daemon-harness.ts), driven by
 * classic knocks as raw IP frames through a memory capture: the parser, the tracker, the grant
 * book, the gate and the commands are the real ones; only the kernel and the clock are not. Each
 * test asserts what a user would observe: whether the kernel would let a connection through, the
 * log lines and counters, the commands run and the stop commands kept durably.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoint } from '../../src/core/endpoint.js';
import type { TransportPacket } from '../../src/core/packet.js';
import type { MemoryCommands } from '../../src/ports/commands.js';
import { MemoryOneTimeSequences } from '../../src/ports/one-time-sequences.js';
import type { MemoryPendingCommands } from '../../src/ports/pending-commands.js';
import { daemonHarness, T0_UNIX_MS } from '../support/daemon-harness.js';
import { tcpFrame } from '../support/frames.js';

const SSH: Endpoint = { proto: 'tcp', port: 22 };
const ALICE = '198.18.0.2';
const BOB = '198.18.0.3';

const door = (extra: string[] = []): string =>
  [
    'interfaces: [any]',
    'doors:',
    '  - name: web',
    '    sequence: [7001, 7002, 7003]',
    '    open: [22]',
    '    duration: 30s',
    ...extra.map((l) => `    ${l}`),
    '',
  ].join('\n');

type Harness = Awaited<ReturnType<typeof daemonHarness>>;

async function knock(h: Harness, src: string, ports: readonly number[]): Promise<void> {
  for (const p of ports) h.frames.inject(tcpFrame({ src }, p));
  await h.settle();
}

describe('Daemon (in process): classic knocks to grants', () => {
  it('installs the deny layout, opens the door for the knocking address alone, and the grant runs out on the clock', async () => {
    const h = await daemonHarness(door());
    try {
      await h.daemon.start();
      assert.deepEqual(h.gate.layout.protectedPorts, [SSH]);
      assert.equal(h.events('firewall-installed').length, 1);
      assert.equal(h.events('ready').length, 1);
      assert.equal(h.gate.admits(ALICE, SSH), false, 'closed before any knock');

      await knock(h, ALICE, [7001, 7002, 7003]);
      assert.equal(h.gate.admits(ALICE, SSH), true, 'open for the knocking address');
      assert.equal(h.gate.admits(BOB, SSH), false, 'and for no one else');
      const [g, ...more] = h.daemon.grants();
      assert.equal(more.length, 0);
      assert.equal(g?.door, 'web');
      assert.equal(g?.source, ALICE);
      assert.deepEqual(g?.endpoints, [SSH]);
      assert.equal(g?.sinceUnixMs, T0_UNIX_MS);
      const stats = h.daemon.stats();
      assert.equal(stats.frames_total, 3);
      assert.equal(stats.knocks_progress, 2);
      assert.equal(stats.knocks_complete, 1);
      assert.equal(stats.grants_opened, 1);
      assert.deepEqual(
        h.events('grant').map((l) => [l.msg, l.fields.verdict, l.fields.ports, l.fields.duration_s]),
        [['grant opened', 'opened', '22/tcp', 30]],
      );

      await h.advance(29_999);
      assert.equal(h.gate.admits(ALICE, SSH), true, 'still open 1 ms before the end');
      assert.equal(h.daemon.grants().length, 1);
      await h.advance(1);
      assert.equal(h.gate.admits(ALICE, SSH), false, 'closed once the duration has run');
      assert.deepEqual(h.daemon.grants(), []);
      assert.equal(h.daemon.stats().grants_expired, 1);
      assert.deepEqual(
        h.events('grant-expired').map((l) => [l.fields.door, l.fields.source]),
        [['web', ALICE]],
      );
    } finally {
      await h.close();
    }
  });

  it('a knock during a grant extends it (same grant, later end) and never shortens it', async () => {
    const h = await daemonHarness(door());
    try {
      await h.daemon.start();
      await knock(h, ALICE, [7001, 7002, 7003]);
      const first = h.daemon.grants()[0];
      await h.advance(20_000);
      await knock(h, ALICE, [7001, 7002, 7003]);
      assert.equal(h.daemon.stats().grants_extended, 1);
      assert.deepEqual(
        h.events('grant').map((l) => l.fields.verdict),
        ['opened', 'extended'],
      );
      const second = h.daemon.grants()[0];
      assert.equal(second?.id, first?.id, 'an extension keeps the grant');
      assert.equal(second?.sinceUnixMs, T0_UNIX_MS);
      assert.equal((second?.expiresAtMs ?? 0) - (first?.expiresAtMs ?? 0), 20_000);
      await h.advance(15_000); // 35 s after the first knock: past its end, not the extension's
      assert.equal(h.gate.admits(ALICE, SSH), true);
      await h.advance(15_000);
      assert.equal(h.gate.admits(ALICE, SSH), false);
      assert.equal(h.daemon.stats().grants_expired, 1, 'one grant, one expiry');
    } finally {
      await h.close();
    }
  });

  it('a wrong step resets and opens nothing; no log line names a knock port', async () => {
    const h = await daemonHarness(door());
    try {
      await h.daemon.start();
      await knock(h, ALICE, [7001, 7003, 7002]);
      assert.equal(h.daemon.stats().knocks_wrong_step, 1);
      assert.equal(h.daemon.stats().grants_opened, undefined);
      assert.equal(h.gate.admits(ALICE, SSH), false);
      assert.ok(h.events('knock').some((l) => l.fields.verdict === 'reset'));
      const text = JSON.stringify(h.log.lines);
      for (const p of ['7001', '7002', '7003']) assert.ok(!text.includes(p), `the log names knock port ${p}`);
      assert.match(h.frames.live()[0]?.filter ?? '', /7001/, 'the kernel filter is where the steps go');
    } finally {
      await h.close();
    }
  });

  it('a frame that does not parse is counted and logged by its reason', async () => {
    const h = await daemonHarness(door());
    try {
      await h.daemon.start();
      h.frames.inject(new Uint8Array([0x45, 0, 0]));
      assert.equal(
        h.daemon.stats()['frames_dropped_frame-truncated'],
        1,
        'counted under the reason as the parser names it',
      );
      assert.deepEqual(
        h.events('frame-dropped').map((l) => l.fields.reason),
        ['frame-truncated'],
      );
    } finally {
      await h.close();
    }
  });

  it('a grant the firewall refuses leaves the port closed, runs no command and is not booked', async () => {
    const h = await daemonHarness(door(['start_command: ["/usr/bin/logger", "open {ip}"]']));
    try {
      await h.daemon.start();
      h.gate.failChanges = true;
      await knock(h, ALICE, [7001, 7002, 7003]);
      assert.equal(h.daemon.stats().grants_failed, 1);
      assert.equal(h.gate.admits(ALICE, SSH), false);
      assert.deepEqual(h.daemon.grants(), []);
      assert.deepEqual((h.commands as MemoryCommands).jobs, []);
      assert.deepEqual(
        h.events('grant').map((l) => [l.fields.verdict, l.fields.reason]),
        [['failed', 'firewall-error']],
      );
    } finally {
      await h.close();
    }
  });

  it('stop leaves the firewall as it is: the grant still holds in the gate until its own end', async () => {
    const h = await daemonHarness(door());
    await h.daemon.start();
    await knock(h, ALICE, [7001, 7002, 7003]);
    await h.close();
    assert.equal(h.gate.admits(ALICE, SSH), true, 'fail closed does not mean revoke');
    assert.equal(h.events('stopped')[0]?.fields.live_grants, 1);
    await h.advance(30_000);
    assert.equal(h.gate.admits(ALICE, SSH), false, 'the kernel clock ends it');
    assert.equal(h.events('grant-expired').length, 0, 'the stopped daemon logs nothing more');
  });
});

describe('Daemon (in process): start and stop commands', () => {
  it('start_command runs on the first grant only; stop_command is kept durably, moved by an extension, and runs at the end', async () => {
    const h = await daemonHarness(
      door([
        'start_command: ["/usr/bin/logger", "open {ip} {ports}"]',
        'stop_command: ["/usr/bin/logger", "close {ip}"]',
      ]),
    );
    const jobs = (h.commands as MemoryCommands).jobs;
    const pending = h.pending as MemoryPendingCommands;
    try {
      await h.daemon.start();
      await knock(h, ALICE, [7001, 7002, 7003]);
      assert.deepEqual(
        jobs.map((j) => [j.context.command, ...j.argv]),
        [['start', '/usr/bin/logger', `open ${ALICE} 22/tcp`]],
      );
      assert.deepEqual(
        pending.list().map((r) => [r.which, r.dueUnixMs, ...r.argv]),
        [['stop_command', T0_UNIX_MS + 30_000, '/usr/bin/logger', `close ${ALICE}`]],
      );
      assert.equal(h.daemon.grants()[0]?.stopCommandId, pending.list()[0]?.id);

      await h.advance(10_000);
      await knock(h, ALICE, [7001, 7002, 7003]);
      assert.equal(jobs.length, 1, 'an extension runs no second start command');
      assert.deepEqual(
        pending.list().map((r) => r.dueUnixMs),
        [T0_UNIX_MS + 40_000],
        'the one record, due later',
      );

      await h.advance(29_999);
      assert.equal(jobs.length, 1);
      await h.advance(1);
      assert.deepEqual(jobs.map((j) => [j.context.command, ...j.argv]).at(-1), [
        'stop',
        '/usr/bin/logger',
        `close ${ALICE}`,
      ]);
      assert.deepEqual(pending.list(), [], 'removed once it ran');
    } finally {
      await h.close();
    }
  });

  it("knockd's shell commands: start through /bin/sh with %IP%, the stop command recorded first and run `duration` later", async () => {
    const h = await daemonHarness(
      door([
        'start_shell: "/usr/sbin/iptables -I INPUT -s %IP% -j ACCEPT"',
        'stop_shell: "/usr/sbin/iptables -D INPUT -s %IP% -j ACCEPT"',
      ]),
    );
    const jobs = (h.commands as MemoryCommands).jobs;
    const pending = h.pending as MemoryPendingCommands;
    try {
      await h.daemon.start();
      await knock(h, ALICE, [7001, 7002, 7003]);
      assert.deepEqual(
        jobs.map((j) => j.argv),
        [['/bin/sh', '-c', `/usr/sbin/iptables -I INPUT -s ${ALICE} -j ACCEPT`]],
      );
      assert.deepEqual(
        pending.list().map((r) => [r.which, r.dueUnixMs]),
        [['stop4', T0_UNIX_MS + 30_000]],
      );
      await h.advance(30_000);
      assert.deepEqual(jobs.at(-1)?.argv, ['/bin/sh', '-c', `/usr/sbin/iptables -D INPUT -s ${ALICE} -j ACCEPT`]);
      assert.deepEqual(pending.list(), []);
    } finally {
      await h.close();
    }
  });

  it('with firewall: none the door only runs its commands: no firewall installed, nothing granted in a gate', async () => {
    const yaml = door(['start_command: ["/usr/bin/logger", "open {ip}"]'])
      .replace('interfaces: [any]', 'interfaces: [any]\nfirewall: none')
      .replace('    open: [22]\n', '');
    const h = await daemonHarness(yaml);
    try {
      await h.daemon.start();
      assert.equal(h.events('firewall-installed').length, 0);
      await knock(h, ALICE, [7001, 7002, 7003]);
      assert.equal((h.commands as MemoryCommands).jobs.length, 1);
      assert.equal(h.daemon.stats().grants_opened, 1);
      assert.equal(h.gate.installs, 0, 'the memory gate was never asked');
    } finally {
      await h.close();
    }
  });
});

describe('Daemon (in process): one-time sequences', () => {
  const oneTimeDoor = [
    'interfaces: [any]',
    'doors:',
    '  - name: otp',
    '    one_time_sequences: /nonexistent/otp.txt',
    '    open: [22]',
    '    hide_knock_ports: true',
    '',
  ].join('\n');
  const seq = (...ports: number[]): Endpoint[] => ports.map((port) => ({ proto: 'tcp', port }));

  it('a used sequence is burnt before the grant, never opens again, and the capture filter and hidden ports move to the next', async () => {
    const store = new MemoryOneTimeSequences([seq(7101, 7102), seq(7201, 7202)]);
    const h = await daemonHarness(oneTimeDoor, { oneTimeSequences: new Map([[0, store]]) });
    try {
      await h.daemon.start();
      assert.deepEqual(h.gate.layout.hiddenPorts, seq(7101, 7102));
      const firstCapture = h.frames.live()[0];
      assert.match(firstCapture?.filter ?? '', /7101/);

      await knock(h, ALICE, [7101, 7102]);
      assert.equal(h.gate.admits(ALICE, SSH), true);
      assert.equal(store.remaining(), 1);
      assert.deepEqual(
        h.events('one-time-sequence-advanced').map((l) => l.fields.remaining),
        [1],
      );
      // The explicit layout step, after the packet callback: a new capture, then the old one closed; the firewall follows.
      assert.equal(firstCapture?.isOpen, false);
      assert.match(h.frames.live()[0]?.filter ?? '', /7201/);
      assert.doesNotMatch(h.frames.live()[0]?.filter ?? '', /7101/);
      assert.deepEqual(h.gate.layout.hiddenPorts, seq(7201, 7202));
      assert.equal(h.gate.installs, 2);

      await h.advance(30_000);
      await knock(h, BOB, [7101, 7102]);
      assert.equal(h.gate.admits(BOB, SSH), false, 'a burnt sequence opens nothing');
      await knock(h, BOB, [7201, 7202]);
      assert.equal(h.gate.admits(BOB, SSH), true);
      assert.equal(h.events('door-exhausted').length, 1, 'the last one used: the door says it cannot open');
      assert.equal(h.daemon.stats().grants_opened, 2);
    } finally {
      await h.close();
    }
  });

  it('a sequence that cannot be burnt buys no grant', async () => {
    const store = new MemoryOneTimeSequences([seq(7101, 7102), seq(7201, 7202)]);
    store.failWrites = true;
    const h = await daemonHarness(oneTimeDoor, { oneTimeSequences: new Map([[0, store]]) });
    try {
      await h.daemon.start();
      await knock(h, ALICE, [7101, 7102]);
      assert.equal(h.gate.admits(ALICE, SSH), false);
      assert.equal(h.daemon.stats().grants_refused, 1);
      assert.deepEqual(
        h.events('grant').map((l) => [l.fields.verdict, l.fields.reason]),
        [['refused', 'one-time-sequence-not-burnt']],
      );
    } finally {
      await h.close();
    }
  });
});

describe('Daemon (in process): a sensor of already-parsed packets', () => {
  const packet = (src: string, dport: number): TransportPacket => ({
    family: 4,
    src,
    dst: '198.18.1.1',
    proto: 'tcp',
    sport: 40000,
    dport,
    tcpFlags: 0x02,
    tcpSeq: dport,
    payload: new Uint8Array(0),
  });

  it('a knock sequence read as parsed packets (as from a firewall log) opens the door as frames do; nothing is delivered after stop', async () => {
    const h = await daemonHarness(door());
    try {
      await h.daemon.start();
      assert.deepEqual(h.events('ready')[0]?.fields.captures, ['memory:any', 'memory:parsed']);
      for (const p of [7001, 7002, 7003]) assert.equal(h.parsed.inject(packet(ALICE, p)), true);
      await h.settle();
      assert.equal(h.gate.admits(ALICE, SSH), true);
      assert.equal(h.gate.admits(BOB, SSH), false);
      assert.equal(h.daemon.stats().knocks_complete, 1);
      assert.equal(h.daemon.stats().frames_total, undefined, 'no frame was parsed: the sensor did it');
      await h.daemon.stop();
      assert.equal(h.parsed.inject(packet(BOB, 7001)), false, 'closed at stop');
    } finally {
      await h.close();
    }
  });
});
