/**
 * The operator's requests (daemon/operations.ts: status, grants, revoke, extend, open), on the
 * daemon in process (test/support/daemon-harness.ts): what an operator observes is whether the
 * kernel would let the source in (the memory gate), what the daemon's grant list says, which
 * commands ran, what the stop-command store holds, the counters and the log.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoint } from '../../src/core/endpoint.js';
import { KnockgateError } from '../../src/core/errors.js';
import type { MemoryCommands } from '../../src/ports/commands.js';
import type { MemoryPendingCommands } from '../../src/ports/pending-commands.js';
import { daemonHarness, T0_UNIX_MS } from '../support/daemon-harness.js';
import { tcpFrame } from '../support/frames.js';

const SSH: Endpoint = { proto: 'tcp', port: 22 };
const WEB: Endpoint = { proto: 'tcp', port: 443 };
const ALICE = '198.18.0.2';
const BOB = '198.18.0.3';

const config = (extra: string[] = []): string =>
  [
    'interfaces: [any]',
    'doors:',
    '  - name: ssh',
    '    sequence: [7001, 7002, 7003]',
    '    open: [22]',
    '    duration: 30s',
    ...extra.map((l) => `    ${l}`),
    '  - name: both',
    '    sequence: [8001, 8002, 8003]',
    '    open: [22, 443]',
    '    duration: 60s',
    '',
  ].join('\n');

type Harness = Awaited<ReturnType<typeof daemonHarness>>;

async function knock(h: Harness, src: string, ports: readonly number[]): Promise<void> {
  for (const p of ports) h.frames.inject(tcpFrame({ src }, p));
  await h.settle();
}

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof KnockgateError, String(err));
    assert.equal(err.code, code);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('operations: grants and status', () => {
  it('grants lists each grant with door, source, ports, client, since and until; status counts them per door', async () => {
    const h = await daemonHarness(config());
    try {
      await h.daemon.start();
      await knock(h, ALICE, [7001, 7002, 7003]);
      await h.advance(5_000);
      const [g, ...more] = h.daemon.operations.grants();
      assert.equal(more.length, 0);
      assert.deepEqual(
        { ...g, id: undefined },
        {
          id: undefined,
          door: 'ssh',
          source: ALICE,
          family: 4,
          ports: ['22/tcp'],
          client: null,
          since: new Date(T0_UNIX_MS).toISOString(),
          until: new Date(T0_UNIX_MS + 30_000).toISOString(),
          remaining_s: 25,
        },
      );
      const s = h.daemon.operations.status();
      assert.equal(s.grants_active, 1);
      assert.equal(s.uptime_s, 5);
      assert.deepEqual(
        s.doors.map((d) => [d.name, d.kind, d.opens, d.grants]),
        [
          ['ssh', 'sequence', ['22/tcp'], 1],
          ['both', 'sequence', ['22/tcp', '443/tcp'], 0],
        ],
      );
      assert.equal(s.firewall.kind, 'memory');
      assert.equal(s.counters.grants_opened, 1);
      assert.equal(s.replay, null, 'no SPA door, no replay store');
    } finally {
      await h.close();
    }
  });
});

describe('operations: revoke', () => {
  it('closes the grant at once, runs its stop_command, counts and logs it; the knock opens it again afterwards', async () => {
    const h = await daemonHarness(config(['stop_command: ["/usr/bin/logger", "close {ip}"]']));
    const jobs = (h.commands as MemoryCommands).jobs;
    const pending = h.pending as MemoryPendingCommands;
    try {
      await h.daemon.start();
      await knock(h, ALICE, [7001, 7002, 7003]);
      await knock(h, BOB, [7001, 7002, 7003]);
      assert.equal(pending.list().length, 2);
      const r = await h.daemon.operations.revoke({ source: ALICE }, 'ops');
      assert.deepEqual(
        r.revoked.map((g) => [g.door, g.source, g.remaining_s]),
        [['ssh', ALICE, 0]],
      );
      assert.equal(h.gate.admits(ALICE, SSH), false, 'closed in the kernel');
      assert.equal(h.gate.admits(BOB, SSH), true, 'the other grant is untouched');
      assert.deepEqual(
        h.daemon.grants().map((g) => g.source),
        [BOB],
      );
      assert.deepEqual(jobs.at(-1)?.argv, ['/usr/bin/logger', `close ${ALICE}`], 'stop_command ran now');
      await h.settle();
      assert.deepEqual(
        pending.list().map((p) => p.source),
        [BOB],
        'its durable record is gone',
      );
      assert.equal(h.daemon.stats().grants_revoked, 1);
      assert.deepEqual(
        h.events('grant-revoked').map((l) => [l.fields.door, l.fields.source, l.fields.operator]),
        [['ssh', ALICE, 'ops']],
      );

      await h.advance(30_000);
      assert.equal(
        jobs.filter((j) => j.argv[1] === `close ${ALICE}`).length,
        1,
        'the stop command does not run again when the old end comes',
      );
      assert.equal(h.daemon.stats().grants_expired, 1, "only bob's grant ran out");

      await knock(h, ALICE, [7001, 7002, 7003]);
      assert.equal(h.gate.admits(ALICE, SSH), true, 'a new knock opens it again');
      assert.equal(h.events('grant').at(-1)?.fields.verdict, 'opened', 'as a new grant, not an extension');
    } finally {
      await h.close();
    }
  });

  it("revoking one door's grant keeps the same port open when another door of the same source still grants it", async () => {
    const h = await daemonHarness(config());
    try {
      await h.daemon.start();
      await knock(h, ALICE, [7001, 7002, 7003]);
      await knock(h, ALICE, [8001, 8002, 8003]);
      await h.daemon.operations.revoke({ door: 'both' }, 'ops');
      assert.equal(h.gate.admits(ALICE, WEB), false, "443 was only the revoked door's");
      assert.equal(h.gate.admits(ALICE, SSH), true, 'door ssh still grants 22');
      await h.advance(29_000);
      assert.equal(h.gate.admits(ALICE, SSH), true);
      await h.advance(1_000);
      assert.equal(h.gate.admits(ALICE, SSH), false, "and only until door ssh's grant ends");
    } finally {
      await h.close();
    }
  });

  it('selects by prefix (grants inside it), by client, by id prefix; refuses an empty selector and says when nothing matches', async () => {
    const h = await daemonHarness(config());
    try {
      await h.daemon.start();
      await knock(h, ALICE, [7001, 7002, 7003]);
      await knock(h, BOB, [8001, 8002, 8003]);
      await rejectsWith(h.daemon.operations.revoke({}, 'ops'), 'KG_USAGE', /name the grants/);
      await rejectsWith(h.daemon.operations.revoke({ source: '198.19.0.0/16' }, 'ops'), 'KG_NO_MATCH');
      await rejectsWith(h.daemon.operations.revoke({ client: 'alice' }, 'ops'), 'KG_NO_MATCH');
      await rejectsWith(h.daemon.operations.revoke({ id: 'abc' }, 'ops'), 'KG_NO_MATCH', /no live grant/);
      await rejectsWith(h.daemon.operations.revoke({ source: 'nonsense' }, 'ops'), 'KG_USAGE', /address/);
      const bob = h.daemon.grants().find((g) => g.source === BOB);
      const r1 = await h.daemon.operations.revoke({ id: bob?.id.slice(0, 8) }, 'ops');
      assert.deepEqual(
        r1.revoked.map((g) => g.source),
        [BOB],
      );
      const r2 = await h.daemon.operations.revoke({ source: '198.18.0.0/24', door: 'ssh' }, 'ops');
      assert.deepEqual(
        r2.revoked.map((g) => g.source),
        [ALICE],
      );
      assert.deepEqual(h.daemon.grants(), []);
    } finally {
      await h.close();
    }
  });

  it('when the firewall refuses, the grant stays open and listed, no stop command runs, and the error is returned', async () => {
    const h = await daemonHarness(config(['stop_command: ["/usr/bin/logger", "close {ip}"]']));
    const jobs = (h.commands as MemoryCommands).jobs;
    try {
      await h.daemon.start();
      await knock(h, ALICE, [7001, 7002, 7003]);
      h.gate.failChanges = true;
      await rejectsWith(h.daemon.operations.revoke({ all: true }, 'ops'), 'KG_FIREWALL_FAILED');
      h.gate.failChanges = false;
      assert.equal(h.gate.admits(ALICE, SSH), true);
      assert.equal(h.daemon.grants().length, 1);
      assert.equal(jobs.length, 0);
      assert.equal(h.daemon.stats().grants_revoked, undefined);
    } finally {
      await h.close();
    }
  });
});

describe('operations: extend and open', () => {
  it('extend moves the end later in the gate, the book and the durable stop record; it never shortens', async () => {
    const h = await daemonHarness(config(['stop_command: ["/usr/bin/logger", "close {ip}"]']));
    const jobs = (h.commands as MemoryCommands).jobs;
    const pending = h.pending as MemoryPendingCommands;
    try {
      await h.daemon.start();
      await knock(h, ALICE, [7001, 7002, 7003]);
      const short = await h.daemon.operations.extend({ source: ALICE }, 10, 'ops');
      assert.deepEqual([short.extended.length, short.unchanged.length], [0, 1], '10 s is shorter than the 30 s left');
      const r = await h.daemon.operations.extend({ source: ALICE }, 3600, 'ops');
      assert.deepEqual(
        r.extended.map((g) => [g.source, g.remaining_s]),
        [[ALICE, 3600]],
      );
      assert.deepEqual(
        pending.list().map((p) => p.dueUnixMs),
        [T0_UNIX_MS + 3_600_000],
        'a restart would run the stop command at the new end',
      );
      await h.advance(30_000);
      assert.equal(h.gate.admits(ALICE, SSH), true, 'still open after the old end');
      assert.equal(jobs.length, 0);
      await h.advance(3_570_000);
      assert.equal(h.gate.admits(ALICE, SSH), false, 'closed at the new end');
      assert.deepEqual(jobs.at(-1)?.argv, ['/usr/bin/logger', `close ${ALICE}`]);
      assert.equal(h.daemon.stats().grants_expired, 1);
    } finally {
      await h.close();
    }
  });

  it("open grants the door's ports (or those named) to an address or prefix, as client operator:NAME, with the reason logged", async () => {
    const h = await daemonHarness(config());
    try {
      await h.daemon.start();
      const r = await h.daemon.operations.open({
        v: 1,
        op: 'open',
        door: 'both',
        source: '198.18.7.9/24',
        ports: ['443/tcp'],
        duration_s: 120,
        reason: 'vendor access, ticket 42',
        operator: 'ops',
      });
      assert.equal(r.verdict, 'opened');
      assert.deepEqual(
        [r.grant.source, r.grant.ports, r.grant.client, r.grant.remaining_s],
        ['198.18.7.0/24', ['443/tcp'], 'operator:ops', 120],
      );
      assert.equal(h.gate.admits('198.18.7.200', WEB), true, 'the whole prefix');
      assert.equal(h.gate.admits('198.18.7.200', SSH), false, 'only the port named');
      assert.deepEqual(
        h.events('operator-open').map((l) => [l.fields.reason, l.fields.operator]),
        [['vendor access, ticket 42', 'ops']],
      );
      const open = (extra: Record<string, unknown>) =>
        h.daemon.operations.open({
          v: 1,
          op: 'open',
          door: 'ssh',
          source: ALICE,
          reason: 'x',
          ...extra,
        } as Parameters<typeof h.daemon.operations.open>[0]);
      await rejectsWith(open({ door: 'nope' }), 'KG_NO_MATCH', /doors: ssh, both/);
      await rejectsWith(open({ ports: ['443/tcp'] }), 'KG_USAGE', /door ssh does not open 443\/tcp/);
      await rejectsWith(open({ source: '198.18.0.300' }), 'KG_USAGE');
      const d = await open({});
      assert.deepEqual([d.grant.ports, d.grant.remaining_s], [['22/tcp'], 30], "the door's own ports and duration");
      assert.equal(h.gate.admits(ALICE, SSH), true);
    } finally {
      await h.close();
    }
  });
});
