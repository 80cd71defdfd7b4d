/**
 * Where protection holds, on the real kernel: `interfaces:` only chooses where knocks are received;
 * protected ports are dropped on every interface but lo and `exempt_interfaces`. The server has two
 * interfaces (towards `client` and towards `other`); a banner server listens on 22 for both.
 *
 * Before this rule the drop was `iifname <interfaces>`: a config naming one interface (or a typo)
 * left the port answering on every other one.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { clientEntryYaml } from '../support/client-entry.js';
import { createTestbed, type Testbed } from '../support/netns.js';
import {
  BANNER_SERVER,
  KNOCKGATED,
  knockgateCli,
  probe,
  sleep,
  startDaemon,
  writeConfig,
  type DaemonHandle,
} from '../support/daemon-process.js';

/** A native SPA socket door on 62201 protecting 22/tcp, with one client, and `head` lines on top. */
function spaConfig(head: string[]): string {
  const file = writeConfig('');
  const dir = dirname(file);
  knockgateCli(['keygen', '-o', join(dir, 'server.key')]);
  const alice = knockgateCli([
    'add-client',
    'alice',
    '-k',
    join(dir, 'server.key'),
    '--door',
    'ssh',
    '--port',
    '62201',
    '-o',
    join(dir, 'alice.yaml'),
  ]);
  const yaml = [
    ...head,
    'spa:',
    '  server_key: server.key',
    '  replay_journal: replay.journal',
    'doors:',
    '  - name: ssh',
    '    spa: { port: 62201 }',
    '    open: [22/tcp]',
    '    clients:',
    ...clientEntryYaml(alice),
    '',
  ].join('\n');
  writeFileSync(file, yaml);
  return file;
}

describe('protected ports and interfaces', () => {
  let tb: Testbed;
  let daemon: DaemonHandle | undefined;

  before(async () => {
    tb = createTestbed();
    tb.start(tb.server.ns, [process.execPath, BANNER_SERVER, '22']);
    // The service answers from both sides before knockgate runs (once it listens).
    for (const [ns, host] of [
      [tb.client.ns, tb.server.clientSide.v4],
      [tb.other.ns, tb.server.otherSide.v4],
    ] as const) {
      let outcome = '';
      for (let i = 0; i < 50 && outcome !== 'open'; i++) {
        outcome = probe(tb, ns, host, 22, 200).outcome;
        if (outcome !== 'open') await sleep(100);
      }
      assert.equal(outcome, 'open', `the banner server answers on ${host} before knockgate runs`);
    }
  });
  after(() => tb?.destroy());

  const stop = async (): Promise<void> => {
    if (daemon === undefined) return;
    daemon.child.kill('SIGTERM');
    await daemon.exited();
    daemon = undefined;
  };

  it('with interfaces: naming only the other side, the port is still filtered on the client side', async () => {
    daemon = await startDaemon(tb, spaConfig([`interfaces: [${tb.server.otherSide.ifname}]`]));
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'timeout', 'client side');
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'timeout', 'other side');
    await stop();
  });

  it('exempt_interfaces leaves that interface reachable and only that one', async () => {
    daemon = await startDaemon(
      tb,
      spaConfig([`interfaces: [${tb.server.otherSide.ifname}]`, `exempt_interfaces: [${tb.server.clientSide.ifname}]`]),
    );
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open', 'exempt client side');
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'timeout', 'other side');
    await stop();
  });

  it('a misspelt interface is refused at start (exit 78, file:line of interfaces:) and installs nothing', () => {
    const file = spaConfig(['firewall: nftables', 'interfaces: [eth9]', 'nft_table: kgtypo']);
    const r = spawnSync('ip', ['netns', 'exec', tb.server.ns, process.execPath, KNOCKGATED, '-c', file], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 78, r.stderr);
    assert.ok(r.stderr.includes(`${file}:2: interfaces`), r.stderr);
    assert.match(r.stderr, /no such interface: "eth9"/);
    const tables = spawnSync('ip', ['netns', 'exec', tb.server.ns, 'nft', 'list', 'tables'], { encoding: 'utf8' });
    assert.doesNotMatch(tables.stdout, /kgtypo/, 'the table of this config must not exist');
  });
});
