/**
 * The seed's whole story with real peers: Debian's sshd behind knockgated in the server namespace,
 * Debian's ssh client in the client namespace reaching it through
 * `ProxyCommand knockgate connect %h %p`: one SPA packet, then the session.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { KNOCKGATE, probe, sleep } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

function run(argv: string[]): string {
  const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('ssh through knockgate connect', () => {
  const s = useScenario({
    serverKey: true,
    clients: ({ tb }) => ({ laptop: ['--door', 'ssh', '--server', tb.server.clientSide.v4, '--port', '62201'] }),
    replayJournal: true,
    doors: ({ clientEntry }) => [
      '  - name: ssh',
      '    spa: { port: 62201 }',
      '    open: [22/tcp]',
      '    duration: 20s',
      '    clients:',
      ...clientEntry('laptop'),
    ],
  });
  const { tb, path } = s;

  before(async () => {
    const dir = s.dir;
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
    for (let i = 0; i < 50 && !tb.run(tb.server.ns, ['ss', '-tln']).includes(':22 '); i++) await sleep(100);
  });

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
        path('client_key'),
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
    const r = ssh(['-o', `ProxyCommand=${process.execPath} ${KNOCKGATE} connect %h %p -c ${path('laptop.yaml')}`]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'knocked-in');
  });
});
