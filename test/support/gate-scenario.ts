/**
 * Runs grant scenarios against the real nftables gate inside the network namespace it is started
 * in (`ip netns exec NS node gate-scenario.js SCENARIO`), and prints one JSON line of outcomes.
 *   overlap: a /24 grant, then in one batch an address inside it (shorter), an unrelated address
 *            and an address inside it that asks for longer than the prefix runs
 *   worst:   512 IPv6 /64 prefixes × 64 ports, all at once
 */

import { performance } from 'node:perf_hooks';
import type { Endpoint } from '../../src/core/endpoint.js';
import { NftablesGate } from '../../src/gates/nftables.js';

const ports = (n: number): Endpoint[] => Array.from({ length: n }, (_, i) => ({ proto: 'tcp', port: 2000 + i }));
const outcome = (p: Promise<void>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: Error) => `failed: ${e.message}`,
  );

async function main(): Promise<void> {
  const table = process.argv[3] ?? 'knockgate';
  const gate = new NftablesGate(table, () => performance.now());
  await gate.install({ protectedPorts: ports(64), hiddenPorts: [], untrackedUdpPorts: [], exemptInterfaces: [] });
  const out: Record<string, unknown> = {};
  if (process.argv[2] === 'overlap') {
    const e = [{ proto: 'tcp', port: 2000 } as const];
    await gate.grant({ source: '198.18.200.0/24', family: 4, endpoints: e, durationS: 60 });
    const first = outcome(gate.grant({ source: '198.19.1.9', family: 4, endpoints: e, durationS: 30 })); // in flight alone
    const covered = outcome(gate.grant({ source: '198.18.200.7', family: 4, endpoints: e, durationS: 30 }));
    const unrelated = outcome(gate.grant({ source: '198.19.1.1', family: 4, endpoints: e, durationS: 30 }));
    const longer = outcome(gate.grant({ source: '198.18.200.9', family: 4, endpoints: e, durationS: 120 }));
    Object.assign(out, {
      first: await first,
      covered: await covered,
      unrelated: await unrelated,
      longer: await longer,
    });
  } else if (process.argv[2] === 'worst') {
    const started = performance.now();
    const all = await Promise.all(
      Array.from({ length: 512 }, (_, i) =>
        outcome(
          gate.grant({ source: `2001:db8:77:${i.toString(16)}::/64`, family: 6, endpoints: ports(64), durationS: 60 }),
        ),
      ),
    );
    out.ok = all.filter((o) => o === 'ok').length;
    out.failures = [...new Set(all.filter((o) => o !== 'ok'))].slice(0, 3);
    out.ms = Math.round(performance.now() - started);
  }
  out.granted = (await gate.list()).map((g) => `${g.source} ${g.endpoint.proto}/${g.endpoint.port}`).length;
  out.sources = [...new Set((await gate.list()).map((g) => g.source))].length;
  gate.close();
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err: Error) => {
  process.stdout.write(`${JSON.stringify({ error: err.message })}\n`);
  process.exit(1);
});
