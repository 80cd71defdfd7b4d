/**
 * fwknop command cycles with the real peers: the real fwknop client (`-A tcp/22`) sends to the
 * real knockgated, whose door reads an fwknopd access.conf with CMD_CYCLE_OPEN, CMD_CYCLE_CLOSE
 * and CMD_CYCLE_TIMER (firewall: none, as fwknopd opens no rule of its own for such stanzas).
 * The commands are `touch` with the variables in the file name, in the test's own directory, so
 * the names show what was substituted: the open command runs with the client's address, the
 * port, the protocol number, the timeout and the destination; the close runs after the timer (or
 * the client's own timeout); a close pending across a SIGKILL still runs after the restart.
 * Command messages (`fwknop --server-cmd CMD`): run as the stanza's CMD_EXEC_USER (`id -un` says
 * nobody), only where the stanza enables them and its cmd_allow lists them, with the exit status in
 * the log and the audit trail; refused by name otherwise.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { sleep } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<number> {
  for (const start = Date.now(); Date.now() - start < timeoutMs; await sleep(50)) if (check()) return Date.now();
  assert.fail(`timed out waiting for ${what}`);
}

describe('fwknop command cycles (CMD_CYCLE_OPEN / CMD_CYCLE_CLOSE / CMD_CYCLE_TIMER)', () => {
  const key = randomBytes(32).toString('base64');
  const hmac = randomBytes(64).toString('base64');
  const s = useScenario({
    files: (sc) => ({
      'access.conf': [
        'SOURCE ANY',
        'OPEN_PORTS tcp/22, udp/53',
        `KEY_BASE64 ${key}`,
        `HMAC_KEY_BASE64 ${hmac}`,
        `CMD_CYCLE_OPEN /usr/bin/touch ${sc.path('open')}-$SRC-$PORT-$PROTO-$CLIENT_TIMEOUT-$DST`,
        `CMD_CYCLE_CLOSE /usr/bin/touch ${sc.path('closed')}-$SRC-$PORT`,
        'CMD_CYCLE_TIMER 3',
        '',
      ].join('\n'),
    }),
    replayJournal: true,
    settings: (sc) => ['firewall: none', `pending_commands: ${JSON.stringify(sc.path('state/pending-commands.json'))}`],
    doors: () => ['  - name: cycle', '    fwknop: { port: 62201, capture: pcap }', '    access_conf: access.conf'],
  });
  const { tb } = s;

  /** The real fwknop client, from the client namespace, asking access for `address`. */
  const fwknop = (address: string, access: string, extra: string[] = []) =>
    tb.run(tb.client.ns, [
      'fwknop',
      '--no-rc-file',
      '--no-save-args',
      '-A',
      access,
      '-a',
      address,
      '-D',
      tb.server.clientSide.v4,
      '--key-base64-rijndael',
      key,
      '--use-hmac',
      '--key-base64-hmac',
      hmac,
      ...extra,
    ]);

  it('runs the open command with the substituted values, and the close after CMD_CYCLE_TIMER', async () => {
    const sentAt = Date.now();
    fwknop(tb.client.v4, 'tcp/22');
    const opened = s.path(`open-${tb.client.v4}-22-6-3-${tb.server.clientSide.v4}`);
    const closed = s.path(`closed-${tb.client.v4}-22`);
    await until(`the open command's file ${opened}`, () => existsSync(opened), 5000);
    assert.equal(existsSync(closed), false, 'the close command waits for its timer');
    const closedAt = await until(`the close command's file ${closed}`, () => existsSync(closed), 8000);
    assert.ok(
      closedAt - sentAt >= 2900,
      `the close ran ${closedAt - sentAt} ms after the packet, before the 3 s timer`,
    );
    const line = s.daemon.lines.find((l) => l.event === 'fwknop' && l.verdict === 'accepted');
    assert.ok(line, 'the accepted line');
    assert.ok(
      s.daemon.lines.some((l) => l.event === 'command' && l.command === 'cmd_cycle_open' && l.exit_code === 0),
      'the open command is logged with its exit status',
    );
    // No firewall rule of its own: the grant holds no ports.
    const grant = s.daemon.lines.find((l) => l.event === 'grant' && l.source === tb.client.v4);
    assert.equal(grant?.ports, undefined, JSON.stringify(grant));
  });

  it("the client's own timeout (--fw-timeout) is $CLIENT_TIMEOUT and the close's delay; udp is protocol 17", async () => {
    fwknop(tb.other.v4, 'udp/53', ['--fw-timeout', '5']);
    const opened = s.path(`open-${tb.other.v4}-53-17-5-${tb.server.clientSide.v4}`);
    await until(`the open command's file ${opened}`, () => existsSync(opened), 5000);
    await sleep(3500);
    assert.equal(existsSync(s.path(`closed-${tb.other.v4}-53`)), false, 'not closed at the 3 s timer');
    await until('the close at 5 s', () => existsSync(s.path(`closed-${tb.other.v4}-53`)), 5000);
  });

  it('a port outside OPEN_PORTS runs nothing (named reason)', async () => {
    const before = s.daemon.lines.length;
    fwknop('198.18.9.9', 'tcp/23');
    const line = await s.daemon.waitFor(
      (l) => s.daemon.lines.indexOf(l) >= before && l.event === 'fwknop',
      5000,
      'the verdict',
    );
    assert.equal(line.verdict, 'rejected');
    assert.equal(line.reason, 'fwknop-not-allowed');
    await sleep(300);
    assert.equal(existsSync(s.path(`open-198.18.9.9-23-6-3-${tb.server.clientSide.v4}`)), false);
  });

  it('a close pending across a SIGKILL runs after the restart (overdue: at once)', async () => {
    const address = '198.18.7.7';
    fwknop(address, 'tcp/22');
    const opened = s.path(`open-${address}-22-6-3-${tb.server.clientSide.v4}`);
    const closed = s.path(`closed-${address}-22`);
    await until(`the open command's file ${opened}`, () => existsSync(opened), 5000);
    const killedAt = Date.now();
    const d = s.daemon;
    process.kill(d.pid, 'SIGKILL');
    await d.exited();
    await sleep(Math.max(0, 3500 - (Date.now() - killedAt)));
    assert.equal(existsSync(closed), false, 'nothing ran the close while the daemon was down');
    const again = await s.start();
    await again.waitFor(
      (l) => l.event === 'pending-command-restored' && l.source === address && l.overdue === true,
      5000,
      'the overdue close restored',
    );
    await until(`the close command's file ${closed}`, () => existsSync(closed), 5000);
  });
});

describe('fwknop command messages (fwknop --server-cmd)', () => {
  const exec = { key: randomBytes(32).toString('base64'), hmac: randomBytes(64).toString('base64') };
  const plain = { key: randomBytes(32).toString('base64'), hmac: randomBytes(64).toString('base64') };
  const s = useScenario({
    replayJournal: true,
    settings: (sc) => ['firewall: none', `pending_commands: ${JSON.stringify(sc.path('state/pending-commands.json'))}`],
    doors: () => [
      '  - name: cmd',
      '    fwknop: { port: 62201, capture: pcap }',
      '    stanzas:',
      '      - source: ANY',
      `        key_base64: ${JSON.stringify(exec.key)}`,
      `        hmac_key_base64: ${JSON.stringify(exec.hmac)}`,
      '        cmd_exec: { user: nobody }',
      '        cmd_allow: ["/usr/bin/id -un", "/\\/usr\\/bin\\/id -[gu]n/"]',
      // A stanza without cmd_exec (a command cycle, since firewall: none): command messages refused.
      '      - source: ANY',
      `        key_base64: ${JSON.stringify(plain.key)}`,
      `        hmac_key_base64: ${JSON.stringify(plain.hmac)}`,
      '        cmd_cycle: { open: /bin/true, close: NONE }',
    ],
  });
  const { tb } = s;
  const serverCmd = (keys: { key: string; hmac: string }, cmd: string) =>
    tb.run(tb.client.ns, [
      'fwknop',
      '--no-rc-file',
      '--no-save-args',
      '--server-cmd',
      cmd,
      '-a',
      tb.client.v4,
      '-D',
      tb.server.clientSide.v4,
      '--key-base64-rijndael',
      keys.key,
      '--use-hmac',
      '--key-base64-hmac',
      keys.hmac,
    ]);
  const after = (before: number) => (l: { event?: string }) => s.daemon.lines.indexOf(l as never) >= before;

  it('runs an allowed command as the stanza user, with its output and exit status logged and audited', async () => {
    for (const [cmd, expected] of [
      ['/usr/bin/id -un', 'nobody'],
      ['/usr/bin/id -gn', 'nogroup'],
    ] as const) {
      const before = s.daemon.lines.length;
      serverCmd(exec, cmd);
      const done = await s.daemon.waitFor(
        (l) => after(before)(l) && l.event === 'command' && l.command === 'fwknop_command',
        5000,
        `the end of ${cmd}`,
      );
      assert.equal(done.exit_code, 0, JSON.stringify(done));
      assert.equal(done.output, expected, JSON.stringify(done));
      assert.equal(done.run_as, 'nobody:nogroup');
    }
    const commandRecords = (): Record<string, unknown>[] =>
      readFileSync(s.path('audit.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((r) => r.event === 'command' || r.event === 'command-exit');
    // The exit record is appended just after the command's log line.
    await until('both exit records in the audit trail', () => commandRecords().length === 4, 5000);
    const trail = commandRecords();
    assert.deepEqual(
      trail.map((r) => [r.event, r.command, r.run_as, r.exit_code]),
      [
        ['command', '/usr/bin/id -un', 'nobody:nogroup', undefined],
        ['command-exit', '/usr/bin/id -un', 'nobody:nogroup', 0],
        ['command', '/usr/bin/id -gn', 'nobody:nogroup', undefined],
        ['command-exit', '/usr/bin/id -gn', 'nobody:nogroup', 0],
      ],
    );
  });

  it('refuses a command cmd_allow does not list, and command messages to a stanza without cmd_exec', async () => {
    for (const [keys, cmd, reason] of [
      [exec, '/usr/bin/whoami', 'fwknop-command-not-allowed'],
      [exec, '/usr/bin/id -un ; /bin/sh', 'fwknop-command-not-allowed'],
      [plain, '/usr/bin/id -un', 'fwknop-message-type'],
    ] as const) {
      const before = s.daemon.lines.length;
      serverCmd(keys, cmd);
      const line = await s.daemon.waitFor(
        (l) => after(before)(l) && l.event === 'fwknop',
        5000,
        `the verdict on ${cmd}`,
      );
      assert.equal(line.verdict, 'rejected', JSON.stringify(line));
      assert.equal(line.reason, reason, JSON.stringify(line));
      await sleep(300);
      assert.ok(!s.daemon.lines.some((l) => after(before)(l) && l.event === 'command'), `nothing ran for ${cmd}`);
    }
  });
});
