/**
 * The audit trail and the grant labels, on the daemon in process (test/support/daemon-harness.ts,
 * MemoryAuditLog and MemoryGrantRecords): each grant, extension, expiry and revocation is one
 * record with who, door, source, ports and until, operators' actions with the operator and reason;
 * a grant whose record cannot be written is closed again (fail closed) and counted; after a
 * restart on the same kernel, the grants the kernel kept come back with their id, door, client and
 * start, elements nobody recorded with door unknown, records without an element not at all.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoint } from '../../src/core/endpoint.js';
import { KnockgateError } from '../../src/core/errors.js';
import { MemoryGrantRecords } from '../../src/ports/grant-records.js';
import { UNKNOWN_DOOR } from '../../src/daemon/grant-adoption.js';
import { daemonHarness, T0_UNIX_MS } from '../support/daemon-harness.js';
import { tcpFrame } from '../support/frames.js';

const SSH: Endpoint = { proto: 'tcp', port: 22 };
const ALICE = '198.18.0.2';
const BOB = '198.18.0.3';

const CONFIG = [
  'interfaces: [any]',
  'nft_table: kgaudit',
  'doors:',
  '  - name: ssh',
  '    sequence: [7001, 7002, 7003]',
  '    open: [22]',
  '    duration: 30s',
  '',
].join('\n');

type Harness = Awaited<ReturnType<typeof daemonHarness>>;

async function knock(h: Harness, src: string): Promise<void> {
  for (const p of [7001, 7002, 7003]) h.frames.inject(tcpFrame({ src }, p));
  await h.settle();
}

const iso = (ms: number): string => new Date(ms).toISOString();

describe('audit trail', () => {
  it('a knock is one grant record; knocking again one extend record; running out one expire record', async () => {
    const h = await daemonHarness(CONFIG);
    try {
      await h.daemon.start();
      await knock(h, ALICE);
      assert.equal(h.audit.records.length, 1);
      const [g] = h.daemon.grants();
      assert.deepEqual(h.audit.records[0], {
        time: iso(T0_UNIX_MS),
        event: 'grant',
        grant: g?.id,
        table: 'kgaudit',
        door: 'ssh',
        source: ALICE,
        ports: ['22/tcp'],
        client: null,
        until: iso(T0_UNIX_MS + 30_000),
      });
      await h.advance(10_000);
      await knock(h, ALICE);
      await h.advance(40_000);
      assert.deepEqual(
        h.audit.records.map((r) => [r.event, r.grant, r.until]),
        [
          ['grant', g?.id, iso(T0_UNIX_MS + 30_000)],
          ['extend', g?.id, iso(T0_UNIX_MS + 40_000)],
          ['expire', g?.id, null],
        ],
      );
    } finally {
      await h.close();
    }
  });

  it("an operator's open, extend and revoke are recorded with the operator (as claimed) and the reason", async () => {
    const h = await daemonHarness(CONFIG);
    try {
      await h.daemon.start();
      const ops = h.daemon.operations;
      const opened = await ops.open({
        v: 1,
        op: 'open',
        door: 'ssh',
        source: BOB,
        reason: 'ticket 42',
        operator: 'ops',
      });
      await ops.extend({ id: opened.grant.id }, 3600, 'ops2');
      await ops.revoke({ source: BOB }, 'ops3');
      assert.deepEqual(
        h.audit.records.map((r) => [r.event, r.grant, r.client, r.operator, r.operator_basis, r.reason]),
        [
          ['grant', opened.grant.id, 'operator:ops', 'ops', 'claimed by a root client', 'ticket 42'],
          ['extend', opened.grant.id, 'operator:ops', 'ops2', 'claimed by a root client', undefined],
          ['revoke', opened.grant.id, 'operator:ops', 'ops3', 'claimed by a root client', undefined],
        ],
      );
      assert.equal(h.audit.records[1]?.until, iso(T0_UNIX_MS + 3_600_000));
    } finally {
      await h.close();
    }
  });

  it('a grant whose record cannot be written is closed again, not booked, logged and counted (fail closed)', async () => {
    const h = await daemonHarness(CONFIG);
    try {
      await h.daemon.start();
      h.audit.failWrites = true;
      await knock(h, ALICE);
      assert.equal(h.gate.admits(ALICE, SSH), false, 'the kernel element is gone again');
      assert.deepEqual(h.daemon.grants(), []);
      assert.equal(h.daemon.stats().audit_write_failures, 1);
      assert.equal(h.daemon.stats().grants_failed, 1);
      assert.equal(h.events('audit-failed').length, 1);
      assert.equal(h.events('grant').at(-1)?.fields.reason, 'audit-failed');
      await assert.rejects(
        h.daemon.operations.open({ v: 1, op: 'open', door: 'ssh', source: BOB, reason: 'x', operator: 'ops' }),
        (err: unknown) => err instanceof KnockgateError && err.code === 'KG_STATE_WRITE_FAILED',
      );
      assert.equal(h.gate.admits(BOB, SSH), false);
      h.audit.failWrites = false;
      await knock(h, ALICE);
      assert.equal(h.gate.admits(ALICE, SSH), true, 'once the trail takes records, grants work again');
      assert.deepEqual(
        h.audit.records.map((r) => r.event),
        ['grant'],
      );
    } finally {
      await h.close();
    }
  });

  it('an extension that cannot be recorded closes the whole grant', async () => {
    const h = await daemonHarness(CONFIG);
    try {
      await h.daemon.start();
      await knock(h, ALICE);
      h.audit.failWrites = true;
      await knock(h, ALICE);
      assert.equal(h.gate.admits(ALICE, SSH), false);
      assert.deepEqual(h.daemon.grants(), []);
      const [g] = [h.audit.records[0]];
      assert.equal(g?.event, 'grant');
      h.audit.failWrites = false;
      await h.advance(60_000);
      assert.equal(h.audit.records.length, 1, 'a grant closed so does not expire later');
    } finally {
      await h.close();
    }
  });
});

describe('grant labels across a restart', () => {
  it('grants the kernel kept come back with id, door, client and start; unknown elements as door unknown', async () => {
    const first = await daemonHarness(CONFIG);
    await first.daemon.start();
    await knock(first, ALICE);
    await first.advance(5_000);
    const [before] = first.daemon.grants();
    await first.daemon.stop();
    // What the records file held at stop, plus a record whose element is gone.
    const saved = [
      ...first.grantRecords.saved,
      {
        id: 'gone',
        door: 'ssh',
        source: '198.18.0.9',
        family: 4 as const,
        ports: ['22/tcp'],
        sinceUnixMs: 1,
        untilUnixMs: 2,
      },
    ];
    // An element no record names, put there by hand.
    const kernel = first.gate.reopened();
    await kernel.grant({ source: BOB, family: 4, endpoints: [SSH], durationS: 100 });
    const second = await daemonHarness(CONFIG, {
      clock: first.clock,
      gate: kernel,
      grantRecords: new MemoryGrantRecords(saved),
    });
    try {
      await second.daemon.start();
      const views = second.daemon.operations.grants();
      assert.deepEqual(
        views.map((g) => [g.id === before?.id, g.door, g.source, g.ports, g.since, g.remaining_s]),
        [
          [true, 'ssh', ALICE, ['22/tcp'], iso(T0_UNIX_MS), 25],
          [false, UNKNOWN_DOOR, BOB, ['22/tcp'], iso(T0_UNIX_MS + 5_000), 100],
        ],
      );
      assert.deepEqual(
        second.grantRecords.saved.map((g) => g.source),
        [ALICE, BOB],
        'the record without an element is dropped',
      );
      await second.daemon.operations.revoke({ source: BOB }, 'ops');
      assert.equal(second.gate.admits(BOB, SSH), false, 'an adopted grant can be revoked');
      await second.advance(30_000);
      assert.deepEqual(
        second.audit.records.map((r) => [r.event, r.door, r.grant === before?.id]),
        [
          ['revoke', UNKNOWN_DOOR, false],
          ['expire', 'ssh', true],
        ],
      );
    } finally {
      await second.close();
      await first.close();
    }
  });
});
