/**
 * Server key rotation on the real kernel: clients made under the old key (alice psk, bob ed25519),
 * then `knockgate keygen --force` (the old key kept as server.key.previous, the config lines it
 * prints put in the spa: section) and `knockgate add-client --reissue bob` (its printed entry
 * pasted over bob's). During the overlap alice's old credential opens 22/tcp and the decision line
 * says `server_key: previous`; bob's new credential opens under the new key (no server_key), and
 * his old one still opens under the previous key. With previous_key_until in the past (SIGHUP),
 * alice's packet is refused as `spa-retired-key` (not `spa-mac1`), the port stays closed to her,
 * and the start-up line warns that the overlap has ended; bob's new credential still opens.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { clientEntryYaml } from '../support/client-entry.js';
import { KNOCKGATE, KNOCKGATED, type LogLine, probe, sleep } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

describe('server key rotation: previous key accepted during the overlap, refused by name after it', () => {
  const s = useScenario({
    banner: [22],
    serverKey: true,
    clients: {
      alice: ['--door', 'ssh', '--mode', 'psk', '--port', '62201'],
      bob: ['--door', 'ssh', '--port', '62201'],
    },
    replayJournal: true,
    doors: ({ clientEntry }) => door([...clientEntry('alice'), ...clientEntry('bob')]),
    start: false,
  });
  const { tb } = s;
  let bobEntry: string[] = [];
  let keygenAdvice = '';

  function door(clients: string[]): string[] {
    return [
      '  - name: ssh',
      '    spa: { port: 62201 }',
      '    open: [22/tcp]',
      '    duration: 2s',
      '    clients:',
      ...clients,
    ];
  }
  /** The config: interfaces, the spa: section with the lines keygen printed (the time replaced), the door. */
  function writeRotatedConfig(until: string): void {
    const lines = keygenAdvice
      .split('\n')
      .filter((l) => /^\s+previous_(server_key|key_until):/.test(l))
      .map((l) => `  ${l.trim().replace(/^previous_key_until: .*$/, `previous_key_until: "${until}"`)}`);
    assert.equal(lines.length, 2, `keygen --force printed the two config lines:\n${keygenAdvice}`);
    // What the harness added to the file at start (the test's audit trail) stays, so that a reload
    // changes only the key settings.
    const kept = readFileSync(s.configFile, 'utf8').match(/^audit_log: .*$/m)?.[0];
    const text = [
      'interfaces: [any]',
      ...(kept ? [kept] : []),
      'spa:',
      '  server_key: server.key',
      '  replay_journal: replay.journal',
      ...lines,
      'doors:',
      ...door([...s.clientEntry('alice'), ...bobEntry]),
      '',
    ].join('\n');
    writeFileSync(s.configFile, text, { mode: 0o600 });
  }
  const knock = (cred: string): void => {
    tb.run(tb.client.ns, [process.execPath, KNOCKGATE, 'knock', tb.server.clientSide.v4, '-c', cred]);
  };
  const verdictAfter = (from: number, who: string) => (l: LogLine) =>
    s.daemon.lines.indexOf(l) >= from && l.event === 'spa' && l.client === who;

  before(async () => {
    const r = spawnSync(process.execPath, [KNOCKGATE, 'keygen', '--force', '-o', s.path('server.key')], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    keygenAdvice = r.stderr;
    bobEntry = s.clientEntry('bob');
    assert.match(keygenAdvice, /every client needs a new credential/);
    writeRotatedConfig(new Date(Date.now() + 86_400_000 * 3).toISOString());
    const re = spawnSync(
      process.execPath,
      [KNOCKGATE, 'add-client', '--reissue', 'bob', '--door', 'ssh', '-c', s.configFile, '-o', s.path('bob-new.yaml')],
      { encoding: 'utf8' },
    );
    assert.equal(re.status, 0, re.stderr);
    bobEntry = clientEntryYaml(re.stdout);
    assert.ok(
      bobEntry.some((l) => l.includes('previous_public_key:')),
      `the re-issued entry keeps the old key: ${re.stdout}`,
    );
    writeRotatedConfig(new Date(Date.now() + 86_400_000 * 3).toISOString());
    await s.start();
  });

  it('during the overlap, a client made under the old key opens, and the log says server_key previous', async () => {
    const from = s.daemon.lines.length;
    knock(s.cred('alice'));
    const line = await s.daemon.waitFor(verdictAfter(from, 'alice'), 5000, "alice's verdict");
    assert.equal(line.verdict, 'accepted');
    assert.equal(line.server_key, 'previous');
    await s.daemon.waitFor((l) => l.event === 'grant' && l.client === 'alice', 5000, "alice's grant");
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open');
  });

  it('a re-issued client opens under the new key; its old credential still opens under the previous one', async () => {
    let from = s.daemon.lines.length;
    knock(s.path('bob-new.yaml'));
    const fresh = await s.daemon.waitFor(verdictAfter(from, 'bob'), 5000, "bob's new verdict");
    assert.equal(fresh.verdict, 'accepted');
    assert.equal(fresh.server_key, undefined);
    from = s.daemon.lines.length;
    knock(s.cred('bob'));
    const old = await s.daemon.waitFor(verdictAfter(from, 'bob'), 5000, "bob's old verdict");
    assert.deepEqual([old.verdict, old.server_key], ['accepted', 'previous']);
  });

  it('after previous_key_until, the old client is refused as spa-retired-key, and the port stays closed to it', async () => {
    writeRotatedConfig(new Date(Date.now() - 60_000).toISOString());
    // By SIGHUP: a reload reads the previous key and the new end of the overlap, as a start does.
    const reloadFrom = s.daemon.lines.length;
    process.kill(s.daemon.pid, 'SIGHUP');
    await s.daemon.waitFor(
      (l) => s.daemon.lines.indexOf(l) >= reloadFrom && l.event === 'reloaded',
      5000,
      'the reload',
    );
    const warning = await s.daemon.waitFor(
      (l) => s.daemon.lines.indexOf(l) >= reloadFrom && l.event === 'previous-server-key',
      5000,
      'the overlap line',
    );
    assert.equal(warning.level, 'warn');
    assert.equal(warning.state, 'ended');
    // The grants of the tests above (2 s) run out first, so that "closed" is this packet's doing.
    for (let i = 0; i < 50 && probe(tb, tb.client.ns, tb.server.clientSide.v4, 22, 300).outcome === 'open'; i++)
      await sleep(200);
    const from = s.daemon.lines.length;
    knock(s.cred('alice'));
    const line = await s.daemon.waitFor(
      (l) => s.daemon.lines.indexOf(l) >= from && l.event === 'spa',
      5000,
      "the verdict on alice's packet",
    );
    assert.deepEqual([line.verdict, line.reason, line.server_key], ['rejected', 'spa-retired-key', 'retired']);
    await sleep(300);
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'timeout');
    assert.equal(s.daemon.lines.filter((l) => s.daemon.lines.indexOf(l) >= from && l.event === 'grant').length, 0);
    const check = spawnSync(process.execPath, [KNOCKGATED, '-c', s.configFile, '--check'], { encoding: 'utf8' });
    assert.match(check.stdout, /overlap ended at .*spa-retired-key/);
    const bobFrom = s.daemon.lines.length;
    knock(s.path('bob-new.yaml'));
    const bob = await s.daemon.waitFor(verdictAfter(bobFrom, 'bob'), 5000, "bob's new verdict");
    assert.equal(bob.verdict, 'accepted');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open');
  });
});
