/**
 * The firewall-log sensors with the iptables gate, on the real kernel: the gate's input chain
 * carries the log rule (`-j LOG --log-prefix P` for kernel-log, `-j NFLOG --nflog-group N` for
 * nflog) for exactly the knock ports, after established sessions and before the drops, so a
 * hidden knock port is logged and then dropped. A sequence door over IPv4 and IPv6 for each:
 * filtered before, open for the knocking client alone after, filtered again after the grant.
 * Kernel-log lines from a namespace need net.netfilter.nf_log_all_netns=1: set and put back.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grantCycle } from '../support/grant-cycle.js';
import { useLogAllNetns } from '../support/nf-log-all-netns.js';
import { type Scenario, useScenario } from '../support/scenario.js';

const SEQUENCE = [5643, 2340, 6543];
const DURATION_S = 3;
const doors = (): string[] => [
  '  - name: ssh',
  `    sequence: [${SEQUENCE.join(', ')}]`,
  '    sequence_timeout: 10s',
  '    open: [22/tcp]',
  `    duration: ${DURATION_S}s`,
];
const table = (s: Scenario): string => `kg${s.tb.id}`;

describe('sensor kernel-log from /dev/kmsg, iptables gate, real kernel', () => {
  const prefix = (s: Scenario): string => `kg${s.tb.id}: `;
  const s = useScenario({
    banner: [22],
    settings: (s) => [
      'firewall: iptables',
      `nft_table: ${table(s)}`,
      `pending_commands: ${JSON.stringify(s.path('pending-commands.json'))}`,
      `sensor: { kernel-log: { prefix: ${JSON.stringify(prefix(s))}, source: kmsg } }`,
    ],
    doors,
  });
  useLogAllNetns();

  it('the input chain logs the knock ports before it drops them, in both families', () => {
    for (const tool of ['iptables', 'ip6tables']) {
      const rules = s.tb.run(s.tb.server.ns, [tool, '-S', `kg_${table(s)}_in`]);
      const log = rules.indexOf(`--dport ${SEQUENCE[0]} -j LOG --log-prefix "${prefix(s)}" --log-tcp-sequence`);
      const drop = rules.indexOf(`--dport ${SEQUENCE[0]} -j DROP`);
      assert.ok(log > 0 && drop > log, `${tool}:\n${rules}`);
    }
  });

  it('a sequence door over IPv4', () => grantCycle(s, 4, SEQUENCE, DURATION_S));
  it('a sequence door over IPv6', () => grantCycle(s, 6, SEQUENCE, DURATION_S));
});

describe('sensor nflog, iptables gate, real kernel', () => {
  const s = useScenario({
    banner: [22],
    settings: (s) => [
      'firewall: iptables',
      `nft_table: ${table(s)}`,
      `pending_commands: ${JSON.stringify(s.path('pending-commands.json'))}`,
      'sensor: { nflog: { group: 23 } }',
    ],
    doors,
  });

  it('the input chain hands the knock ports to NFLOG group 23', () => {
    const rules = s.tb.run(s.tb.server.ns, ['iptables', '-S', `kg_${table(s)}_in`]);
    assert.match(rules, new RegExp(`--dport ${SEQUENCE[1]} -j NFLOG --nflog-group 23`));
  });

  it('a sequence door over IPv4', () => grantCycle(s, 4, SEQUENCE, DURATION_S));
  it('a sequence door over IPv6', () => grantCycle(s, 6, SEQUENCE, DURATION_S));
});
