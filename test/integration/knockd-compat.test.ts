/**
 * Drop-in for knockd users, with the real peers: Debian's unchanged default knockd.conf run by
 * knockgated and opened by Debian's knock(1) client; and a sequence sent by `knockgate knock`
 * opening a door of the real knockd. knockd's commands are shell strings; here they are the real
 * iptables commands of Debian's file, run inside the test's server namespace.
 */

import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createTestbed, type Testbed } from '../support/netns.js';
import { KNOCKGATE, REPO_ROOT, sleep, startDaemonWith, writeConfig } from '../support/daemon-process.js';

const DEBIAN_DEFAULT = join(REPO_ROOT, 'test', 'fixtures', 'knockd', 'debian-default.conf');

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  for (const start = Date.now(); Date.now() - start < timeoutMs; await sleep(50)) if (check()) return;
  assert.fail(`timed out waiting for ${what}`);
}

describe('knockd compatibility', () => {
  const beds: Testbed[] = [];
  after(() => {
    for (const tb of beds) tb.destroy();
  });

  it("runs Debian's default knockd.conf unchanged; knock(1) opens and closes SSH through its iptables commands", async () => {
    const tb = createTestbed({ serverClientIfname: 'eth0' }); // the file listens on eth0 (knockd's default)
    beds.push(tb);
    const daemon = await startDaemonWith(tb, ['--knockd-conf', DEBIAN_DEFAULT]);
    const rule = `-A INPUT -s ${tb.client.v4}/32 -p tcp -m tcp --dport 22 -j ACCEPT`;
    const rules = (): string => tb.run(tb.server.ns, ['iptables', '-S', 'INPUT']);
    assert.ok(!rules().includes(rule));

    tb.run(tb.client.ns, ['knock', tb.server.clientSide.v4, '7000', '8000', '9000']);
    await daemon.waitFor((l) => l.event === 'command' && l.door === 'openSSH', 5000, 'openSSH to run its command');
    await until('the iptables rule', () => rules().includes(rule));

    tb.run(tb.client.ns, ['knock', tb.server.clientSide.v4, '9000', '8000', '7000']);
    await daemon.waitFor((l) => l.event === 'command' && l.door === 'closeSSH', 5000, 'closeSSH to run its command');
    await until('the rule to go', () => !rules().includes(rule));
    const result = daemon.lines.find((l) => l.event === 'command' && l.door === 'openSSH');
    assert.equal(result?.exit_code, 0, JSON.stringify(result));
  });

  it('a sequence sent by knockgate knock opens a door of the real knockd', async () => {
    const tb = createTestbed({ serverClientIfname: 'eth0' });
    beds.push(tb);
    const dir = dirname(writeConfig(''));
    const marker = join(dir, 'opened');
    const conf = join(dir, 'knockd.conf');
    writeFileSync(
      conf,
      [
        '[options]',
        `\tlogfile = ${join(dir, 'knockd.log')}`,
        '',
        '[opencloseSSH]',
        '\tsequence    = 7000,8000:udp,9000',
        '\tseq_timeout = 10',
        '\ttcpflags    = syn',
        `\tcommand     = /usr/bin/touch ${marker}-%IP%`,
        '',
      ].join('\n'),
    );
    tb.start(tb.server.ns, ['/usr/sbin/knockd', '-c', conf, '-i', 'eth0', '-v']);
    await until('knockd to start', () => existsSync(join(dir, 'knockd.log')), 5000);
    await sleep(500);
    tb.run(tb.client.ns, [process.execPath, KNOCKGATE, 'knock', tb.server.clientSide.v4, '7000', '8000/udp', '9000']);
    await until('knockd to run its command', () => existsSync(`${marker}-${tb.client.v4}`));
  });
});
