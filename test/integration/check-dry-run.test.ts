/**
 * knockgated --check, --print-ruleset, --dry-run and the lockout guard, on the real kernel: the
 * real knockgated in a server namespace, asserting what an operator sees (exit status, stderr, the
 * log) and what the kernel then holds (`nft list ruleset` in that namespace).
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BUILD_ROOT, KNOCKGATE, KNOCKGATED, knock, probe, sleep, startDaemon } from '../support/daemon-process.js';
import type { Testbed } from '../support/netns.js';
import { useScenario } from '../support/scenario.js';

const RECORDER = join(BUILD_ROOT, 'test', 'support', 'record-argv.js');
const SEQUENCE = [7301, 7302, 7303];

/** knockgated with these arguments in the server namespace, to its exit. */
function knockgated(tb: Testbed, args: readonly string[], user?: number) {
  const prefix = user === undefined ? [] : ['setpriv', `--reuid=${user}`, `--regid=${user}`, '--clear-groups'];
  return spawnSync('ip', ['netns', 'exec', tb.server.ns, ...prefix, process.execPath, KNOCKGATED, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });
}

function ruleset(tb: Testbed): string {
  return tb.run(tb.server.ns, ['nft', 'list', 'ruleset']);
}

function configText(tb: Testbed, dir: string, extra: readonly string[], door: readonly string[]): string {
  return [
    `interfaces: [${tb.server.clientSide.ifname}]`,
    `pending_commands: ${JSON.stringify(join(dir, 'pending-commands.json'))}`,
    ...extra,
    'doors:',
    '  - name: ssh',
    `    sequence: [${SEQUENCE.join(', ')}]`,
    '    open: [22/tcp]',
    '    duration: 30s',
    ...door,
    '',
  ].join('\n');
}

describe('knockgated --check and --print-ruleset', () => {
  // A knock door, an SPA door (an untracked UDP port), a port-forward (the forward path and both
  // NAT chains), and an exempt interface: every part of the table.
  const s = useScenario({
    start: false,
    serverKey: true,
    replayJournal: true,
    clients: { laptop: ['--door', 'spa', '--port', '62201'] },
    interfaces: ({ tb }) => [tb.server.clientSide.ifname],
    settings: (s) => [
      'nft_table: filter',
      `exempt_interfaces: [${s.tb.server.otherSide.ifname}]`,
      `pending_commands: ${JSON.stringify(s.path('pending-commands.json'))}`,
    ],
    doors: ({ clientEntry }) => [
      '  - name: ssh',
      `    sequence: [${SEQUENCE.join(', ')}]`,
      '    open: [22/tcp]',
      '    duration: 30s',
      '  - name: spa',
      '    spa: { port: 62201 }',
      '    open: [2222/tcp]',
      '    duration: 30s',
      '    clients:',
      ...clientEntry('laptop'),
      '  - name: inner',
      '    sequence: [7301, 7302]',
      '    open: [8022/tcp]',
      '    nat: { to: 198.18.99.2, port: 22, masquerade: true }',
    ],
  });
  const { tb } = s;

  it('--print-ruleset prints the table, says which sets are dynamic, and installs nothing', () => {
    const r = knockgated(tb, ['-c', s.configFile, '--print-ruleset']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^table inet filter \{$/m);
    assert.match(
      r.stdout,
      /set protected \{\n\t\ttype inet_proto \. inet_service\n\t\telements = \{ tcp \. 22, tcp \. 2222 \}/,
    );
    assert.match(r.stdout, /set untracked \{\n\t\ttype inet_service\n\t\telements = \{ 62201 \}/);
    assert.match(r.stdout, new RegExp(`iifname != \\{ "lo", "${tb.server.otherSide.ifname}" \\} meta l4proto`));
    assert.match(r.stdout, /Dynamic: the elements of grants4 and grants6 are the grants/);
    assert.match(r.stdout, /ct state established,related accept/);
    assert.match(r.stdout, /set forwarded \{\n\t\ttype inet_proto \. inet_service\n\t\telements = \{ tcp \. 8022 \}/);
    assert.match(r.stdout, /dnat ip to ip saddr \. meta l4proto \. th dport map @nat4_to:/);
    assert.match(r.stdout, /ct status dnat ip daddr 198\.18\.99\.2 tcp dport 22 masquerade/);
    assert.equal(tb.run(tb.server.ns, ['nft', 'list', 'tables']), '');
    // What it prints is nft input the kernel takes (checked, not applied).
    const file = s.path('printed.nft');
    writeFileSync(file, r.stdout);
    tb.run(tb.server.ns, ['nft', '-c', '-f', file]);
    assert.equal(tb.run(tb.server.ns, ['nft', 'list', 'tables']), '');
  });

  it('--check passes when the kernel would take the table, and installs nothing', () => {
    const r = knockgated(tb, ['-c', s.configFile, '--check']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /OK \(3 doors: ssh, spa, inner\); nftables: table inet filter checked by the kernel/);
    assert.equal(tb.run(tb.server.ns, ['nft', 'list', 'tables']), '');
  });

  it('--check exits 78 naming the reason when nft refuses the table (nft_table: filter over a distribution firewall), and changes nothing', () => {
    // Debian's /etc/nftables.conf: table inet filter, chain input at priority 0. knockgate's
    // chain input (priority -10) cannot replace it: the schema lets the name through, nft does not.
    tb.run(
      tb.server.ns,
      ['nft', '-f', '-'],
      'table inet filter {\n chain input { type filter hook input priority 0; policy accept; }\n}\n',
    );
    const before = ruleset(tb);
    const r = knockgated(tb, ['-c', s.configFile, '--check']);
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, /nftables refused table inet filter .*Operation not supported \[KG_RULESET_REFUSED\]/);
    assert.equal(ruleset(tb), before);
    assert.doesNotMatch(ruleset(tb), /grants4/);
    tb.run(tb.server.ns, ['nft', 'delete', 'table', 'inet', 'filter']);
  });

  it('what --print-ruleset prints is what the daemon installs: the kernel lists both the same', async () => {
    const file = s.path('printed.nft');
    writeFileSync(file, knockgated(tb, ['-c', s.configFile, '--print-ruleset']).stdout);
    tb.run(tb.server.ns, ['nft', '-f', file]);
    const printed = tb.run(tb.server.ns, ['nft', 'list', 'table', 'inet', 'filter']);
    tb.run(tb.server.ns, ['nft', 'delete', 'table', 'inet', 'filter']);
    const d = await s.start();
    assert.equal(tb.run(tb.server.ns, ['nft', 'list', 'table', 'inet', 'filter']), printed);
    process.kill(d.pid, 'SIGTERM');
    await d.exited();
    tb.run(tb.server.ns, ['nft', 'delete', 'table', 'inet', 'filter']);
  });

  it('--check exits 69 when nftables does not answer (run without CAP_NET_ADMIN)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'knockgate-check-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    chmodSync(dir, 0o755);
    const file = join(dir, 'knockgate.yaml');
    writeFileSync(file, configText(tb, dir, ['nft_table: kg_check'], []), { mode: 0o644 });
    const r = knockgated(tb, ['-c', file, '--check'], 65534);
    assert.equal(r.status, 69, r.stderr);
    assert.match(r.stderr, /nftables did not answer the check of table inet kg_check.*Operation not permitted/);
  });
});

describe('knockgated --dry-run', () => {
  const s = useScenario({
    start: false,
    banner: [22],
    serverKey: true,
    clients: { laptop: ['--door', 'spa', '--port', '62201'] },
  });
  const { tb } = s;
  const marker = () => s.path('start-command-ran');
  const dryConfig = () => {
    const file = s.path('dry.yaml');
    const start = JSON.stringify([process.execPath, RECORDER, marker(), 'start', '{ip}']);
    const spaDoor = ['  - name: spa', '    spa: { port: 62201 }', '    open: [2222/tcp]', '    duration: 30s'];
    const spa = [
      'spa:',
      `  server_key: ${JSON.stringify(s.path('server.key'))}`,
      `  replay_journal: ${JSON.stringify(s.path('replay.journal'))}`,
    ];
    const door = [`    start_command: ${start}`, ...spaDoor, '    clients:', ...s.clientEntry('laptop')];
    writeFileSync(file, configText(tb, s.dir, spa, door), { mode: 0o600 });
    return file;
  };

  it('logs a correct knock and an SPA datagram as granted (dry run); creates no table, runs no start_command, writes no journal', async () => {
    const d = await s.start(dryConfig(), ['--dry-run']);
    knock(tb, tb.client.ns, tb.server.clientSide.v4, SEQUENCE);
    const granted = await d.waitFor((l) => l.event === 'grant' && l.verdict === 'opened', 10_000, 'the grant');
    assert.equal(granted.dry_run, true);
    assert.equal(granted.source, tb.client.v4);
    assert.match(String(granted.msg), /\(dry run\)/);
    const command = await d.waitFor((l) => l.event === 'command', 10_000, 'the command line');
    assert.equal(command.outcome, 'not-run');
    assert.equal((command.argv as string[]).at(-1), tb.client.v4);
    // An SPA datagram too (the replay window is the in-memory one): granted, in a dry run.
    tb.run(tb.client.ns, [process.execPath, KNOCKGATE, 'knock', tb.server.clientSide.v4, '-c', s.cred('laptop')]);
    const spa = await d.waitFor(
      (l) => l.event === 'grant' && l.door === 'spa' && l.verdict === 'opened',
      10_000,
      'the SPA grant',
    );
    assert.equal(spa.dry_run, true);
    await sleep(300);
    assert.equal(existsSync(marker()), false, 'the start_command ran');
    assert.equal(tb.run(tb.server.ns, ['nft', 'list', 'tables']), '');
    assert.equal(existsSync(s.path('replay.journal')), false, 'the dry run wrote the replay journal');
    process.kill(d.pid, 'SIGTERM');
    assert.equal(await d.exited(), 0);
  });

  it('runs beside the daemon on the same table: the port the dry run "grants" stays closed', async () => {
    // The real daemon: another sequence, the same table (nft_table: knockgate) and 22/tcp.
    const real = s.path('real.yaml');
    writeFileSync(real, configText(tb, s.dir, [], []).replace(`[${SEQUENCE.join(', ')}]`, '[7401, 7402, 7403]'), {
      mode: 0o600,
    });
    const daemon = await startDaemon(tb, real);
    after(() => {
      if (daemon.child.exitCode === null) process.kill(daemon.pid, 'SIGKILL');
    });
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'timeout');
    const d = await s.start(dryConfig(), ['--dry-run']);
    knock(tb, tb.client.ns, tb.server.clientSide.v4, SEQUENCE);
    await d.waitFor((l) => l.event === 'grant' && l.verdict === 'opened', 10_000, 'the dry-run grant');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'timeout');
    assert.doesNotMatch(tb.run(tb.server.ns, ['nft', 'list', 'set', 'inet', 'knockgate', 'grants4']), /elements/);
    assert.equal(existsSync(marker()), false);
    process.kill(d.pid, 'SIGTERM');
    await d.exited();
    process.kill(daemon.pid, 'SIGTERM');
    await daemon.exited();
  });
});

/**
 * A client in the client namespace holding one connection open to an echo service on `port` in
 * the server namespace, writing every 200 ms; `echoes()` counts the answers it got.
 */
async function holdSession(tb: Testbed, port: number): Promise<{ echoes: () => number }> {
  tb.start(tb.server.ns, [
    process.execPath,
    '-e',
    `require('net').createServer((c) => { c.on('error', () => {}); c.pipe(c); }).listen(${port})`,
  ]);
  await sleep(300);
  const holder = tb.start(tb.client.ns, [
    process.execPath,
    '-e',
    `const c = require('net').connect(${port}, ${JSON.stringify(tb.server.clientSide.v4)}, () => console.log('connected'));
     c.on('error', () => {}); c.on('data', (d) => process.stdout.write(d)); setInterval(() => c.write('echo\\n'), 200);`,
  ]);
  let echoes = 0;
  await new Promise<void>((resolve) =>
    holder.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (d.includes('connected')) resolve();
      echoes += d.split('echo').length - 1;
    }),
  );
  return { echoes: () => echoes };
}

function lockoutScenario(port: number) {
  return useScenario({
    start: false,
    interfaces: ({ tb }) => [tb.server.clientSide.ifname],
    settings: (s) => [`pending_commands: ${JSON.stringify(s.path('pending-commands.json'))}`],
    doors: () => [
      '  - name: ssh',
      `    sequence: [${SEQUENCE.join(', ')}]`,
      `    open: [${port}/tcp]`,
      '    duration: 30s',
    ],
  });
}

const PORT = 2222;

describe('the lockout guard, on a namespace where nothing used conntrack before the session', () => {
  const s = lockoutScenario(PORT);
  const { tb } = s;
  let session: { echoes: () => number };

  it('--strict refuses to start (exit 78) naming the port and address, and installs nothing', async () => {
    session = await holdSession(tb, PORT);
    const strict = knockgated(tb, ['-c', s.configFile, '--strict']);
    assert.equal(strict.status, 78, strict.stderr);
    const addr = tb.client.v4.replace(/\./g, '\\.');
    assert.match(
      strict.stderr,
      new RegExp(`from ${addr} to port ${PORT}/tcp.*nothing was changed \\[KG_LOCKOUT_RISK\\]`),
    );
    assert.equal(tb.run(tb.server.ns, ['nft', 'list', 'tables']), '', '--strict refused, yet a table exists');
    const check = knockgated(tb, ['-c', s.configFile, '--check']);
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stderr, new RegExp(`warning: your session from ${addr} to port ${PORT}/tcp will be cut off`));
  });

  it('without --strict the log warns that the session will be cut off, and it is; a new connection is dropped', async () => {
    // The --check above had the kernel dry-run the table, which registers conntrack for a moment
    // and may have picked the session up; forget it again, so the premise of this describe holds.
    tb.run(tb.server.ns, ['conntrack', '-F']);
    const d = await s.start();
    const warning = await d.waitFor((l) => l.event === 'lockout-risk', 1000, 'the lockout warning');
    assert.equal(warning.level, 'warn');
    assert.equal(warning.port, `${PORT}/tcp`);
    assert.equal(warning.source, tb.client.v4);
    assert.match(
      String(warning.msg),
      /will be cut off when knockgated installs its table .* a new connection from .* will be dropped/,
    );
    await sleep(400);
    const seen = session.echoes();
    await sleep(800);
    assert.equal(session.echoes(), seen, 'the session the warning said would be cut still answers');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, PORT).outcome, 'timeout');
  });
});

describe('the lockout guard, on a namespace where conntrack follows the session', () => {
  const s = lockoutScenario(PORT);
  const { tb } = s;
  let session: { echoes: () => number };

  it('the log warns that the session stays up but a new connection is dropped, and so it goes', async () => {
    // Some other stateful rule in the namespace, before the session begins (as on most hosts
    // with a firewall): conntrack follows the session from its first packet.
    tb.run(
      tb.server.ns,
      ['nft', '-f', '-'],
      'table inet other {\n chain c { type filter hook input priority 0; ct state established accept; }\n}\n',
    );
    session = await holdSession(tb, PORT);
    const d = await s.start();
    const warning = await d.waitFor((l) => l.event === 'lockout-risk', 1000, 'the lockout warning');
    assert.equal(warning.source, tb.client.v4);
    assert.match(
      String(warning.msg),
      new RegExp(`session from .* to port ${PORT}/tcp stays up .* a new connection .* will be dropped`),
    );
    const seen = session.echoes();
    await sleep(800);
    assert.ok(session.echoes() > seen, 'the established session stopped answering');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, PORT).outcome, 'timeout');
  });
});
