/**
 * The iptables gate beside a ruleset the host already has, on the real kernel: the jump goes
 * first in INPUT and the host's rules stay as they were, after it; knockgate only takes away (a
 * port the host ACCEPTs for everyone is still dropped without a grant; a port the host DROPs stays
 * dropped with one). Also: --print-ruleset shows the rules the kernel then lists, --check leaves
 * nothing behind, two daemons with different names run side by side, and a chain of knockgate's
 * name that someone else made is refused with nothing changed.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { KNOCKGATED, knock, probe, startDaemon, writeConfig } from '../support/daemon-process.js';
import { ipsetEntries } from '../support/ipset.js';
import { useScenario } from '../support/scenario.js';

const SEQUENCE = [7501, 7502, 7503];

describe('iptables gate composed with an existing iptables ruleset', () => {
  const s = useScenario({
    banner: [22, 2222, 80],
    start: false,
    settings: (s) => ['firewall: iptables', `pending_commands: ${JSON.stringify(s.path('pending-commands.json'))}`],
    doors: () => [
      '  - name: ssh',
      `    sequence: [${SEQUENCE.join(', ')}]`,
      '    open: [22/tcp, 2222/tcp]',
      '    duration: 30s',
    ],
  });
  const { tb } = s;
  const hostRules = (family: 4 | 6): string[] => {
    const other = family === 4 ? `${tb.other.v4}/32` : `${tb.other.v6}/128`;
    return [
      '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT',
      `-A INPUT -s ${other} -p tcp -m tcp --dport 2222 -j DROP`,
      '-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT',
    ];
  };
  const listInput = (cmd: string): string[] => tb.run(tb.server.ns, [cmd, '-S', 'INPUT']).trimEnd().split('\n');
  const filtered = (ns: string, addr: string, port: number): void => {
    const r = probe(tb, ns, addr, port);
    assert.equal(r.outcome, 'timeout', `${addr}:${port} from ${ns}`);
    assert.deepEqual(r.replies, []);
  };
  const knockgated = (args: string[]) =>
    spawnSync('ip', ['netns', 'exec', tb.server.ns, process.execPath, KNOCKGATED, ...args], {
      encoding: 'utf8',
      timeout: 30_000,
    });

  it('--check in a namespace with the host ruleset: OK, and it leaves no chain or set behind', () => {
    for (const [cmd, family] of [
      ['iptables-restore', 4],
      ['ip6tables-restore', 6],
    ] as const)
      tb.run(tb.server.ns, [cmd], ['*filter', ':INPUT ACCEPT [0:0]', ...hostRules(family), 'COMMIT', ''].join('\n'));
    const r = knockgated(['-c', s.configFile, '--check']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /OK .*iptables: chains kg_knockgate_in, kg_knockgate_fwd, kg_knockgate_mng, kg_knockgate_pre checked/,
    );
    assert.equal(tb.run(tb.server.ns, ['ipset', 'list', '-name']), '');
    assert.doesNotMatch(tb.run(tb.server.ns, ['iptables-save']), /kg_/);
    assert.doesNotMatch(tb.run(tb.server.ns, ['ip6tables-save']), /kg_/);
  });

  it('start: the jump goes first, the host rules stay after it, in order, in both families', async () => {
    await s.start();
    for (const [cmd, family] of [
      ['iptables', 4],
      ['ip6tables', 6],
    ] as const)
      assert.deepEqual(listInput(cmd), ['-P INPUT ACCEPT', '-A INPUT -j kg_knockgate_in', ...hostRules(family)]);
  });

  it('--print-ruleset shows exactly the rules the kernel lists for the chains', () => {
    const r = knockgated(['-c', s.configFile, '--print-ruleset']);
    assert.equal(r.status, 0, r.stderr);
    for (const [cmd, section] of [
      ['iptables', 1],
      ['ip6tables', 2],
    ] as const) {
      const printed = (r.stdout.split(/^# \d\. /m)[section + 1] ?? '').split('\n');
      for (const [table, chain] of [
        ['filter', 'kg_knockgate_in'],
        ['filter', 'kg_knockgate_fwd'],
        ['mangle', 'kg_knockgate_mng'],
        ['raw', 'kg_knockgate_pre'],
      ] as const) {
        const listed = tb.run(tb.server.ns, [cmd, '-t', table, '-S', chain]).trimEnd().split('\n').slice(1);
        assert.deepEqual(
          printed.filter((l) => l.startsWith(`-A ${chain} `)),
          listed,
          `${cmd} ${chain}`,
        );
      }
    }
  });

  it('knockgate only takes away: the host ACCEPTs 22 for all, yet it is dropped without a grant; 80 stays the host’s', () => {
    filtered(tb.client.ns, tb.server.clientSide.v4, 22);
    filtered(tb.other.ns, tb.server.otherSide.v6, 22);
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 80).outcome, 'open');
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v6, 80).outcome, 'open');
  });

  it('a grant opens what the host allows, and never what the host drops', async () => {
    knock(tb, tb.client.ns, tb.server.clientSide.v4, SEQUENCE);
    await s.daemon.waitFor((l) => l.event === 'grant' && l.source === tb.client.v4, 5000, 'the client grant');
    knock(tb, tb.other.ns, tb.server.otherSide.v6, SEQUENCE);
    await s.daemon.waitFor((l) => l.event === 'grant' && l.source === tb.other.v6, 5000, 'the other host grant');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 2222).outcome, 'open');
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v6, 22).outcome, 'open');
    filtered(tb.other.ns, tb.server.otherSide.v6, 2222); // the host's own DROP still holds
  });

  it('a restart moves nothing: one jump, first; the host rules as they were', async () => {
    await s.restart('SIGTERM');
    for (const [cmd, family] of [
      ['iptables', 4],
      ['ip6tables', 6],
    ] as const)
      assert.deepEqual(listInput(cmd), ['-P INPUT ACCEPT', '-A INPUT -j kg_knockgate_in', ...hostRules(family)]);
  });

  it('a second daemon with another nft_table runs beside the first, with chains and sets of its own', async () => {
    const second = writeConfig(
      [
        'interfaces: [any]',
        'firewall: iptables',
        'nft_table: second',
        `pending_commands: ${JSON.stringify(s.path('pending-second.json'))}`,
        'doors:',
        '  - name: web',
        '    sequence: [7601, 7602]',
        '    open: [80/tcp]',
        '    duration: 30s',
        '',
      ].join('\n'),
    );
    const d2 = await startDaemon(tb, second);
    try {
      assert.deepEqual(listInput('iptables').slice(0, 3), [
        '-P INPUT ACCEPT',
        '-A INPUT -j kg_second_in',
        '-A INPUT -j kg_knockgate_in',
      ]);
      assert.match(tb.run(tb.server.ns, ['ipset', 'list', '-name']), /^kg_second_g4$/m);
      filtered(tb.other.ns, tb.server.otherSide.v4, 80);
      assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open', 'the first daemon’s grant');
      knock(tb, tb.other.ns, tb.server.otherSide.v4, [7601, 7602]);
      await d2.waitFor((l) => l.event === 'grant' && l.source === tb.other.v4, 5000, 'the second daemon’s grant');
      assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 80).outcome, 'open');
      filtered(tb.other.ns, tb.server.otherSide.v4, 22); // the first daemon's port: no grant there
    } finally {
      process.kill(d2.pid, 'SIGTERM');
      await d2.exited();
    }
  });

  it('a chain of knockgate’s name that someone else made is refused, and left as it was', () => {
    tb.run(tb.server.ns, ['iptables', '-N', 'kg_third_in']);
    tb.run(tb.server.ns, ['iptables', '-A', 'kg_third_in', '-j', 'ACCEPT']);
    const third = writeConfig(
      [
        'interfaces: [any]',
        'firewall: iptables',
        'nft_table: third',
        `pending_commands: ${JSON.stringify(s.path('pending-third.json'))}`,
        'doors:',
        '  - name: ssh',
        '    sequence: [7701, 7702]',
        '    open: [22/tcp]',
        '',
      ].join('\n'),
    );
    const r = knockgated(['-c', third]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /already has a chain kg_third_in .* knockgate did not make/);
    assert.deepEqual(tb.run(tb.server.ns, ['iptables', '-S', 'kg_third_in']).trimEnd().split('\n'), [
      '-N kg_third_in',
      '-A kg_third_in -j ACCEPT',
    ]);
    assert.doesNotMatch(tb.run(tb.server.ns, ['iptables', '-S', 'INPUT']), /kg_third/);
  });

  it('a restart with a port no longer protected removes its grants and its drop; the grants of the others stay', async () => {
    process.kill(s.daemon.pid, 'SIGKILL');
    await s.daemon.exited();
    const narrower = writeConfig(
      [
        'interfaces: [any]',
        'firewall: iptables',
        `pending_commands: ${JSON.stringify(s.path('pending-commands.json'))}`,
        'doors:',
        '  - name: ssh',
        `    sequence: [${SEQUENCE.join(', ')}]`,
        '    open: [22/tcp]',
        '    duration: 30s',
        '',
      ].join('\n'),
    );
    await s.start(narrower);
    assert.deepEqual([...ipsetEntries(tb, 'kg_knockgate_g4').keys()], [`${tb.client.v4},tcp:22`]);
    assert.deepEqual([...ipsetEntries(tb, 'kg_knockgate_g6').keys()], [`${tb.other.v6},tcp:22`]);
    assert.doesNotMatch(tb.run(tb.server.ns, ['iptables', '-S', 'kg_knockgate_in']), /2222/);
    // 2222 is the host's alone again: open to the client, still dropped for the other host by its rule.
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 2222).outcome, 'open');
    filtered(tb.other.ns, tb.server.otherSide.v6, 2222);
    filtered(tb.other.ns, tb.server.otherSide.v4, 22);
  });

  it('--check refuses a set of knockgate’s name with another type (exit 78), and changes nothing', () => {
    tb.run(tb.server.ns, ['ipset', 'create', 'kg_fourth_g4', 'hash:ip', 'family', 'inet']);
    const fourth = writeConfig(
      [
        'interfaces: [any]',
        'firewall: iptables',
        'nft_table: fourth',
        'doors:',
        '  - name: ssh',
        '    sequence: [7901, 7902]',
        '    open: [22/tcp]',
        '',
      ].join('\n'),
    );
    const r = knockgated(['-c', fourth, '--check']);
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, /ipset kg_fourth_g4 exists as hash:ip family inet, not hash:ip,port family inet/);
    assert.deepEqual(
      tb
        .run(tb.server.ns, ['ipset', 'list', '-name'])
        .split('\n')
        .filter((n) => n.startsWith('kg_fourth') || n.startsWith('kgck')),
      ['kg_fourth_g4'],
    );
  });

  it('without the ipset program, the start and --check stop with exit 69 naming the package, and nothing changes', () => {
    const before = tb.run(tb.server.ns, ['iptables-save', '-t', 'filter']).replace(/^[#:].*\n/gm, '');
    // A mount namespace of the daemon's own, with an empty /usr/sbin (/sbin is a link to it on Debian 12).
    const hidden = (args: string[]) =>
      spawnSync(
        'ip',
        [
          'netns',
          'exec',
          tb.server.ns,
          'unshare',
          '-m',
          '--propagation',
          'private',
          'sh',
          '-c',
          'mount -t tmpfs none /usr/sbin && exec "$@"',
          'sh',
          process.execPath,
          KNOCKGATED,
          ...args,
        ],
        { encoding: 'utf8', timeout: 30_000 },
      );
    const fifth = writeConfig(
      [
        'interfaces: [any]',
        'firewall: iptables',
        'nft_table: fifth',
        `pending_commands: ${JSON.stringify(s.path('pending-fifth.json'))}`,
        'doors:',
        '  - name: ssh',
        '    sequence: [7911, 7912]',
        '    open: [22/tcp]',
        '',
      ].join('\n'),
    );
    for (const args of [
      ['-c', fifth, '--check'],
      ['-c', fifth],
    ]) {
      const r = hidden(args);
      assert.equal(r.status, 69, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /ipset not found .*install the ipset package \(apt-get install ipset\)/);
    }
    assert.equal(tb.run(tb.server.ns, ['iptables-save', '-t', 'filter']).replace(/^[#:].*\n/gm, ''), before);
  });
});
