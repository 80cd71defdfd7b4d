/**
 * The NFLOG sensor end to end on the real kernel: knockgated in a server namespace with
 * `sensor: { nflog: { group: N } }`, its own table logging exactly the knock ports to the group
 * (before the hidden-port drop), libpcap reading nflog:N; a sequence door over IPv4 and over IPv6
 * and an SPA door read by capture. Asserted: what a client and a scanner observe (filtered before,
 * open for the knocking source alone after, filtered again after the grant), the rule in the
 * table, and a clear error when another listener already holds the group.
 */

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BUILD_ROOT, KNOCKGATE, KNOCKGATED, probe, sleep, writeConfig } from '../support/daemon-process.js';
import { grantCycle } from '../support/grant-cycle.js';
import { printedAndInstalled } from '../support/printed-ruleset.js';
import { useScenario } from '../support/scenario.js';

const SEQUENCE = [5643, 2340, 6543];
const DURATION_S = 3;
const GROUP = 23;
const HOLDER = join(BUILD_ROOT, 'test', 'support', 'nflog-holder.js');

describe('sensor nflog, nftables gate, real kernel', () => {
  const s = useScenario({
    banner: [22, 2222],
    serverKey: true,
    clients: { carol: ['--door', 'quiet', '--port', '62202'] },
    replayJournal: true,
    interfaces: ({ tb }) => [tb.server.clientSide.ifname, tb.server.otherSide.ifname],
    settings: () => ['firewall: nftables', `sensor: { nflog: { group: ${GROUP} } }`],
    doors: ({ clientEntry }) => [
      '  - name: ssh',
      `    sequence: [${SEQUENCE.join(', ')}]`,
      '    sequence_timeout: 10s',
      '    open: [22/tcp]',
      `    duration: ${DURATION_S}s`,
      '  - name: quiet',
      '    spa: { port: 62202, capture: pcap }',
      '    open: [2222/tcp]',
      `    duration: ${DURATION_S}s`,
      '    clients:',
      ...clientEntry('carol'),
    ],
  });
  const { tb, daemon } = s;

  it('reads nflog:N and no capture; the table logs exactly the knock ports on the named interfaces, before the drops', async () => {
    const ready = await daemon.waitFor((l) => l.event === 'ready');
    assert.deepEqual(ready.captures, [`nflog:${GROUP}`]);
    const table = tb.run(tb.server.ns, ['nft', 'list', 'table', 'inet', 'knockgate']);
    const rules = table.split('\n').map((l) => l.trim());
    const log = rules.findIndex((l) => l.endsWith(`@knocklog log group ${GROUP}`));
    assert.ok(log >= 0, table);
    assert.match(
      rules[log] as string,
      new RegExp(
        `^iifname \\{ "${tb.server.clientSide.ifname}", "${tb.server.otherSide.ifname}" \\}|^iifname \\{ "${tb.server.otherSide.ifname}", "${tb.server.clientSide.ifname}" \\}`,
      ),
    );
    assert.ok(
      log < rules.findIndex((l) => l.includes('@hidden counter')),
      'the log rule comes before the hidden-port drop',
    );
    const set = /set knocklog \{[^}]*elements = \{ ([^}]*) \}/s.exec(table)?.[1] ?? '';
    assert.deepEqual(
      set
        .split(',')
        .map((e) => e.trim())
        .sort(),
      [...SEQUENCE.map((p) => `tcp . ${p}`), 'udp . 62202'].sort(),
    );
  });

  it('--print-ruleset prints the log rule the daemon installs: the kernel lists both the same', () => {
    const { printed, installed } = printedAndInstalled(s);
    assert.equal(printed, installed);
  });

  const cycle = (family: 4 | 6) => () => grantCycle(s, family, SEQUENCE, DURATION_S);

  it('a sequence door over IPv4: filtered, open for the knocking client alone, filtered again', cycle(4));
  it('a sequence door over IPv6: filtered, open for the knocking client alone, filtered again', cycle(6));

  it('an SPA door read by capture: the datagram comes through the group and opens its port', async () => {
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 2222).outcome, 'timeout');
    tb.run(tb.client.ns, [process.execPath, KNOCKGATE, 'knock', tb.server.clientSide.v6, '-c', s.cred('carol')]);
    const grant = await daemon.waitFor((l) => l.event === 'grant' && l.client === 'carol', 5000, 'the SPA grant');
    assert.equal(grant.source, tb.client.v6);
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v6, 2222).outcome, 'open');
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v6, 2222).outcome, 'timeout');
  });

  it('fails at start with KG_CAPTURE_FAILED, saying so, when another listener holds the group, and changes no rule', async () => {
    const held = GROUP + 1;
    const holder = tb.start(tb.server.ns, [process.execPath, HOLDER, String(held)]);
    holder.stdout?.setEncoding('utf8');
    await once(holder.stdout as NodeJS.ReadableStream, 'data');
    const config = writeConfig(
      [
        'interfaces: [any]',
        'nft_table: kg_held',
        `sensor: { nflog: { group: ${held} } }`,
        'doors:',
        '  - name: held',
        '    sequence: [7001, 7002]',
        '    open: [2222/tcp]',
        '',
      ].join('\n'),
    );
    const child = tb.start(tb.server.ns, [process.execPath, KNOCKGATED, '-c', config]);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.stdout?.resume();
    const [code] = (await Promise.race([once(child, 'exit'), sleep(15_000).then(() => ['running'])])) as [unknown];
    assert.equal(code, 69, stderr);
    assert.match(stderr, /\[KG_CAPTURE_FAILED\]/);
    assert.match(stderr, new RegExp(`NFLOG group ${held} is already bound by another listener`));
    const tables = tb.run(tb.server.ns, ['nft', 'list', 'tables']);
    assert.ok(!tables.includes('kg_held'), 'nothing was installed');
    process.kill(holder.pid as number, 'SIGKILL');
  });
});
