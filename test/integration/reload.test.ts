/**
 * Reload against the real daemon on the real kernel: `knockgate reload` over the control socket
 * and SIGHUP, with the config file edited in place as an operator would. What must hold, as the
 * user sees it: an invalid file is refused with its file and line (exit 78) and the daemon runs on
 * the old one, every grant still letting its client in; a valid one removing a client refuses that
 * client's next packet and keeps the other grants; a door added by SIGHUP opens its port, which the
 * firewall now hides.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { KNOCKGATE, knock, probe } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

const TABLE = 'kgreload';

describe('reload: knockgate reload and SIGHUP', () => {
  const s = useScenario({
    banner: [22, 8080],
    serverKey: true,
    clients: { alice: ['--door', 'spa', '--port', '62201'], bob: ['--door', 'spa', '--port', '62201'] },
    settings: () => [`nft_table: ${TABLE}`],
    doors: ({ clientEntry }) => [
      '  - name: spa',
      '    spa: { port: 62201 }',
      '    open: [22/tcp]',
      '    duration: 120s',
      '    clients:',
      ...clientEntry('alice'),
      ...clientEntry('bob'),
    ],
  });
  const { tb, daemon, cred } = s;
  const original = (): string => readFileSync(s.configFile, 'utf8');
  let good = '';

  const reload = () =>
    spawnSync('ip', ['netns', 'exec', tb.server.ns, process.execPath, KNOCKGATE, 'reload', '--table', TABLE], {
      encoding: 'utf8',
      timeout: 30_000,
    });
  const grants = (): { door: string; client: string | null; source: string }[] => {
    const r = spawnSync(
      'ip',
      ['netns', 'exec', tb.server.ns, process.execPath, KNOCKGATE, 'grants', '--table', TABLE, '--json'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const spaKnock = (ns: string, host: string, client: string) =>
    tb.run(ns, [process.execPath, KNOCKGATE, 'knock', host, '-c', cred(client)]);

  it('an invalid file is refused with its file and line (exit 78); the old configuration and every grant stay', async () => {
    good = original();
    spaKnock(tb.client.ns, tb.server.clientSide.v4, 'alice');
    await daemon.waitFor((l) => l.event === 'grant' && l.client === 'alice', 5000, "alice's grant");
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open');

    writeFileSync(s.configFile, good.replace('duration: 120s', 'duration: later'));
    const r = reload();
    assert.equal(r.status, 78, r.stderr);
    assert.match(
      r.stderr,
      /not applied, knockgated runs on the configuration it had: .*knockgate\.yaml:\d+: .*duration/,
    );
    await daemon.waitFor((l) => l.event === 'reload-refused', 5000, 'the refusal in the log');

    assert.equal(daemon.child.exitCode, null, 'knockgated runs on');
    assert.deepEqual(
      grants().map((g) => [g.door, g.client]),
      [['spa', 'alice']],
    );
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open', 'alice still gets in');
    spaKnock(tb.other.ns, tb.server.otherSide.v4, 'bob');
    await daemon.waitFor((l) => l.event === 'grant' && l.client === 'bob', 5000, 'bob opens under the old config');
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'open');
  });

  it("a valid reload that removes a client refuses that client's next packet and keeps every grant", async () => {
    // bob's entry: its `- name: bob` line and the lines indented under it.
    const lines = good.split('\n');
    const at = lines.findIndex((l) => /^- name: "?bob"?$/.test(l.trim()));
    assert.ok(at > 0, good);
    let end = at + 1;
    while (end < lines.length && /^ {8}\S/.test(lines[end] ?? '')) end++;
    writeFileSync(s.configFile, [...lines.slice(0, at), ...lines.slice(end)].join('\n'));
    const r = reload();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /clients removed from spa: bob/);
    assert.match(r.stdout, /grants kept: 2/);
    await daemon.waitFor((l) => l.event === 'reloaded', 5000, 'the reload in the log');

    assert.deepEqual(
      grants()
        .map((g) => g.client)
        .sort(),
      ['alice', 'bob'],
      'no grant is closed by a reload (knockgate revoke --client bob does that)',
    );
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open');
    // bob knocks again, from an address without a grant: the client id names no client now.
    spaKnock(tb.client.ns, tb.server.clientSide.v6, 'bob');
    await daemon.waitFor(
      (l) => l.verdict === 'rejected' && l.reason === 'spa-unknown-client',
      5000,
      "bob's packet refused as an unknown client",
    );
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v6, 22).outcome, 'timeout', 'bob opened nothing');
  });

  it('SIGHUP applies a door added to the file: its port is hidden, and its knock opens it', async () => {
    const webDoor = ['  - name: web', '    sequence: [7101, 7102]', '    open: [8080]', '    duration: 60s', ''].join(
      '\n',
    );
    writeFileSync(s.configFile, `${original().trimEnd()}\n${webDoor}`);
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 8080).outcome, 'open', 'not protected yet');
    process.kill(daemon.pid, 'SIGHUP');
    const done = await daemon.waitFor(
      (l) => l.event === 'reloaded' && JSON.stringify(l.doors_added) === '["web"]',
      5000,
      'the SIGHUP reload',
    );
    assert.equal(done.grants_kept, 2);
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 8080).outcome, 'timeout', 'hidden now');
    knock(tb, tb.client.ns, tb.server.clientSide.v4, [7101, 7102]);
    await daemon.waitFor((l) => l.event === 'grant' && l.door === 'web', 5000, "the web door's grant");
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 8080).outcome, 'open');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open', "alice's grant still holds");
  });
});
