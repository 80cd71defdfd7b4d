/**
 * `sensor:` from the YAML to the firewall and the daemon: the shapes it takes and its errors
 * (config/schema.ts, config/compile/sensor.ts), the log rule in the layout (daemon/layout.ts) and
 * how both ruleset renderings place it (gates/nftables-ruleset.ts, nftables-ruleset-text.ts), the
 * memory gate's logs(), a sensor change refused by a reload, and the daemon counting a
 * sensor's dropped records by reason (daemon/parsed-sensors.ts).
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';
import { captureSteps, gateLayout } from '../../src/daemon/layout.js';
import { refuseRestartOnlyChanges } from '../../src/daemon/reload-plan.js';
import { MemoryGate } from '../../src/gates/memory.js';
import { installBatch } from '../../src/gates/nftables-ruleset.js';
import { rulesetText } from '../../src/gates/nftables-ruleset-text.js';
import { statsLine } from '../../src/metrics/stats-line.js';
import { daemonHarness } from '../support/daemon-harness.js';

const FILE = '/etc/knockgate/knockgate.yaml';
const lines = (...ls: string[]): string => `${ls.join('\n')}\n`;
const KNOCK_DOOR = ['  - name: ssh', '    sequence: [7000, 8000/udp]', '    open: [22/tcp]'];
const SPA_DOOR = (capture: string) => [
  '  - name: quiet',
  `    spa: { port: 62202${capture} }`,
  '    open: [2222/tcp]',
  '    clients:',
  '      - name: carol',
  '        id: AAAAAAAAAAAAAAAAAAAAAA',
  '        public_key: O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik',
];
const text = (head: string[], doors: string[] = KNOCK_DOOR, iface = '[eth0, eth1]') =>
  lines(`interfaces: ${iface}`, ...head, 'doors:', ...doors);
const load = (yaml: string) => parseConfigText(FILE, yaml);
const noSteps = (d: { sequence: readonly unknown[] | null }) => d.sequence as never;
const steps = (c: ReturnType<typeof load>) => gateLayout(c, (d) => noSteps(d));

function error(yaml: string): ConfigError {
  try {
    load(yaml);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('sensor: the configuration', () => {
  it('is pcap unless given: no log rule, the captures take the knock ports', () => {
    const c = load(text([]));
    assert.deepEqual(c.sensor, { kind: 'pcap' });
    assert.equal(steps(c).knockLog, undefined);
    assert.equal(captureSteps(c, (d) => noSteps(d)).length, 2);
  });

  it('nflog: the group, a log rule for exactly the knock ports on the named interfaces, no capture', () => {
    const c = load(text(['sensor: { nflog: { group: 7 } }']));
    assert.deepEqual(c.sensor, { kind: 'nflog', group: 7 });
    assert.deepEqual(steps(c).knockLog, {
      to: { kind: 'nflog', group: 7 },
      ports: [
        { proto: 'tcp', port: 7000 },
        { proto: 'udp', port: 8000 },
      ],
      interfaces: ['eth0', 'eth1'],
    });
    assert.deepEqual(
      captureSteps(c, (d) => noSteps(d)),
      [],
    );
    const any = load(text(['sensor: { nflog: { group: 7 } }'], KNOCK_DOOR, '[any]'));
    assert.deepEqual(steps(any).knockLog?.interfaces, [], '[any]: every interface');
  });

  it('kernel-log: the prefix defaults to the table name, the source to /dev/kmsg, the log rule to on', () => {
    const c = load(text(['nft_table: kg2', 'sensor: kernel-log']));
    assert.deepEqual(c.sensor, { kind: 'kernel-log', prefix: 'kg2: ', source: { kind: 'kmsg' }, logRule: true });
    assert.deepEqual(steps(c).knockLog?.to, { kind: 'prefix', prefix: 'kg2: ' });
  });

  it('kernel-log from a file: the path made absolute, and a warning that its lines are trusted', () => {
    const c = load(text(['sensor: { kernel-log: { prefix: "kg ", source: { file: logs/kern.log } } }']));
    assert.deepEqual(c.sensor.kind === 'kernel-log' && c.sensor.source, {
      kind: 'file',
      path: '/etc/knockgate/logs/kern.log',
    });
    assert.ok(c.warnings.some((w) => /trusted as the kernel's/.test(w)));
  });

  it("kernel-log with log_rule: false: no rule of knockgate's, and a warning about the hidden knock ports", () => {
    const c = load(text(['sensor: { kernel-log: { prefix: "kg ", source: journal, log_rule: false } }']));
    assert.equal(steps(c).knockLog, undefined);
    assert.ok(c.warnings.some((w) => /must run before knockgate's input chain/.test(w)));
  });

  it('with firewall: none, nflog warns that the ruleset must log the knock ports itself', () => {
    const c = load(
      text(
        ['firewall: none', 'sensor: { nflog: { group: 3 } }'],
        ['  - name: ssh', '    sequence: [7000]', '    start_command: [/bin/true]'],
      ),
    );
    assert.ok(c.warnings.some((w) => /log group 3/.test(w)));
  });

  it('kernel-log refuses an SPA door read by capture (log lines carry no payload), accepts one with its own socket', () => {
    const spaHead = ['sensor: kernel-log', 'spa: { server_key: /etc/knockgate/server.key }'];
    const e = error(text(spaHead, SPA_DOOR(', capture: pcap')));
    assert.equal(e.key, 'doors[0].spa.capture');
    assert.equal(e.line, 6);
    assert.match(e.detail, /sees no payload.*capture: socket/);
    const fwknop = error(
      text(
        ['sensor: kernel-log'],
        ['  - name: fw', '    fwknop: { port: 62201 }', '    open: [22/tcp]', '    stanzas: [{ source: ANY, key: k }]'],
      ),
    );
    assert.equal(fwknop.key, 'doors[0].fwknop.capture', 'fwknop reads by capture unless told');
    assert.equal(load(text(spaHead, SPA_DOOR(''))).sensor.kind, 'kernel-log');
  });

  it('refuses a group out of range, nflog without a group, a prefix nft cannot quote, an unknown source', () => {
    for (const bad of [
      'sensor: { nflog: { group: 70000 } }',
      'sensor: nflog',
      'sensor: { kernel-log: { prefix: "a\\"b" } }',
      'sensor: { kernel-log: { source: syslog } }',
      'sensor: { pcap: {} }',
    ]) {
      const e = error(text([bad]));
      assert.equal(e.line, 2, bad);
      assert.match(e.key ?? '', /^sensor/, bad);
    }
    assert.match(error(text(['sensor: nflog'])).detail, /\{ nflog: \{ group: N \} \}/);
  });

  it('a reload that changes the sensor is refused (it takes a restart)', () => {
    const a = load(text([]));
    const b = load(text(['sensor: { nflog: { group: 7 } }']));
    assert.throws(() => refuseRestartOnlyChanges(a, b), /sensor changed; it takes a restart/);
  });
});

describe('sensor: the log rule in the firewall', () => {
  const layout = steps(load(text(['sensor: { nflog: { group: 7 } }'])));

  it('installBatch logs the knock ports after the established accept and before every drop', () => {
    const cmds = installBatch('kg', layout, []);
    const rules = cmds.flatMap((c) => {
      const r = (c as { add?: { rule?: { chain: string; expr: unknown[] } } }).add?.rule;
      return r?.chain === 'input' ? [JSON.stringify(r.expr)] : [];
    });
    const log = rules.findIndex((r) => r.includes('"log":{"group":7}'));
    assert.equal(log, 1, rules.join('\n'));
    assert.match(rules[log] as string, /"iifname"\}\},"right":\{"set":\["eth0","eth1"\]\}/);
    assert.match(rules[log] as string, /@knocklog/);
    assert.ok(rules.findIndex((r) => r.includes('"drop"')) > log);
    const elements = cmds.find(
      (c) => (c as { add?: { element?: { name: string } } }).add?.element?.name === 'knocklog',
    );
    assert.ok(elements, 'the knock ports are the set');
  });

  it('--print-ruleset prints the same rule in nft syntax; a prefix with flags tcp sequence', () => {
    assert.match(
      rulesetText('kg', layout),
      /\n\t\tct state established,related accept\n\t\tiifname \{ "eth0", "eth1" \} meta l4proto \. th dport @knocklog log group 7\n/,
    );
    assert.match(
      rulesetText('kg', layout),
      /set knocklog \{\n\t\ttype inet_proto \. inet_service\n\t\telements = \{ tcp \. 7000, udp \. 8000 \}/,
    );
    const prefixed = steps(load(text(['sensor: { kernel-log: { prefix: "kg: " } }'], KNOCK_DOOR, '[any]')));
    assert.match(
      rulesetText('kg', prefixed),
      /\n\t\tmeta l4proto \. th dport @knocklog log prefix "kg: " flags tcp sequence\n/,
    );
    assert.doesNotMatch(rulesetText('kg', steps(load(text([])))), /knocklog/, 'pcap: no log rule, no set');
  });

  it('the memory gate logs only the knock ports, only on the rule interfaces', async () => {
    const gate = new MemoryGate(() => 0);
    await gate.install(layout);
    assert.equal(gate.logs({ proto: 'tcp', port: 7000 }, 'eth0'), true);
    assert.equal(gate.logs({ proto: 'udp', port: 8000 }, 'eth1'), true);
    assert.equal(gate.logs({ proto: 'tcp', port: 7000 }, 'eth2'), false, 'not an interface of the rule');
    assert.equal(gate.logs({ proto: 'tcp', port: 22 }, 'eth0'), false, 'not a knock port');
    await gate.install(steps(load(text([]))));
    assert.equal(gate.logs({ proto: 'tcp', port: 7000 }, 'eth0'), false, 'pcap: nothing is logged');
  });
});

describe('sensor: the daemon counts what a sensor drops, by reason', () => {
  it('counts, logs (rate-limited) and reports each reason; a parsed knock still opens the door', async () => {
    const h = await daemonHarness(lines('interfaces: [any]', 'doors:', ...KNOCK_DOOR));
    await h.daemon.start();
    h.parsed.injectDropped('log-line-malformed');
    h.parsed.injectDropped('log-line-malformed');
    h.parsed.injectDropped('nflog-truncated');
    h.parsed.lost = 5;
    const stats = statsLine(h.metrics.snapshot());
    assert.equal(stats['sensor_dropped_log-line-malformed'], 2);
    assert.equal(stats['sensor_dropped_nflog-truncated'], 1);
    assert.equal(stats.sensor_received, 3);
    assert.equal(stats.sensor_lost, 5);
    assert.deepEqual(
      new Set(h.events('sensor-record-dropped').map((l) => l.fields.reason)),
      new Set(['log-line-malformed', 'nflog-truncated']),
    );
    const knock = (proto: 'tcp' | 'udp', port: number) =>
      h.parsed.inject({
        family: 6,
        src: '2001:db8::7',
        dst: '2001:db8::1',
        proto,
        sport: 40_000 + port,
        dport: port,
        tcpFlags: proto === 'tcp' ? 0x02 : 0,
        tcpSeq: 0,
        payload: new Uint8Array(0),
      });
    knock('tcp', 7000);
    knock('udp', 8000);
    await h.settle();
    assert.equal(h.gate.admits('2001:db8::7', { proto: 'tcp', port: 22 }), true);
    await h.daemon.stop();
  });
});

describe('sensor kernel-log with the iptables gate', () => {
  it("refuses a prefix longer than iptables' LOG target takes (29 bytes), naming the key", () => {
    const long = 'a-prefix-of-thirty-bytes-long: ';
    const e = error(text(['firewall: iptables', `sensor: { kernel-log: { prefix: "${long}" } }`]));
    assert.match(e.message, /:3: sensor\.kernel-log\.prefix: iptables' LOG target takes a prefix of at most 29 bytes/);
    assert.equal(e.exitCode, 78);
    // The same prefix is fine with nftables (up to 64 bytes), and a short one with iptables.
    load(text(['firewall: nftables', `sensor: { kernel-log: { prefix: "${long}" } }`]));
    load(text(['firewall: iptables', 'sensor: { kernel-log: { prefix: "kg: " } }']));
  });
});

describe('sensor kernel-log and net.netfilter.nf_log_all_netns', () => {
  it("warns when the kernel log carries every namespace's lines, and only for kernel-log", async () => {
    const { logNetnsWarnings } = await import('../../src/daemon/log-netns-sysctl.js');
    const kernelLog = load(text(['sensor: kernel-log']));
    assert.match(
      logNetnsWarnings(kernelLog, () => '1\n')[0] ?? '',
      /nf_log_all_netns is 1: .*forge knocks.*sensor nflog/,
    );
    assert.deepEqual(
      logNetnsWarnings(kernelLog, () => '0\n'),
      [],
    );
    assert.deepEqual(
      logNetnsWarnings(load(text(['sensor: { nflog: { group: 3 } }'])), () => '1\n'),
      [],
    );
  });
});
