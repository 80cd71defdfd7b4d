/**
 * Prints what a fwknop door costs per junk datagram, in µs, through FwknopHandler (the daemon's
 * whole per-datagram path after capture: replay digest, SOURCE match, HMACs, budget), for doors of
 * 1, 10 and 100 stanzas: each with its own keys (SOURCE ANY), all sharing one key pair (SOURCE
 * ANY), and each with its own keys and its own SOURCE /24 (none matching the junk's sources).
 * Junk: random unpadded base64 of fwknop length from random sources in 10.0.0.0/8, the bench's
 * `udp-fwknop` flood. Two budgets: `ample` (every HMAC done: the raw cost) and `daemon` (the one
 * knockgated uses, so a sustained flood shows what is left once it is spent).
 *
 * Contract: figures only, no assertions; not a test. Run with `node dist/scripts/fwknop-bench.js`
 * after a build.
 */

import { DaemonMetrics } from '../src/metrics/daemon-metrics.js';
import { MetricRegistry } from '../src/metrics/registry.js';
import { statsLine } from '../src/metrics/stats-line.js';
import { randomBytes, randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseConfigText } from '../src/config/load.js';
import type { Door } from '../src/core/door.js';
import * as limits from '../src/core/limits.js';
import { KnownSources } from '../src/core/known-sources.js';
import { WorkBudget } from '../src/core/work-budget.js';
import { FwknopHandler } from '../src/daemon/fwknop-handler.js';
import { LogLimiter } from '../src/daemon/log-limiter.js';
import { MemoryLogger } from '../src/ports/logger.js';
import type { ReplayStore } from '../src/ports/replay-store.js';

const FRAMES = 40_000;
const WARMUP = 2_000;
const POOL = 256;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

type Layout = 'own keys, SOURCE ANY' | 'one shared key, SOURCE ANY' | 'own keys, own SOURCE /24';

function doorYaml(n: number, layout: Layout): string {
  const shared = { key: randomBytes(24).toString('base64'), hmac: randomBytes(48).toString('base64') };
  const lines = [
    'interfaces: [eth0]',
    'doors:',
    '  - name: fw',
    '    fwknop: {port: 62201}',
    '    open: [22]',
    '    stanzas:',
  ];
  for (let i = 0; i < n; i++) {
    const k =
      layout === 'one shared key, SOURCE ANY'
        ? shared
        : { key: randomBytes(24).toString('base64'), hmac: randomBytes(48).toString('base64') };
    const source = layout === 'own keys, own SOURCE /24' ? `198.18.${i}.0/24` : 'ANY';
    lines.push(
      `      - {source: "${source}", key_base64: "${k.key}", hmac_key_base64: "${k.hmac}", hmac_digest_type: sha256}`,
    );
  }
  return lines.join('\n');
}

const replay: ReplayStore = new Proxy({} as ReplayStore, {
  get: (_t, p) => (p === 'seen' ? () => false : async () => 'fresh'),
});

function junkPool(): { payload: Uint8Array; source: string }[] {
  const pool = [];
  for (let i = 0; i < POOL; i++) {
    const len = randomInt(limits.MIN_FWKNOP_PACKET_BYTES, limits.MAX_FWKNOP_PACKET_BYTES + 1);
    const payload = Buffer.alloc(len);
    for (let j = 0; j < len; j++) payload[j] = B64.charCodeAt(randomInt(64));
    pool.push({
      payload: new Uint8Array(payload),
      source: `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`,
    });
  }
  return pool;
}

function daemonBudget(): WorkBudget | null {
  const l = limits as Record<string, unknown>;
  const rate = l.FWKNOP_UNPROVEN_HMACS_PER_S;
  const burst = l.FWKNOP_UNPROVEN_HMACS_BURST;
  return typeof rate === 'number' && typeof burst === 'number' ? new WorkBudget(rate, burst) : null;
}

function run(n: number, layout: Layout, budget: WorkBudget): { us: number; overload: number } {
  const config = parseConfigText('/nonexistent/knockgate.yaml', doorYaml(n, layout));
  const door = config.doors[0] as Door;
  const metrics = new MetricRegistry();
  const overload = (): number => statsLine(metrics.snapshot()).fwknop_rejected_overload ?? 0;
  const handler = new FwknopHandler({
    door,
    replay,
    freshnessMs: 120_000,
    unixMs: () => Date.now(),
    log: new MemoryLogger(),
    limiter: new LogLimiter(10, () => performance.now()),
    counters: new DaemonMetrics(metrics, [door.name]).datagramDoor(door.name, 'fwknop'),
    grant: async () => {},
    budget,
    knownSources: new KnownSources(1000, 60_000),
    nowMs: () => performance.now(),
  });
  const pool = junkPool();
  for (let i = 0; i < WARMUP; i++) handler.handle(pool[i % POOL]!.payload, pool[i % POOL]!.source);
  const overloadAfterWarmUp = overload();
  const t0 = performance.now();
  for (let i = 0; i < FRAMES; i++) handler.handle(pool[i % POOL]!.payload, pool[i % POOL]!.source);
  const us = ((performance.now() - t0) * 1000) / FRAMES;
  return { us, overload: overload() - overloadAfterWarmUp };
}

const layouts: Layout[] = ['own keys, SOURCE ANY', 'one shared key, SOURCE ANY', 'own keys, own SOURCE /24'];
console.log(`fwknop junk, µs per datagram through FwknopHandler (${FRAMES} datagrams after ${WARMUP} warm-up)`);
for (const layout of layouts) {
  for (const n of [1, 10, 100]) {
    const ample = run(n, layout, new WorkBudget(1e12, 1e12));
    const db = daemonBudget();
    const d = db === null ? null : run(n, layout, db);
    const shed = d === null ? '' : `  daemon budget: ${d.us.toFixed(2)} µs (overload ${d.overload}/${FRAMES})`;
    console.log(
      `${layout.padEnd(28)} ${String(n).padStart(3)} stanzas  ample budget: ${ample.us.toFixed(2).padStart(7)} µs${shed}`,
    );
  }
}
