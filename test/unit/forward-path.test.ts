/**
 * The forward path in the configuration and in the nftables batch: `hook: forward` and `nat:`
 * compile into the door's `forward` settings and the gate layout (forwarded ports, port-forwards,
 * never input-protected ports); the rules that refuse a contradictory file fail with exit 78 and
 * `FILE:LINE: KEY:`; installBatch() guards forwarded ports in a prerouting chain before DNAT, adds
 * NAT chains only while there is a port-forward, and deletes them when there is none.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';
import { forwardingWarnings } from '../../src/daemon/forwarding-sysctl.js';
import { gateLayout } from '../../src/daemon/layout.js';
import { NftablesGate } from '../../src/gates/nftables.js';
import { installBatch } from '../../src/gates/nftables-ruleset.js';
import { rulesetText } from '../../src/gates/nftables-ruleset-text.js';
import type { GateLayout } from '../../src/ports/gate.js';

const FILE = '/etc/knockgate/knockgate.yaml';

/** Line 1 interfaces, 2 firewall, 3 doors:, then the doors' lines (line 4 on). */
function config(doors: string[], firewall = 'nftables'): string {
  return ['interfaces: [any]', `firewall: ${firewall}`, 'doors:', ...doors, ''].join('\n');
}

function expectError(text: string, line: number, key: string, detail: RegExp): void {
  let e: unknown;
  try {
    parseConfigText(FILE, text);
  } catch (err) {
    e = err;
  }
  assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
  assert.equal(e.exitCode, 78);
  assert.ok(e.message.startsWith(`${FILE}:${line}: ${key}: `), `message: ${e.message}`);
  assert.match(e.detail, detail);
}

const knockDoor = (name: string, open: string, extra: string[] = [], seq = '[1111, 1112]'): string[] => [
  `  - name: ${name}`,
  `    sequence: ${seq}`,
  `    open: ${open}`,
  ...extra,
];

describe('config: the forward path', () => {
  it('hook: forward puts the door on the forward path; its ports are forwarded, not input-protected', () => {
    const c = parseConfigText(
      FILE,
      config([...knockDoor('lan-web', '[8080/tcp]', ['    hook: forward']), ...knockDoor('ssh', '[22]', [], '[3333]')]),
    );
    assert.deepEqual(c.doors[0]?.forward, { nat: null });
    assert.equal(c.doors[1]?.forward ?? null, null);
    const layout = gateLayout(c, (d) => d.sequence);
    assert.deepEqual(layout.protectedPorts, [{ proto: 'tcp', port: 22 }]);
    assert.deepEqual(layout.forwardedPorts, [{ proto: 'tcp', port: 8080 }]);
    assert.deepEqual(layout.natForwards, []);
  });

  it('nat: forwards each opened port to the inner address, at nat.port or the same port', () => {
    const c = parseConfigText(
      FILE,
      config([
        ...knockDoor('inner-ssh', '[2222/tcp]', ['    nat: { to: 198.18.5.2, port: 22, masquerade: true }']),
        ...knockDoor('inner-v6', '[80, 443]', ['    nat: { to: "2001:db8:5:0::2" }'], '[4444]'),
      ]),
    );
    assert.deepEqual(c.doors[0]?.forward?.nat, { address: '198.18.5.2', family: 4, port: 22, masquerade: true });
    const layout = gateLayout(c, (d) => d.sequence);
    assert.deepEqual(layout.protectedPorts, []);
    assert.deepEqual(layout.natForwards, [
      { from: { proto: 'tcp', port: 2222 }, family: 4, to: '198.18.5.2', toPort: 22, masquerade: true, snatTo: null },
      { from: { proto: 'tcp', port: 80 }, family: 6, to: '2001:db8:5::2', toPort: 80, masquerade: false, snatTo: null },
      {
        from: { proto: 'tcp', port: 443 },
        family: 6,
        to: '2001:db8:5::2',
        toPort: 443,
        masquerade: false,
        snatTo: null,
      },
    ]);
  });

  it('refuses a port guarded on both paths, naming the other door', () => {
    expectError(
      config([...knockDoor('host', '[22]'), ...knockDoor('lan', '[9000, 22]', ['    hook: forward'], '[5555]')]),
      9,
      'doors[1].open[1]',
      /door "host" guards 22\/tcp on the input path .* give them different ports/,
    );
  });

  it('refuses nat.to that is not an IP address, nat.port with several ports, and hook: input with nat', () => {
    expectError(config(knockDoor('a', '[2222]', ['    nat: { to: inner.lan }'])), 7, 'doors[0].nat.to', /IP address/);
    expectError(
      config(knockDoor('a', '[2222, 2223]', ['    nat: { to: 198.18.5.2, port: 22 }'])),
      7,
      'doors[0].nat.port',
      /leave nat.port out/,
    );
    expectError(
      config(knockDoor('a', '[2222]', ['    hook: input', '    nat: { to: 198.18.5.2 }'])),
      7,
      'doors[0].hook',
      /leave hook out or set it to forward/,
    );
  });

  it('refuses the forward path without the nftables gate', () => {
    expectError(
      config(['  - name: a', '    sequence: [1]', '    hook: forward', '    start_command: [/bin/true]'], 'none'),
      6,
      'doors[0].hook',
      /needs firewall: nftables/,
    );
  });
});

type Cmd = Record<string, Record<string, Record<string, unknown>>>;
const TABLE = 'kgtest';
const BASE: GateLayout = { protectedPorts: [], hiddenPorts: [], untrackedUdpPorts: [], exemptInterfaces: ['lan0'] };
const chainOf = (c: Cmd): string | undefined => (c.add?.rule?.chain as string | undefined) ?? undefined;

describe('nftables batch: the forward path', () => {
  it("guards forwarded ports in a prerouting chain at -150, before DNAT, with the input chain's grant sets", () => {
    const cmds = installBatch(TABLE, { ...BASE, forwardedPorts: [{ proto: 'tcp', port: 8080 }] }, []) as Cmd[];
    const chain = cmds.find((c) => c.add?.chain?.name === 'forward_gate')?.add?.chain;
    assert.deepEqual(
      { hook: chain?.hook, prio: chain?.prio, type: chain?.type },
      { hook: 'prerouting', prio: -150, type: 'filter' },
    );
    const rules = cmds.filter((c) => chainOf(c) === 'forward_gate').map((c) => JSON.stringify(c.add?.rule?.expr));
    assert.equal(rules.length, 4);
    assert.match(rules[0] ?? '', /established/);
    assert.match(rules[1] ?? '', /@grants4/);
    assert.match(rules[2] ?? '', /@grants6/);
    assert.match(rules[3] ?? '', /"right":\{"set":\["lo","lan0"\]\}.*@forwarded.*"drop"/);
    assert.deepEqual(cmds.find((c) => c.add?.element?.name === 'forwarded')?.add?.element?.elem, [
      { concat: ['tcp', 8080] },
    ]);
  });

  it('without a port-forward, the NAT chains are added and deleted in the same batch (no NAT hook stays)', () => {
    const cmds = installBatch(TABLE, BASE, []) as Cmd[];
    for (const name of ['nat_prerouting', 'nat_postrouting']) {
      const i = cmds.findIndex((c) => c.add?.chain?.name === name);
      const j = cmds.findIndex((c) => (c.delete?.chain as { name?: string } | undefined)?.name === name);
      assert.ok(i >= 0 && j > i, name);
    }
    assert.ok(!rulesetText(TABLE, BASE).includes('nat_'));
  });

  it('a port-forward DNATs through the NAT maps (granted sources only), and masquerades when asked', () => {
    const layout: GateLayout = {
      ...BASE,
      forwardedPorts: [{ proto: 'tcp', port: 2222 }],
      natForwards: [{ from: { proto: 'tcp', port: 2222 }, family: 4, to: '198.18.5.2', toPort: 22, masquerade: true }],
    };
    const cmds = installBatch(TABLE, layout, []) as Cmd[];
    const pre = cmds.filter((c) => chainOf(c) === 'nat_prerouting').map((c) => c.add?.rule?.expr as unknown[]);
    assert.equal(pre.length, 2);
    assert.match(JSON.stringify(pre[0]?.at(-1)), /"dnat":\{"family":"ip","addr":\{"map".*"@nat4_to".*"@nat4_port"/);
    assert.match(JSON.stringify(pre[1]?.at(-1)), /"dnat":\{"family":"ip6","addr":\{"map".*"@nat6_to".*"@nat6_port"/);
    // The maps hold grants: declared, never flushed by an install.
    assert.ok(cmds.some((c) => c.add?.map?.name === 'nat4_to'));
    assert.ok(!cmds.some((c) => (c.flush?.map as { name?: string } | undefined)?.name !== undefined));
    const post = cmds.filter((c) => chainOf(c) === 'nat_postrouting').map((c) => c.add?.rule?.expr as unknown[]);
    assert.equal(post.length, 1);
    assert.deepEqual(post[0]?.at(-1), { masquerade: null });
    assert.ok(!cmds.some((c) => c.delete?.chain));
    const text = rulesetText(TABLE, layout);
    assert.match(
      text,
      /meta l4proto \{ tcp, udp \} fib daddr type local dnat ip to ip saddr \. meta l4proto \. th dport map @nat4_to:ip saddr \. meta l4proto \. th dport map @nat4_port/,
    );
    assert.match(text, /ct status dnat ip daddr 198\.18\.5\.2 tcp dport 22 masquerade/);
  });
});

/** Records every batch the gate sends; lists no table. */
class Recorder {
  readonly kind = 'worker' as const;
  readonly grantPath = 'worker' as const;
  readonly batches: Record<string, Record<string, { name?: string; elem?: unknown[] }>>[][] = [];
  async apply(commands: readonly unknown[]): Promise<void> {
    this.batches.push(commands as never);
  }
  async listTable(): Promise<string | undefined> {
    return undefined;
  }
  close(): void {}
}

/** `verb name data` per command of a batch, e.g. `add nat4_to 198.18.5.2`, `delete grants4`. */
function summary(batch: Record<string, Record<string, { name?: string; elem?: unknown[] }>>[]): string[] {
  return batch.map((c) => {
    const [verb, body] = Object.entries(c)[0] as [string, Record<string, { name?: string; elem?: unknown[] }>];
    const el = body.element;
    const pair = el?.elem?.[0];
    const data = Array.isArray(pair) ? ` ${String(pair[1])}` : '';
    const timeout = Array.isArray(pair) ? (pair[0] as { elem: { timeout: number } }).elem.timeout : undefined;
    return `${verb} ${el?.name}${data}${timeout !== undefined ? ` t${timeout}` : ''}`;
  });
}

describe('NftablesGate: port-forwarded grants', () => {
  it('sends the port-forward before the grant, keeps it on an extension, moves it, and removes it on revoke', async () => {
    const nft = new Recorder();
    let now = 0;
    const gate = new NftablesGate(TABLE, () => now, nft);
    const ssh = { proto: 'tcp' as const, port: 2222 };
    const req = { source: '198.18.7.2', family: 4 as const, endpoints: [ssh] };
    await gate.grant({ ...req, durationS: 30, nat: { to: '198.19.7.2', port: 22 } });
    assert.deepEqual(summary(nft.batches[0] ?? []), [
      'add nat4_to 198.19.7.2 t30',
      'add nat4_port 22 t30',
      'add grants4',
    ]);
    // An extension that names no port-forward keeps the one the element has, with the new timeout.
    now = 10_000;
    await gate.grant({ ...req, durationS: 60 });
    assert.deepEqual(summary(nft.batches[1] ?? []), [
      'add nat4_to 198.19.7.2 t1',
      'add nat4_port 22 t1',
      'delete nat4_to',
      'delete nat4_port',
      'add nat4_to 198.19.7.2 t60',
      'add nat4_port 22 t60',
      'add grants4',
      'delete grants4',
      'add grants4',
    ]);
    // Another inner host for the same element: the old one is removed first, the grant is not shortened.
    await gate.grant({ ...req, durationS: 5, nat: { to: '198.19.7.3', port: null } });
    const moved = summary(nft.batches[2] ?? []);
    assert.deepEqual(moved.slice(0, 6), [
      'add nat4_to 198.19.7.2 t1',
      'add nat4_port 22 t1',
      'delete nat4_to',
      'delete nat4_port',
      'add nat4_to 198.19.7.3 t60',
      'add nat4_port 2222 t60',
    ]);
    await gate.revoke(req);
    assert.deepEqual(summary(nft.batches[3] ?? []).slice(-4), [
      'add nat4_to 198.19.7.3 t1',
      'add nat4_port 2222 t1',
      'delete nat4_to',
      'delete nat4_port',
    ]);
    // Revoked: a later plain grant is a plain grant again.
    await gate.grant({ ...req, durationS: 30 });
    assert.deepEqual(summary(nft.batches[4] ?? []), ['add grants4']);
  });

  it('a grant to this host (nat: null) moves a forwarded element back: the forward is removed, not re-armed', async () => {
    const nft = new Recorder();
    let now = 0;
    const gate = new NftablesGate(TABLE, () => now, nft);
    const req = { source: '198.18.7.2', family: 4 as const, endpoints: [{ proto: 'tcp' as const, port: 22 }] };
    await gate.grant({ ...req, durationS: 30, nat: { to: '198.19.7.2', port: 22 } });
    now = 1_000;
    await gate.grant({ ...req, durationS: 60, nat: null });
    const back = summary(nft.batches[1] ?? []);
    assert.deepEqual(back.slice(0, 4), [
      'add nat4_to 198.19.7.2 t1',
      'add nat4_port 22 t1',
      'delete nat4_to',
      'delete nat4_port',
    ]);
    assert.ok(!back.slice(4).some((c) => c.includes('nat4')), back.join('; '));
    // The element holds no forward any more: an extension that names none sends no NAT command.
    now = 2_000;
    await gate.grant({ ...req, durationS: 120 });
    assert.ok(!summary(nft.batches[2] ?? []).some((c) => c.includes('nat4')));
  });

  it('at install, a grant forwarded where the configuration no longer forwards is removed with its forward', async () => {
    const listing = {
      nftables: [
        {
          set: {
            name: 'grants4',
            elem: [
              { elem: { val: { concat: ['198.18.7.2', 'tcp', 2222] }, expires: 20 } },
              { elem: { val: { concat: ['198.18.7.3', 'tcp', 2222] }, expires: 20 } },
            ],
          },
        },
        {
          map: { name: 'nat4_to', elem: [[{ elem: { val: { concat: ['198.18.7.2', 'tcp', 2222] } } }, '198.19.7.9']] },
        },
        { map: { name: 'nat4_port', elem: [[{ elem: { val: { concat: ['198.18.7.2', 'tcp', 2222] } } }, 22]] } },
      ],
    };
    const nft = new Recorder();
    nft.listTable = async () => JSON.stringify(listing);
    const gate = new NftablesGate(TABLE, () => 0, nft);
    const layout: GateLayout = {
      ...BASE,
      forwardedPorts: [{ proto: 'tcp', port: 2222 }],
      natForwards: [{ from: { proto: 'tcp', port: 2222 }, family: 4, to: '198.19.7.2', toPort: 22, masquerade: false }],
    };
    const kept = await gate.install(layout);
    assert.deepEqual(
      kept.map((g) => g.source),
      ['198.18.7.3'],
      'the grant forwarded to 198.19.7.9 (no longer configured) is not kept',
    );
    const batch = JSON.stringify(nft.batches[0]);
    assert.match(batch, /"delete":\{"element":\{[^}]*"name":"grants4","elem":\[\{"concat":\["198\.18\.7\.2"/);
    assert.match(batch, /"delete":\{"element":\{[^}]*"name":"nat4_to"/);
  });
});

describe('forwardingWarnings: the kernel must forward what forward-path doors guard', () => {
  const cfg = parseConfigText(
    FILE,
    config([
      ...knockDoor('lan', '[8080/tcp]', ['    hook: forward']),
      ...knockDoor('fwd', '[2222]', ['    nat: { to: 198.18.5.2 }'], '[4444]'),
      ...knockDoor('host', '[22]', [], '[5555]'),
    ]),
  );
  const proc = (v4: string, v6: string | null) => (path: string) => {
    if (path.endsWith('ipv4/ip_forward')) return `${v4}\n`;
    if (v6 === null) throw new Error('ENOENT');
    return `${v6}\n`;
  };

  it('names the sysctl, the family and the doors when forwarding is off', () => {
    const w = forwardingWarnings(cfg, proc('0', '0'));
    assert.equal(w.length, 2);
    assert.match(w[0] ?? '', /^net\.ipv4\.ip_forward is 0: .*doors "lan", "fwd" .*sysctl -w net\.ipv4\.ip_forward=1/);
    assert.match(w[1] ?? '', /^net\.ipv6\.conf\.all\.forwarding is 0: .*door "lan" /);
  });

  it('says nothing when it is on, when IPv6 is absent, or without forward-path doors', () => {
    assert.deepEqual(forwardingWarnings(cfg, proc('1', '1')), []);
    assert.deepEqual(forwardingWarnings(cfg, proc('1', null)), []);
    const plain = parseConfigText(FILE, config(knockDoor('host', '[22]')));
    assert.deepEqual(forwardingWarnings(plain, proc('0', '0')), []);
  });
});
