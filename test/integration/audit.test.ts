/**
 * The audit trail and the grant labels with the real daemon on the real kernel: an SPA grant, an
 * operator's extend, a knock that runs out, an operator's open and revoke are each one line of
 * the audit file (with client, door, operator and reason); after `mv` and SIGHUP new lines go to
 * a new file and none is lost or doubled; after SIGTERM and a new start `knockgate grants` still
 * names the client and door of the grant the kernel kept; `knockgate audit --json` shows the lines,
 * also across knockgated's own rotations by size.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { AuditRecord } from '../../src/ports/audit-log.js';
import { KNOCKGATE, knock } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

const TABLE = 'kgaudit';

describe('audit trail and grant labels on the real kernel', () => {
  const s = useScenario({
    banner: [22],
    serverKey: true,
    clients: { alice: ['--door', 'spa', '--port', '62202'] },
    settings: (s) => [
      `nft_table: ${TABLE}`,
      `pending_commands: ${JSON.stringify(s.path('state/pending.json'))}`,
      'audit_log_max_bytes: 4096', // a dozen lines a file: the last test sees knockgated rotate
    ],
    doors: ({ clientEntry }) => [
      '  - name: quick',
      '    sequence: [7101, 7102, 7103]',
      '    open: [22]',
      '    duration: 2s',
      '  - name: spa',
      '    spa: { port: 62202 }',
      '    open: [22/tcp]',
      '    duration: 60s',
      '    clients:',
      ...clientEntry('alice'),
    ],
  });
  const { tb, cred } = s;
  const trail = (): string => s.path('audit.jsonl');
  const linesOf = (file: string): AuditRecord[] =>
    existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as AuditRecord)
      : [];
  /** knockgate in the server's namespace, as operator `auditor` (SUDO_USER). */
  const ctl = (args: readonly string[]) => {
    const r = spawnSync('ip', ['netns', 'exec', tb.server.ns, process.execPath, KNOCKGATE, ...args], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, SUDO_USER: 'auditor' },
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  let aliceGrant = '';

  it('an SPA grant is exactly one grant line with client and door, synced before the grant is logged', async () => {
    tb.run(tb.client.ns, [process.execPath, KNOCKGATE, 'knock', tb.server.clientSide.v4, '-c', cred('alice')]);
    const logged = await s.daemon.waitFor((l) => l.event === 'grant' && l.client === 'alice', 5000, 'the SPA grant');
    // Read right after the log line: the record was synced before it was written.
    const lines = linesOf(trail());
    assert.equal(lines.length, 1, JSON.stringify(lines));
    const [g] = lines;
    assert.deepEqual(
      [g?.event, g?.door, g?.client, g?.source, g?.ports, g?.table],
      ['grant', 'spa', 'alice', tb.client.v4, ['22/tcp'], TABLE],
    );
    assert.ok(Date.parse(g?.until ?? '') - Date.parse(g?.time ?? '') >= 59_000);
    assert.equal(logged.verdict, 'opened');
    aliceGrant = g?.grant ?? '';
  });

  it("an operator's extend is one extend line naming the operator as claimed", () => {
    ctl(['extend', '--client', 'alice', '--for', '2h']);
    const last = linesOf(trail()).at(-1);
    assert.deepEqual(
      [last?.event, last?.grant, last?.operator, last?.operator_basis],
      ['extend', aliceGrant, 'auditor', 'claimed by a root client'],
    );
  });

  it('a knock that runs out is one grant line and one expire line', async () => {
    knock(tb, tb.client.ns, tb.server.clientSide.v4, [7101, 7102, 7103]);
    await s.daemon.waitFor((l) => l.event === 'grant-expired' && l.door === 'quick', 8000, 'the expiry');
    const quick = linesOf(trail()).filter((r) => r.door === 'quick');
    assert.deepEqual(
      quick.map((r) => [r.event, r.client, r.until === null]),
      [
        ['grant', null, false],
        ['expire', null, true],
      ],
    );
    assert.equal(quick[0]?.grant, quick[1]?.grant);
  });

  it('after mv and SIGHUP new lines go to a new file; open and revoke are recorded with operator and reason; none lost or doubled', async () => {
    const before = linesOf(trail());
    renameSync(trail(), `${trail()}.old`);
    process.kill(s.daemon.pid, 'SIGHUP');
    await s.daemon.waitFor((l) => l.event === 'audit-reopened', 5000, 'the reopen');
    ctl(['open', 'quick', tb.other.v4, '--reason', 'vendor, ticket 42', '--for', '5m']);
    ctl(['revoke', '--address', tb.other.v4]);
    assert.deepEqual(linesOf(`${trail()}.old`), before, 'the moved file is as it was');
    const after = linesOf(trail());
    assert.deepEqual(
      after.map((r) => [r.event, r.door, r.source, r.client, r.operator, r.reason]),
      [
        ['grant', 'quick', tb.other.v4, 'operator:auditor', 'auditor', 'vendor, ticket 42'],
        ['revoke', 'quick', tb.other.v4, 'operator:auditor', 'auditor', undefined],
      ],
    );
    const all = [...before, ...after].map((r) => `${r.grant}|${r.event}|${r.time}`);
    assert.equal(new Set(all).size, all.length, 'no line twice');
    assert.deepEqual(
      [...before, ...after].map((r) => r.event),
      ['grant', 'extend', 'grant', 'expire', 'grant', 'revoke'],
    );
    // SIGHUP also reloaded the (unchanged) configuration; logrotate's SIGUSR2 only reopens.
    await s.daemon.waitFor((l) => l.event === 'reloaded', 5000, "SIGHUP's reload");
    const reopened = () => s.daemon.lines.filter((l) => l.event === 'audit-reopened').length;
    process.kill(s.daemon.pid, 'SIGUSR2');
    await s.daemon.waitFor((l) => l.event === 'audit-reopened' && reopened() === 2, 5000, 'the second reopen');
    assert.equal(s.daemon.lines.filter((l) => l.event === 'reloaded').length, 1, 'SIGUSR2 reloads nothing');
  });

  it('after SIGTERM and a new start, knockgate grants still shows the client and door of the kept grant', async () => {
    await s.restart('SIGTERM');
    const adopted = await s.daemon.waitFor((l) => l.event === 'grant-adopted', 5000, 'the adopted grant');
    assert.deepEqual([adopted.door, adopted.client, adopted.grant], ['spa', 'alice', aliceGrant]);
    const grants = JSON.parse(ctl(['grants', '--json'])) as {
      id: string;
      door: string;
      client: string | null;
      source: string;
      remaining_s: number;
    }[];
    assert.deepEqual(
      grants.map((g) => [g.id, g.door, g.client, g.source]),
      [[aliceGrant, 'spa', 'alice', tb.client.v4]],
    );
    assert.ok((grants[0]?.remaining_s ?? 0) > 7000, "the kernel's time left");
  });

  it('knockgate audit --json shows the lines of the trail', () => {
    const shown = ctl(['audit', '-c', s.configFile, '--json'])
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditRecord);
    assert.deepEqual(shown, linesOf(trail()));
    const table = ctl(['audit', '-c', s.configFile, '--client', 'operator:auditor']);
    assert.match(table, /revoke +[0-9a-f]{8} +quick /);
  });

  it('across rotations by size, knockgate audit --json shows every line once, in order', () => {
    const before = linesOf(trail());
    for (let i = 1; i <= 12; i++) {
      ctl(['open', 'quick', tb.other.v4, '--reason', `rotation ${i}`, '--for', '5m']);
      ctl(['revoke', '--address', tb.other.v4]);
    }
    assert.ok(existsSync(`${trail()}.1`), 'knockgated rotated the trail');
    const shown = ctl(['audit', '-c', s.configFile, '--json'])
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditRecord);
    const onDisk = [`${trail()}.3`, `${trail()}.2`, `${trail()}.1`, trail()].flatMap(linesOf);
    for (const f of [`${trail()}.1`, trail()]) assert.ok(readFileSync(f).length <= 4096, `${f} is within the limit`);
    assert.deepEqual(shown, onDisk);
    const added = shown.slice(before.length);
    assert.deepEqual(shown.slice(0, before.length), before);
    assert.deepEqual(
      added.map((r) => [r.event, r.reason ?? null]),
      Array.from({ length: 12 }, (_, i) => [
        ['grant', `rotation ${i + 1}`],
        ['revoke', null],
      ]).flat(),
    );
  });
});
