/**
 * The seed's whole story with real peers: Debian's sshd behind knockgated in the server namespace,
 * Debian's ssh client in the client namespace reaching it through
 * `ProxyCommand knockgate connect %h %p`: one SPA packet, then the session.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { clientEntryYaml } from '../support/client-entry.js';
import { createTestbed, type Testbed } from '../support/netns.js';
import { KNOCKGATE, probe, sleep, startDaemon, writeConfig } from '../support/daemon-process.js';

function run(argv: string[]): string {
  const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('ssh through knockgate connect', () => {
  let tb: Testbed;
  let dir: string;

  before(async () => {
    tb = createTestbed();
    const configFile = writeConfig('');
    dir = dirname(configFile);
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege-separation directory
    run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
    run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
    run(['cp', join(dir, 'client_key.pub'), join(dir, 'authorized_keys')]);
    writeFileSync(
      join(dir, 'sshd_config'),
      [
        'Port 22',
        'ListenAddress 0.0.0.0',
        `HostKey ${join(dir, 'host_key')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        '',
      ].join('\n'),
    );
    tb.start(tb.server.ns, ['/usr/sbin/sshd', '-D', '-e', '-f', join(dir, 'sshd_config')]);

    run([process.execPath, KNOCKGATE, 'keygen', '-o', join(dir, 'server.key')]);
    const added = run([
      process.execPath,
      KNOCKGATE,
      'add-client',
      'laptop',
      '--door',
      'ssh',
      '-k',
      join(dir, 'server.key'),
      '--server',
      tb.server.clientSide.v4,
      '--port',
      '62201',
      '-o',
      join(dir, 'laptop.yaml'),
    ]);

    writeFileSync(
      configFile,
      [
        'interfaces: [any]',
        'spa:',
        '  server_key: server.key',
        '  replay_journal: replay.journal',
        'doors:',
        '  - name: ssh',
        '    spa: { port: 62201 }',
        '    open: [22/tcp]',
        '    duration: 20s',
        '    clients:',
        ...clientEntryYaml(added),
        '',
      ].join('\n'),
    );
    await startDaemon(tb, configFile);
    for (let i = 0; i < 50 && !tb.run(tb.server.ns, ['ss', '-tln']).includes(':22 '); i++) await sleep(100);
  });

  after(() => tb?.destroy());

  const ssh = (extra: string[]) =>
    spawnSync(
      'ip',
      [
        'netns',
        'exec',
        tb.client.ns,
        'ssh',
        '-F',
        '/dev/null',
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'BatchMode=yes',
        '-o',
        'LogLevel=ERROR',
        '-o',
        'ConnectTimeout=3',
        '-i',
        join(dir, 'client_key'),
        ...extra,
        `root@${tb.server.clientSide.v4}`,
        'echo',
        'knocked-in',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );

  it('without a knock, sshd is unreachable', () => {
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'timeout');
    const r = ssh([]);
    assert.notEqual(r.status, 0);
    assert.doesNotMatch(r.stdout, /knocked-in/);
  });

  it("ssh -o ProxyCommand='knockgate connect %h %p' just works", () => {
    const r = ssh(['-o', `ProxyCommand=${process.execPath} ${KNOCKGATE} connect %h %p -c ${join(dir, 'laptop.yaml')}`]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'knocked-in');
  });
});
