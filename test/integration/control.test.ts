/**
 * The operator's commands against the real daemon on the real kernel: `knockgate status`,
 * `grants`, `revoke`, `extend`, `open`, run in the server's namespace as an operator would
 * (`ip netns exec NS knockgate ...`), over the control socket in /run/knockgate. What they must
 * show is what the kernel does: a revoked grant no longer lets the client connect and its set
 * element is gone; an operator's grant lets the address in; the stop command really runs; the
 * socket is root's only.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { controlSocketPath } from '../../src/control/socket-path.js';
import { BUILD_ROOT, KNOCKGATE, knock, probe } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

const RECORDER = join(BUILD_ROOT, 'test', 'support', 'record-argv.js');
const TABLE = 'kgctl';

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('control socket: status, grants, revoke, extend, open', () => {
  const s = useScenario({
    banner: [22],
    serverKey: true,
    clients: { alice: ['--door', 'spa', '--port', '62201'] },
    settings: (s) => [`nft_table: ${TABLE}`, `pending_commands: ${JSON.stringify(s.path('pending.json'))}`],
    doors: ({ clientEntry, path }) => [
      '  - name: seq',
      '    sequence: [7001, 7002, 7003]',
      '    open: [22]',
      '    duration: 60s',
      `    stop_command: ${JSON.stringify([process.execPath, RECORDER, path('commands.jsonl'), 'stop', '{ip}', '{door}'])}`,
      '  - name: spa',
      '    spa: { port: 62201 }',
      '    open: [22/tcp]',
      '    duration: 60s',
      '    clients:',
      ...clientEntry('alice'),
    ],
  });
  const { tb, daemon, cred } = s;

  /** knockgate in the server's namespace; `user` runs it as that user (setpriv). */
  const ctl = (args: readonly string[], user?: string): Run => {
    const prefix = user ? ['setpriv', `--reuid=${user}`, `--regid=${user}`, '--clear-groups'] : [];
    const r = spawnSync('ip', ['netns', 'exec', tb.server.ns, ...prefix, process.execPath, KNOCKGATE, ...args], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const json = <T>(args: readonly string[]): T => {
    const r = ctl([...args, '--json']);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as T;
  };
  type Grant = {
    id: string;
    door: string;
    source: string;
    ports: string[];
    client: string | null;
    remaining_s: number;
  };
  const inSet = (address: string): boolean =>
    tb.run(tb.server.ns, ['nft', 'list', 'table', 'inet', TABLE]).includes(address);

  it('the socket is root-only, and a user who is not root is told so (exit 77)', () => {
    const path = tb.run(tb.server.ns, [
      process.execPath,
      '-e',
      `import(${JSON.stringify(join(BUILD_ROOT, 'src', 'control', 'socket-path.js'))}).then(m => process.stdout.write(m.controlSocketPath(${JSON.stringify(TABLE)})))`,
    ]);
    assert.notEqual(path, controlSocketPath(TABLE), 'named after the namespace it runs in');
    const st = statSync(path);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.uid, 0);
    const r = ctl(['status'], '65534');
    assert.equal(r.status, 77, r.stderr);
    assert.match(r.stderr, /permission denied; the control socket is root's only/);
  });

  it('status names the doors, the firewall and the daemon; with no daemon in a namespace it says so (exit 69)', () => {
    // A SIGKILLed daemon's socket left in the run directory (namespace inodes are reused): not a second daemon.
    const stale = tb.run(tb.server.ns, [
      process.execPath,
      '-e',
      "const n=require('node:net'),f=require('node:fs');const p='/run/knockgate/kgstale.'+f.statSync('/proc/self/ns/net').ino+'.sock';const s=n.createServer();s.listen(p,()=>{s._handle.close();process.stdout.write(p)})",
    ]);
    after(() => rmSync(stale, { force: true }));
    const st = json<{
      pid: number;
      table: string;
      firewall: { kind: string };
      doors: { name: string; kind: string }[];
    }>(['status']);
    assert.equal(st.pid, daemon.pid);
    assert.equal(st.table, TABLE);
    assert.equal(st.firewall.kind, 'nftables');
    assert.deepEqual(
      st.doors.map((d) => [d.name, d.kind]),
      [
        ['seq', 'sequence'],
        ['spa', 'spa'],
      ],
    );
    const human = ctl(['status']);
    assert.equal(human.status, 0);
    assert.match(human.stdout, new RegExp(`knockgated .*pid ${daemon.pid}.*table ${TABLE}`));
    const none = spawnSync('ip', ['netns', 'exec', tb.client.ns, process.execPath, KNOCKGATE, 'status'], {
      encoding: 'utf8',
    });
    assert.equal(none.status, 69, none.stderr);
    assert.match(none.stderr, /no knockgated runs in this network namespace/);
  });

  it('grants shows who holds access, with door and client; revoke closes it in the kernel at once and runs the stop command', async () => {
    knock(tb, tb.client.ns, tb.server.clientSide.v4, [7001, 7002, 7003]);
    await daemon.waitFor((l) => l.event === 'grant' && l.door === 'seq', 5000, 'the sequence grant');
    tb.run(tb.client.ns, [process.execPath, KNOCKGATE, 'knock', tb.server.clientSide.v6, '-c', cred('alice')]);
    await daemon.waitFor((l) => l.event === 'grant' && l.client === 'alice', 5000, 'the SPA grant');
    const grants = json<Grant[]>(['grants']);
    assert.deepEqual(
      grants.map((g) => [g.door, g.source, g.ports, g.client]).sort(),
      [
        ['seq', tb.client.v4, ['22/tcp'], null],
        ['spa', tb.client.v6, ['22/tcp'], 'alice'],
      ].sort(),
    );
    const table = ctl(['grants']).stdout.split('\n');
    assert.match(table[0] ?? '', /^ID +DOOR +SOURCE +PORTS +CLIENT +SINCE +UNTIL +LEFT$/);
    assert.ok(
      table.some((l) => /^[0-9a-f]{8} +spa +2001:db8:\S+ +22\/tcp +alice /.test(l)),
      table.join('\n'),
    );
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open');

    const seq = grants.find((g) => g.door === 'seq') as Grant;
    const r = ctl(['revoke', seq.id.slice(0, 8)]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`revoked ${seq.id.slice(0, 8)} ${tb.client.v4.replaceAll('.', '\\.')} door seq`));
    assert.equal(inSet(tb.client.v4), false, 'the set element is gone');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'timeout', 'closed at once');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v6, 22).outcome, 'open', "alice's grant stays");
    await daemon.waitFor((l) => l.event === 'command' && l.command === 'stop', 5000, 'the stop command');
    const runs = readFileSync(s.path('commands.jsonl'), 'utf8').trim().split('\n');
    assert.deepEqual(JSON.parse(runs.at(-1) ?? '[]'), ['stop', tb.client.v4, 'seq']);

    const again = ctl(['revoke', '--door', 'seq']);
    assert.equal(again.status, 1, 'nothing left to revoke: exit 1, as grep');
    assert.match(again.stderr, /no live grant matches/);
    assert.equal(ctl(['revoke']).status, 64, 'a revoke that names nothing is refused');
  });

  it('extend makes a grant run longer in the kernel; open lets an address in with a reason', async () => {
    const r = json<{ extended: Grant[] }>(['extend', '--client', 'alice', '--for', '2h']);
    assert.deepEqual(
      r.extended.map((g) => [g.client, g.remaining_s]),
      [['alice', 7200]],
    );
    const listing = tb.run(tb.server.ns, ['nft', '-j', 'list', 'table', 'inet', TABLE]);
    const element = JSON.stringify(JSON.parse(listing)).match(/"expires":(\d+)/);
    assert.ok(element && Number(element[1]) >= 7000, `the kernel element expires later: ${element?.[1]}`);

    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'timeout');
    const opened = ctl(['open', 'seq', tb.other.v4, '--reason', 'vendor, ticket 42', '--for', '5m']);
    assert.equal(opened.status, 0, opened.stderr);
    assert.match(opened.stdout, /^opened /);
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'open');
    const line = await daemon.waitFor((l) => l.event === 'operator-open', 2000, 'the operator line');
    assert.equal(line.reason, 'vendor, ticket 42');
    const bad = ctl(['open', 'seq', tb.other.v4, '--reason', 'x', '--ports', '80/tcp']);
    assert.equal(bad.status, 64);
    assert.match(bad.stderr, /door seq does not open 80\/tcp/);
  });
});
