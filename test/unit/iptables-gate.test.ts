/**
 * The iptables gate (src/gates/iptables.ts) against a fake kernel that keeps ipset entries and
 * records every program run: what it hands ipset and iptables-restore, a knock never shortening a
 * grant, entries adopted at install, stale ones removed, a foreign chain refused, and a refused
 * batch failing only the grant at fault. The real kernel is in test/integration/iptables-*.test.ts.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KnockgateError } from '../../src/core/errors.js';
import type { GateLayout } from '../../src/ports/gate.js';
import { IptablesGate } from '../../src/gates/iptables.js';
import type { IptablesExecutor, IptablesProgram, RunResult } from '../../src/gates/iptables-runner.js';

const LAYOUT: GateLayout = {
  protectedPorts: [{ proto: 'tcp', port: 22 }],
  hiddenPorts: [],
  untrackedUdpPorts: [],
  exemptInterfaces: [],
};
const ssh = [{ proto: 'tcp', port: 22 }] as const;

/** ipset entries as `set element` → seconds; chains as `iptables -S` text; every run recorded. */
class FakeKernel implements IptablesExecutor {
  readonly entries = new Map<string, number>();
  readonly runs: { program: IptablesProgram; args: readonly string[]; input?: string }[] = [];
  chains = new Map<string, string>();
  /** An element whose `add` ipset refuses (and stops there, as ipset restore does). */
  refuse: string | null = null;

  async run(program: IptablesProgram, args: readonly string[], input?: string): Promise<RunResult> {
    this.runs.push({ program, args, input });
    const ok = (stdout = ''): RunResult => ({ stdout, stderr: '', code: 0 });
    if (program === 'ipset' && args[0] === 'list') {
      const set = args[3] as string;
      const lines = [...this.entries].filter(([k]) => k.startsWith(`${set} `)).map(([k, t]) => `add ${k} timeout ${t}`);
      return ok(`create ${set} hash:ip,port family inet\n${lines.join('\n')}\n`);
    }
    if (program === 'ipset') {
      for (const line of (input ?? '').split('\n')) {
        const w = line.split(' ');
        if (w[0] === 'add') {
          if (w[2] === this.refuse)
            return { stdout: '', stderr: 'ipset v7.17: Error in line 1: Hash is full', code: 1 };
          this.entries.set(`${w[1]} ${w[2]}`, Number(w[4]));
        } else if (w[0] === 'del') this.entries.delete(`${w[1]} ${w[2]}`);
      }
      return ok();
    }
    if (program === 'iptables' || program === 'ip6tables') {
      const text = this.chains.get(`${program} ${args[args.length - 1]}`);
      return text === undefined ? { stdout: '', stderr: 'No chain/target/match by that name.', code: 1 } : ok(text);
    }
    return ok();
  }
  inputsOf(program: IptablesProgram): string[] {
    return this.runs.filter((r) => r.program === program && r.input !== undefined).map((r) => r.input as string);
  }
}

function gateWith(kernel: FakeKernel, now: { ms: number }): IptablesGate {
  return new IptablesGate('t', () => now.ms, kernel);
}

describe('iptables gate', () => {
  it('install creates the sets, then replaces both families’ chains through their restore programs', async () => {
    const k = new FakeKernel();
    await gateWith(k, { ms: 0 }).install(LAYOUT);
    assert.match(k.inputsOf('ipset')[0] ?? '', /^create kg_t_g4 hash:ip,port family inet timeout 0/);
    assert.equal(k.inputsOf('iptables-restore').length, 1);
    assert.equal(k.inputsOf('ip6tables-restore').length, 1);
    assert.deepEqual(
      k.runs.filter((r) => r.program === 'iptables-restore').map((r) => r.args),
      [['--noflush', '-w', '5']],
    );
    assert.match(k.inputsOf('ip6tables-restore')[0] ?? '', /--match-set kg_t_g6 src,dst -j RETURN/);
  });

  it('a knock never shortens a grant, and knocking again only moves the one entry’s timeout', async () => {
    const k = new FakeKernel();
    const now = { ms: 0 };
    const gate = gateWith(k, now);
    await gate.install(LAYOUT);
    await gate.grant({ source: '198.18.1.2', family: 4, endpoints: ssh, durationS: 60 });
    await gate.grant({ source: '198.18.1.2', family: 4, endpoints: ssh, durationS: 10 });
    assert.equal(k.entries.get('kg_t_g4 198.18.1.2,tcp:22'), 60, 'the shorter knock sent nothing');
    now.ms = 55_000;
    await gate.grant({ source: '198.18.1.2', family: 4, endpoints: ssh, durationS: 10 });
    assert.equal(k.entries.get('kg_t_g4 198.18.1.2,tcp:22'), 10, '10 s from now outlasts the 5 s left');
    assert.equal(k.entries.size, 1);
    const adds = k.inputsOf('ipset').filter((t) => t.startsWith('add '));
    assert.deepEqual(adds, [
      'add kg_t_g4 198.18.1.2,tcp:22 timeout 60\n',
      'add kg_t_g4 198.18.1.2,tcp:22 timeout 10\n',
    ]);
  });

  it('install adopts live entries (a restarted daemon does not shorten them) and removes those of ports no longer protected', async () => {
    const k = new FakeKernel();
    k.entries.set('kg_t_g4 198.18.1.2,tcp:22', 50);
    k.entries.set('kg_t_g4 198.18.1.2,tcp:2222', 50);
    const gate = gateWith(k, { ms: 0 });
    const kept = await gate.install(LAYOUT);
    assert.deepEqual(kept, [{ source: '198.18.1.2', family: 4, endpoint: { proto: 'tcp', port: 22 }, expiresInS: 50 }]);
    assert.deepEqual([...k.entries.keys()], ['kg_t_g4 198.18.1.2,tcp:22']);
    await gate.grant({ source: '198.18.1.2', family: 4, endpoints: ssh, durationS: 30 });
    assert.equal(k.entries.get('kg_t_g4 198.18.1.2,tcp:22'), 50);
  });

  it('install keeps the grants of forwarded ports (hook: forward) at a restart, and drops those ports in the mangle chain', async () => {
    const k = new FakeKernel();
    k.entries.set('kg_t_g4 198.18.1.2,tcp:8080', 40);
    k.entries.set('kg_t_g6 2001:db8::2,tcp:8080', 40);
    k.entries.set('kg_t_g4 198.18.1.2,tcp:8081', 40);
    const layout: GateLayout = { ...LAYOUT, forwardedPorts: [{ proto: 'tcp', port: 8080 }] };
    const kept = await gateWith(k, { ms: 0 }).install(layout);
    assert.deepEqual(
      kept.map((g) => `${g.source},${g.endpoint.port}`),
      ['198.18.1.2,8080', '2001:db8::2,8080'],
    );
    assert.deepEqual([...k.entries.keys()], ['kg_t_g4 198.18.1.2,tcp:8080', 'kg_t_g6 2001:db8::2,tcp:8080']);
    for (const program of ['iptables-restore', 'ip6tables-restore'] as const)
      assert.match(
        k.inputsOf(program)[0] ?? '',
        /^\*mangle\n:kg_t_mng - \[0:0\]\n-I PREROUTING 1 -j kg_t_mng\n(-A kg_t_mng .*\n)*-A kg_t_mng -p tcp -m tcp --dport 8080 -j DROP\nCOMMIT$/m,
      );

    const foreign = new FakeKernel();
    foreign.chains.set('iptables kg_t_mng', '-N kg_t_mng\n-A kg_t_mng -j MARK --set-mark 1\n');
    await assert.rejects(
      gateWith(foreign, { ms: 0 }).install(layout),
      (e: unknown) =>
        e instanceof KnockgateError && /chain kg_t_mng \(table mangle\) that knockgate did not make/.test(e.message),
    );
    assert.equal(foreign.inputsOf('iptables-restore').length, 0, 'nothing was replaced');
  });

  it('prefix grants go in the net set; revoke deletes whether or not this process made the entry', async () => {
    const k = new FakeKernel();
    const gate = gateWith(k, { ms: 0 });
    await gate.install(LAYOUT);
    await gate.grant({ source: '2001:db8:5::/48', family: 6, endpoints: ssh, durationS: 30 });
    assert.equal(k.entries.get('kg_t_n6 2001:db8:5::/48,tcp:22'), 30);
    k.entries.set('kg_t_g4 198.18.9.9,tcp:22', 30);
    await gate.revoke({ source: '198.18.9.9', family: 4, endpoints: ssh });
    await gate.revoke({ source: '2001:db8:5::/48', family: 6, endpoints: ssh });
    assert.equal(k.entries.size, 0);
  });

  it('moves the jumps a previous daemon left and refuses a chain of its name that someone else made', async () => {
    const k = new FakeKernel();
    k.chains.set('iptables INPUT', '-P INPUT ACCEPT\n-A INPUT -p tcp --dport 80 -j ACCEPT\n-A INPUT -j kg_t_in\n');
    await gateWith(k, { ms: 0 }).install(LAYOUT);
    const text = k.inputsOf('iptables-restore')[0] ?? '';
    assert.match(text, /^-D INPUT -j kg_t_in\n-I INPUT 1 -j kg_t_in$/m);
    assert.doesNotMatch(k.inputsOf('ip6tables-restore')[0] ?? '', /-D INPUT/);

    const foreign = new FakeKernel();
    foreign.chains.set('ip6tables kg_t_in', '-N kg_t_in\n-A kg_t_in -j ACCEPT\n');
    await assert.rejects(
      gateWith(foreign, { ms: 0 }).install(LAYOUT),
      (e: unknown) => e instanceof KnockgateError && /chain kg_t_in .* knockgate did not make/.test(e.message),
    );
    assert.equal(foreign.inputsOf('iptables-restore').length, 0, 'nothing was replaced');
  });

  it('a refused batch fails only the grant at fault', async () => {
    const k = new FakeKernel();
    const gate = gateWith(k, { ms: 0 });
    await gate.install(LAYOUT);
    k.refuse = '198.18.1.3,tcp:22';
    const outcomes = await Promise.allSettled(
      ['198.18.1.2', '198.18.1.3', '198.18.1.4'].map((source) =>
        gate.grant({ source, family: 4, endpoints: ssh, durationS: 30 }),
      ),
    );
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.deepEqual([...k.entries.keys()].sort(), ['kg_t_g4 198.18.1.2,tcp:22', 'kg_t_g4 198.18.1.4,tcp:22']);
  });
});
