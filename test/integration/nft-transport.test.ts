/**
 * How grants reach the kernel, on the real kernel: through the long-lived libnftables worker
 * (knockgate-nft), which is restarted when it dies and ends with the daemon, or, when asked
 * (KNOCKGATE_NFT=spawn), through one nft(8) per batch. And a SYN flood at hidden knock ports
 * leaves nothing in connection tracking (they are notrack'ed at raw priority, then dropped).
 * Grants take the element path (native/nft-elements.c), in the daemon's own process
 * (nft-elements.node) or, with KNOCKGATE_NFT=worker, in the worker, and leave exactly the elements
 * that libnftables leaves for the same JSON.
 */

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { knock, probe, sleep, type DaemonHandle } from '../support/daemon-process.js';
import { elementRequest } from '../../src/gates/nft-element-request.js';
import { defaultWorkerPath } from '../../src/gates/nft-worker.js';
import { installBatch, setGrantCommands, type NftCommand } from '../../src/gates/nftables-ruleset.js';
import { alive } from '../support/process-alive.js';
import { useScenario } from '../support/scenario.js';

const SEQUENCE = [7101, 7102, 7103];

/** PIDs of `name` processes whose parent is `ppid`, from /proc. */
function childrenNamed(ppid: number, name: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (comm === name && parent === ppid) found.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return found;
}

describe('firewall transport', () => {
  const s = useScenario({
    banner: [22, 2222],
    interfaces: ({ tb }) => [tb.server.clientSide.ifname],
    doors: () => ['  - name: ssh', `    sequence: [${SEQUENCE.join(', ')}]`, '    open: [22/tcp]', '    duration: 30s'],
    start: false,
  });
  const { tb } = s;
  const grants = (): string => tb.run(tb.server.ns, ['nft', 'list', 'set', 'inet', 'knockgate', 'grants4']);
  const flush = (): void => void tb.run(tb.server.ns, ['nft', 'flush', 'set', 'inet', 'knockgate', 'grants4']);

  it('with KNOCKGATE_NFT=worker, grants go through the libnftables worker; a killed worker is replaced; the worker ends with the daemon', async () => {
    process.env.KNOCKGATE_NFT = 'worker';
    let daemon: DaemonHandle;
    try {
      daemon = await s.start();
    } finally {
      delete process.env.KNOCKGATE_NFT;
    }
    const installed = await daemon.waitFor((l) => l.event === 'firewall-installed');
    assert.equal(installed.transport, 'worker');
    assert.equal(installed.grant_path, 'worker');
    const [first, ...more] = childrenNamed(daemon.pid, 'knockgate-nft');
    assert.ok(first !== undefined && more.length === 0, 'one worker, a child of the daemon');

    process.kill(first, 'SIGKILL');
    await sleep(200);
    knock(tb, tb.client.ns, tb.server.clientSide.v4, SEQUENCE);
    await daemon.waitFor(
      (l) => l.event === 'grant' && l.verdict === 'opened',
      5000,
      'a grant after the worker was killed',
    );
    assert.match(grants(), new RegExp(tb.client.v4.replaceAll('.', '\\.')));
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open');
    const [second] = childrenNamed(daemon.pid, 'knockgate-nft');
    assert.ok(second !== undefined && second !== first, 'a new worker took over');

    process.kill(daemon.pid, 'SIGKILL');
    await daemon.exited();
    const deadline = Date.now() + 3000;
    while (alive(second) && Date.now() < deadline) await sleep(50);
    assert.equal(alive(second), false, 'the worker exits when the daemon is gone (end of its input)');
    flush();
  });

  it("the element path, in the worker and in the daemon's own process, leaves the same grant elements as libnftables, and is as atomic", () => {
    const worker = defaultWorkerPath();
    assert.ok(worker !== undefined, 'npm run build has built the worker');
    const layout = {
      protectedPorts: [{ proto: 'tcp' as const, port: 22 }],
      hiddenPorts: [],
      untrackedUdpPorts: [],
      exemptInterfaces: [],
    };
    const grants: [string, 4 | 6, 'tcp' | 'udp', number, number, boolean][] = [
      ['198.18.7.1', 4, 'tcp', 22, 30, false],
      ['198.18.8.0/24', 4, 'tcp', 22, 60, false],
      ['198.18.7.1', 4, 'tcp', 22, 90, true], // a refresh: add, delete, add
      ['198.18.7.9', 4, 'udp', 62201, 45, false],
      ['2001:db8::1', 6, 'tcp', 22, 30, false],
      ['2001:db8:ffff::/48', 6, 'tcp', 443, 120, false],
    ];
    const frames: string[] = [];
    const frame = (body: string): void => void frames.push(`${Buffer.byteLength(body)}\n${body}`);
    const requests: { table: string; fast: boolean }[] = [];
    /** The element requests for table kgaddon, applied below in one process through the addon. */
    const inProcess: string[] = [];
    for (const [table, fast] of [
      ['kgfast', true],
      ['kgjson', false],
      ['kgaddon', true],
    ] as const) {
      frame(JSON.stringify({ nftables: installBatch(table, layout, []) }));
      requests.push({ table, fast: false });
      const batches: NftCommand[][] = grants.map(([src, f, proto, port, s, mayExist]) =>
        setGrantCommands(table, src, f, { proto, port }, s, mayExist),
      );
      // One batch the kernel must refuse whole: a new grant, then an address inside the live /24.
      batches.push([
        ...setGrantCommands(table, '198.18.7.200', 4, { proto: 'tcp', port: 22 }, 30, false),
        ...setGrantCommands(table, '198.18.8.5', 4, { proto: 'tcp', port: 22 }, 30, false),
      ]);
      for (const cmds of batches) {
        const fastRequest = elementRequest(cmds);
        assert.ok(fastRequest !== null, 'grant batches have an element request');
        if (table === 'kgaddon') inProcess.push(fastRequest);
        else {
          frame(fast ? fastRequest : JSON.stringify({ nftables: cmds }));
          requests.push({ table, fast });
        }
      }
    }
    const out = tb.run(tb.server.ns, [worker], frames.join(''));
    // The daemon's own path: the same requests through nft-elements.node, in one process.
    const applyAll = [
      'const { loadElementBinding } = await import(process.argv[1]);',
      'const b = loadElementBinding();',
      "if (b === null) throw new Error('nft-elements.node did not load');",
      "let input = ''; for await (const c of process.stdin) input += c;",
      'process.stdout.write(JSON.stringify(JSON.parse(input).map((r) => b.apply(Buffer.from(r)))));',
    ].join('\n');
    const binding = new URL('../../src/gates/nft-element-binding.js', import.meta.url).href;
    const addonAnswers = JSON.parse(
      tb.run(
        tb.server.ns,
        [process.execPath, '--input-type=module', '-e', applyAll, binding],
        JSON.stringify(inProcess),
      ),
    ) as (string | null)[];
    const answers: { status: string; body: string }[] = [];
    for (let rest = Buffer.from(out); rest.length > 0; ) {
      const nl = rest.indexOf(10);
      const [status, length] = rest.subarray(0, nl).toString().split(' ');
      answers.push({ status: status as string, body: rest.subarray(nl + 1, nl + 1 + Number(length)).toString() });
      rest = rest.subarray(nl + 1 + Number(length));
    }
    assert.equal(answers.length, requests.length);
    const statuses = (table: string): string[] =>
      answers.filter((_, i) => requests[i]?.table === table).map((a) => a.status);
    assert.deepEqual(statuses('kgfast'), statuses('kgjson'));
    assert.deepEqual(
      statuses('kgfast'),
      ['0', '0', '0', '0', '0', '0', '0', '1'],
      'only the overlapping batch is refused',
    );
    assert.match(answers[7]?.body ?? '', /File exists/);
    assert.deepEqual(
      addonAnswers.map((a) => (a === null ? '0' : '1')),
      statuses('kgjson').slice(1),
      'in-process: the same batches applied and refused',
    );
    assert.match(addonAnswers[6] ?? '', /File exists/);
    const elements = (table: string, set: string): unknown[] => {
      const listing = JSON.parse(tb.run(tb.server.ns, ['nft', '-j', 'list', 'set', 'inet', table, set])) as {
        nftables: { set?: { elem?: { elem: { expires?: number } }[] } }[];
      };
      const elems = listing.nftables.find((i) => i.set)?.set?.elem ?? [];
      return elems
        .map((e) => ({ ...e.elem, expires: undefined }))
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    };
    for (const set of ['grants4', 'grants6']) {
      assert.deepEqual(elements('kgfast', set), elements('kgjson', set), set);
      assert.deepEqual(elements('kgaddon', set), elements('kgjson', set), `${set}, in-process`);
    }
    const v4 = JSON.stringify(elements('kgfast', 'grants4'));
    assert.match(v4, /"198\.18\.7\.1","tcp",22\]\},"timeout":90/, 'the refresh set the new timeout');
    assert.doesNotMatch(v4, /198\.18\.7\.200/, 'nothing of the refused batch was applied');
    assert.equal(elements('kgfast', 'grants6').length, 2);
    for (const table of ['kgfast', 'kgjson', 'kgaddon'])
      tb.run(tb.server.ns, ['nft', 'delete', 'table', 'inet', table]);
  });

  for (const [mode, transport, grantPath, workers] of [
    ['spawn', 'spawn', 'spawn', 0],
    [undefined, 'worker', 'in-process', 1],
  ] as const) {
    const how =
      mode === 'spawn'
        ? 'with KNOCKGATE_NFT=spawn, grants go through nft(8)'
        : 'by default, grants are applied in the daemon itself, the ruleset through the worker,';
    it(`${how} and open the door`, async () => {
      if (mode !== undefined) process.env.KNOCKGATE_NFT = mode;
      let daemon: DaemonHandle;
      try {
        daemon = await s.start();
      } finally {
        delete process.env.KNOCKGATE_NFT;
      }
      try {
        const installed = await daemon.waitFor((l) => l.event === 'firewall-installed');
        assert.equal(installed.transport, transport);
        assert.equal(installed.grant_path, grantPath);
        assert.equal(childrenNamed(daemon.pid, 'knockgate-nft').length, workers);
        assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'timeout');
        knock(tb, tb.client.ns, tb.server.clientSide.v4, SEQUENCE);
        await daemon.waitFor((l) => l.event === 'grant' && l.verdict === 'opened', 5000, 'the grant');
        assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open');
      } finally {
        process.kill(daemon.pid, 'SIGTERM');
        await daemon.exited();
        flush();
      }
    });
  }

  it('SYNs at hidden knock ports leave the conntrack table empty, while a port we do not touch is tracked', async () => {
    const daemon = await s.start();
    try {
      tb.run(tb.server.ns, ['conntrack', '-F']);
      // The first step only, from the other namespace too: nothing that completes a sequence.
      probe(tb, tb.client.ns, tb.server.clientSide.v4, SEQUENCE[0] as number, 300);
      assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 2222, 1000).outcome, 'open');
      const knockPort = tb.run(tb.server.ns, ['conntrack', '-L', '-p', 'tcp', '--orig-port-dst', String(SEQUENCE[0])]);
      assert.doesNotMatch(knockPort, /dport=/);
      assert.match(
        tb.run(tb.server.ns, ['conntrack', '-L', '-p', 'tcp', '--orig-port-dst', '2222']),
        /dport=2222/,
        'control: conntrack is on, and tracks a port knockgate leaves alone',
      );
    } finally {
      process.kill(daemon.pid, 'SIGTERM');
      await daemon.exited();
    }
  });
});
