/**
 * The iptables gate's restore text (src/gates/iptables-ruleset.ts, iptables-ruleset-text.ts) and
 * the config rules of `firewall: iptables`: what each program is handed, rule by rule.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';
import type { GateLayout } from '../../src/ports/gate.js';
import { iptablesRulesetText } from '../../src/gates/iptables-ruleset-text.js';
import {
  chainOwnership,
  countJumps,
  ipsetCreateText,
  ipsetElement,
  iptablesNames,
  NO_JUMPS,
  OWNER_COMMENT,
  restoreText,
} from '../../src/gates/iptables-ruleset.js';

const LAYOUT: GateLayout = {
  protectedPorts: [
    { proto: 'tcp', port: 22 },
    { proto: 'tcp', port: 22 },
    { proto: 'udp', port: 53 },
  ],
  hiddenPorts: [{ proto: 'tcp', port: 7001 }],
  untrackedUdpPorts: [62201, 62201],
  exemptInterfaces: ['wg0'],
};
const names = iptablesNames('kgt');

describe('iptables gate: names and sets', () => {
  it('derives every chain and set from nft_table, within the kernel limits at the longest allowed name', () => {
    assert.deepEqual(names, {
      input: 'kg_kgt_in',
      forward: 'kg_kgt_fwd',
      mangle: 'kg_kgt_mng',
      raw: 'kg_kgt_pre',
      sets: { 4: { ip: 'kg_kgt_g4', net: 'kg_kgt_n4' }, 6: { ip: 'kg_kgt_g6', net: 'kg_kgt_n6' } },
    });
    const longest = iptablesNames('a'.repeat(20));
    for (const chain of [longest.input, longest.forward, longest.mangle, longest.raw])
      assert.ok(chain.length <= 28, chain);
    for (const set of [longest.sets[4].ip, longest.sets[6].net]) assert.ok(set.length <= 31, set);
  });

  it('creates four hash sets with per-entry timeouts, one per family and kind of source', () => {
    assert.equal(
      ipsetCreateText(names),
      [
        'create kg_kgt_g4 hash:ip,port family inet timeout 0 maxelem 65536',
        'create kg_kgt_n4 hash:net,port family inet timeout 0 maxelem 65536',
        'create kg_kgt_g6 hash:ip,port family inet6 timeout 0 maxelem 65536',
        'create kg_kgt_n6 hash:net,port family inet6 timeout 0 maxelem 65536',
        '',
      ].join('\n'),
    );
  });

  it('writes elements in canonical text, masks prefixes, and refuses a source of the other family', () => {
    assert.equal(ipsetElement(4, '198.18.1.2', { proto: 'tcp', port: 22 }), '198.18.1.2,tcp:22');
    assert.equal(ipsetElement(6, '2001:DB8:0:0::2', { proto: 'udp', port: 53 }), '2001:db8::2,udp:53');
    assert.equal(ipsetElement(4, '198.18.1.77/24', { proto: 'tcp', port: 22 }), '198.18.1.0/24,tcp:22');
    assert.equal(ipsetElement(6, '2001:db8:1:2::/64', { proto: 'tcp', port: 22 }), '2001:db8:1:2::/64,tcp:22');
    assert.equal(ipsetElement(6, '198.18.1.2', { proto: 'tcp', port: 22 }), null);
    assert.equal(ipsetElement(4, '198.18.1.0/0', { proto: 'tcp', port: 22 }), null);
    assert.equal(ipsetElement(4, '198.18.1.0/33', { proto: 'tcp', port: 22 }), null);
  });
});

describe('iptables gate: restore text', () => {
  it('IPv4: one filter COMMIT with both chains and their jumps first, RETURN (never ACCEPT) for what is not ours to drop', () => {
    const text = restoreText(names, 4, LAYOUT, NO_JUMPS);
    assert.equal(
      text,
      [
        '*filter',
        ':kg_kgt_in - [0:0]',
        ':kg_kgt_fwd - [0:0]',
        '-I INPUT 1 -j kg_kgt_in',
        '-I FORWARD 1 -j kg_kgt_fwd',
        `-A kg_kgt_in -m comment --comment "${OWNER_COMMENT}"`,
        '-A kg_kgt_in -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
        '-A kg_kgt_in -i lo -j RETURN',
        '-A kg_kgt_in -i wg0 -j RETURN',
        '-A kg_kgt_in -m set --match-set kg_kgt_g4 src,dst -j RETURN',
        '-A kg_kgt_in -m set --match-set kg_kgt_n4 src,dst -j RETURN',
        '-A kg_kgt_in -p tcp -m tcp --dport 22 -j DROP',
        '-A kg_kgt_in -p udp -m udp --dport 53 -j DROP',
        '-A kg_kgt_in -p tcp -m tcp --dport 7001 -j DROP',
        `-A kg_kgt_fwd -m comment --comment "${OWNER_COMMENT}"`,
        '-A kg_kgt_fwd -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
        '-A kg_kgt_fwd -i lo -j RETURN',
        '-A kg_kgt_fwd -i wg0 -j RETURN',
        '-A kg_kgt_fwd -m set --match-set kg_kgt_g4 src,dst -j RETURN',
        '-A kg_kgt_fwd -m set --match-set kg_kgt_n4 src,dst -j RETURN',
        'COMMIT',
        '*mangle',
        ':kg_kgt_mng - [0:0]',
        '-I PREROUTING 1 -j kg_kgt_mng',
        `-A kg_kgt_mng -m comment --comment "${OWNER_COMMENT}"`,
        '-A kg_kgt_mng -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
        '-A kg_kgt_mng -i lo -j RETURN',
        '-A kg_kgt_mng -i wg0 -j RETURN',
        '-A kg_kgt_mng -m set --match-set kg_kgt_g4 src,dst -j RETURN',
        '-A kg_kgt_mng -m set --match-set kg_kgt_n4 src,dst -j RETURN',
        'COMMIT',
        '*raw',
        ':kg_kgt_pre - [0:0]',
        '-I PREROUTING 1 -j kg_kgt_pre',
        `-A kg_kgt_pre -m comment --comment "${OWNER_COMMENT}"`,
        '-A kg_kgt_pre -p udp -m udp --dport 62201 -j CT --notrack',
        '-A kg_kgt_pre -i lo -j RETURN',
        '-A kg_kgt_pre -i wg0 -j RETURN',
        '-A kg_kgt_pre -p tcp -m tcp --dport 7001 -j CT --notrack',
        'COMMIT',
        '',
      ].join('\n'),
    );
    assert.doesNotMatch(text, /ACCEPT/);
  });

  it('IPv6 matches the IPv6 sets; forward-path ports, when given, are dropped in the forward chain', () => {
    const text = restoreText(names, 6, LAYOUT, NO_JUMPS, [{ proto: 'tcp', port: 8080 }]);
    assert.match(text, /^-A kg_kgt_in -m set --match-set kg_kgt_g6 src,dst -j RETURN$/m);
    assert.match(text, /^-A kg_kgt_in -m set --match-set kg_kgt_n6 src,dst -j RETURN$/m);
    assert.doesNotMatch(text, /_g4|_n4/);
    assert.match(text, /^-A kg_kgt_fwd -p tcp -m tcp --dport 8080 -j DROP$/m);
    assert.doesNotMatch(text, /^-A kg_kgt_in .*--dport 8080/m);
  });

  it('hook: forward ports are dropped in the mangle chain, before any DNAT, after the grants; never on the input path', () => {
    const layout: GateLayout = {
      ...LAYOUT,
      forwardedPorts: [
        { proto: 'tcp', port: 8080 },
        { proto: 'udp', port: 5353 },
        { proto: 'tcp', port: 8080 },
      ],
    };
    for (const family of [4, 6] as const) {
      const lines = restoreText(names, family, layout, NO_JUMPS).split('\n');
      const start = lines.indexOf('*mangle');
      const end = lines.indexOf('COMMIT', start);
      assert.ok(start > lines.indexOf('*filter') && start < lines.indexOf('*raw'), 'a COMMIT of its own');
      assert.deepEqual(lines.slice(start, end + 1), [
        '*mangle',
        ':kg_kgt_mng - [0:0]',
        '-I PREROUTING 1 -j kg_kgt_mng',
        `-A kg_kgt_mng -m comment --comment "${OWNER_COMMENT}"`,
        '-A kg_kgt_mng -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
        '-A kg_kgt_mng -i lo -j RETURN',
        '-A kg_kgt_mng -i wg0 -j RETURN',
        `-A kg_kgt_mng -m set --match-set kg_kgt_g${family} src,dst -j RETURN`,
        `-A kg_kgt_mng -m set --match-set kg_kgt_n${family} src,dst -j RETURN`,
        '-A kg_kgt_mng -p tcp -m tcp --dport 8080 -j DROP',
        '-A kg_kgt_mng -p udp -m udp --dport 5353 -j DROP',
        'COMMIT',
      ]);
      const text = lines.join('\n');
      assert.doesNotMatch(text, /^-A kg_kgt_(in|fwd|pre) .*--dport (8080|5353)/m);
      assert.doesNotMatch(text, /ACCEPT/);
    }
  });

  it('moves jumps an earlier daemon left: each deleted, then one inserted at 1, in the same COMMIT', () => {
    const text = restoreText(names, 4, LAYOUT, { input: 2, forward: 1, mangle: 1, raw: 0 });
    const lines = text.split('\n');
    const at = (l: string): number => lines.indexOf(l);
    assert.equal(lines.filter((l) => l === '-D INPUT -j kg_kgt_in').length, 2);
    assert.ok(at('-D INPUT -j kg_kgt_in') < at('-I INPUT 1 -j kg_kgt_in'));
    assert.ok(at('-D FORWARD -j kg_kgt_fwd') < at('-I FORWARD 1 -j kg_kgt_fwd'));
    assert.ok(at('-D PREROUTING -j kg_kgt_mng') < at('-I PREROUTING 1 -j kg_kgt_mng'));
    assert.ok(at('-I INPUT 1 -j kg_kgt_in') < at('COMMIT'));
    assert.doesNotMatch(text, /-D PREROUTING -j kg_kgt_pre/);
  });

  it('counts only exact jumps, and tells our chain (mark first, or empty) from someone else’s', () => {
    const listing = [
      '-P INPUT ACCEPT',
      '-A INPUT -j kg_kgt_in',
      '-A INPUT -p tcp -j kg_kgt_in',
      '-A INPUT -j kg_kgt_in',
      '',
    ];
    assert.equal(countJumps(listing.join('\n'), 'INPUT', 'kg_kgt_in'), 2);
    assert.equal(chainOwnership('', 'kg_kgt_in'), 'absent');
    assert.equal(chainOwnership('-N kg_kgt_in\n', 'kg_kgt_in'), 'ours');
    assert.equal(
      chainOwnership(
        `-N kg_kgt_in\n-A kg_kgt_in -m comment --comment "${OWNER_COMMENT}"\n-A kg_kgt_in -j RETURN\n`,
        'kg_kgt_in',
      ),
      'ours',
    );
    assert.equal(chainOwnership('-N kg_kgt_in\n-A kg_kgt_in -p tcp -j ACCEPT\n', 'kg_kgt_in'), 'foreign');
  });

  it('--print-ruleset: the three inputs in order, each headed by a remark, with no grant in them', () => {
    const text = iptablesRulesetText('kgt', LAYOUT);
    const ipset = text.indexOf('create kg_kgt_g4');
    const v4 = text.indexOf('--match-set kg_kgt_g4');
    const v6 = text.indexOf('--match-set kg_kgt_g6');
    assert.ok(ipset >= 0 && ipset < v4 && v4 < v6, text);
    assert.doesNotMatch(text, /^add /m);
    for (const line of text.split('\n')) assert.ok(line === '' || /^(#|create |\*|:|-[AID] |COMMIT$)/.test(line), line);
  });
});

describe('firewall: iptables in the configuration', () => {
  const config = (head: string): string =>
    [
      'interfaces: [eth0]',
      head,
      'doors:',
      '  - name: ssh',
      '    sequence: [7001, 7002]',
      '    open: [22/tcp]',
      '',
    ].join('\n');

  it('is accepted, with nft_table naming its chains and sets', () => {
    const c = parseConfigText('/etc/knockgate/knockgate.yaml', config('firewall: iptables\nnft_table: edge'));
    assert.equal(c.firewall, 'iptables');
    assert.equal(c.nftTable, 'edge');
  });

  it('refuses a name too long for the chain and set names it goes into', () => {
    assert.throws(
      () =>
        parseConfigText('/etc/knockgate/knockgate.yaml', config(`firewall: iptables\nnft_table: ${'a'.repeat(21)}`)),
      (e: unknown) => e instanceof ConfigError && e.key === 'nft_table' && /at most 20 characters/.test(e.detail),
    );
    // The same name is fine for nftables.
    parseConfigText('/etc/knockgate/knockgate.yaml', config(`firewall: nftables\nnft_table: ${'a'.repeat(21)}`));
  });

  it('accepts hook: forward, and refuses nat: (port-forwards are the nftables gate’s) saying so', () => {
    const forward = (extra: string[]): string =>
      [
        'interfaces: [eth0]',
        'firewall: iptables',
        'doors:',
        '  - name: web',
        '    sequence: [7001, 7002]',
        '    open: [8080/tcp]',
        ...extra,
        '',
      ].join('\n');
    const c = parseConfigText('/etc/knockgate/knockgate.yaml', forward(['    hook: forward']));
    assert.deepEqual(c.doors[0]?.forward, { nat: null });
    assert.throws(
      () => parseConfigText('/etc/knockgate/knockgate.yaml', forward(['    nat: { to: 198.18.5.2 }'])),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.key === 'doors[0].nat' &&
        /nat: \(a port-forward\) needs firewall: nftables .*firewall: iptables, which guards hook: forward/.test(
          e.detail,
        ),
    );
  });

  it('a door must open a port, as with nftables', () => {
    assert.throws(
      () =>
        parseConfigText(
          '/etc/knockgate/knockgate.yaml',
          [
            'interfaces: [eth0]',
            'firewall: iptables',
            'doors:',
            '  - name: ssh',
            '    sequence: [7001]',
            '    start_command: [/bin/true]',
            '',
          ].join('\n'),
        ),
      (e: unknown) =>
        e instanceof ConfigError && /with firewall: iptables a door must open at least one port/.test(e.detail),
    );
  });
});
