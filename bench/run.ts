/**
 * `npm run bench`: knockgated, knockd and fwknopd side by side, through the same client actions,
 * on the same namespace testbed as the integration tests. See docs/benchmarks.md for the method.
 *
 *   npm run bench [-- --quick] [--only KIND[,KIND]] [--rates 10k,50k,100k] [--trials N]
 *                 [--window S] [--samples N] [--parts idle,latency,floods,bursts,storm,cost]
 *                 [--burst-rate PPS] [--storm-count N] [--seed N] [--out DIR] [--no-doc]
 *
 * KIND: knockgate-seq knockgate-spa knockgate-fwknop knockd fwknopd-pcap fwknopd-pcap-tuned fwknopd-udp
 * --quick: 3 trials per rate, 4 s windows, 5 latency samples (for trying the harness).
 *
 * Contract: needs root (namespaces, nftables, iptables). Every packet goes into namespaces this
 * run creates, from spoofed sources named in bench/sources.ts (inside 198.18.0.0/15 and
 * 2001:db8::/32, never a testbed's own address); every flood is bounded in count and time by the sender; one subject at a time, one
 * flood at a time. Testbeds, daemons, probes and floods are removed/killed by PID on the way out,
 * also on error and on SIGINT/SIGTERM. Writes OUT/results.json (default docs/benchmarks/),
 * OUT/*.svg and the results section of docs/benchmarks.md; prints progress and the tables.
 * Exit 0 when the run completed (whatever the figures), 64 on a bad option, 69 when not root,
 * 130 when interrupted. Not part of `npm test`.
 */

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { floodBinary } from './flood.js';
import { startKnockgate } from './knockgate-daemon.js';
import { machineBusyPercent, machineInfo, readTree, summarize } from './measure.js';
import { startFwknopd, startKnockd } from './peers.js';
import {
  compare,
  evaluateTargets,
  rateLabel,
  renderText,
  summarizeRate,
  writeOutputs,
  type DaemonResult,
  type FloodRate,
  type Results,
} from './report.js';
import { Tracker, burst, floodTrial, measureLatency, storm, type Ctx, type FloodTrial } from './scenarios.js';
import { BURST_SOURCES, JUNK_SOURCES, STORM_SOURCES, SUSTAINED_SOURCES } from './sources.js';
import { measureSpaCost } from './spa-cost.js';
import { KINDS, KIND_NAMES, sleep, type KindName, type Subject } from './subject.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** Above this (% of one core) the machine is busy with something else before a subject's run. */
const BUSY_WARN_PERCENT = 20;
/** How long after the first idle sample the settled one is taken. */
const IDLE_SETTLE_MS = 13_000;
const PARTS = ['idle', 'latency', 'floods', 'bursts', 'storm', 'cost'] as const;
type Part = (typeof PARTS)[number];

interface Options {
  quick: boolean;
  only: KindName[];
  rates: number[];
  trials: number;
  windowS: number;
  samples: number;
  parts: Part[];
  burstPackets: number;
  burstRate: number;
  sustainedPackets: number;
  sustainedRate: number;
  stormCount: number;
  stormRate: number;
  seed: number;
  outDir: string;
  doc: string | null;
}

class UsageError extends Error {}

function parseRate(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(k?)$/i.exec(s.trim());
  if (!m) throw new UsageError(`not a rate: ${s}`);
  const v = Math.round(Number(m[1]) * (m[2] ? 1000 : 1));
  if (v < 1 || v > 1_000_000) throw new UsageError(`rate out of range 1..1000000: ${s}`);
  return v;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    quick: false,
    only: [...KIND_NAMES],
    rates: [10_000, 50_000, 100_000],
    trials: 10,
    windowS: 10,
    samples: 20,
    parts: [...PARTS],
    burstPackets: 1000,
    burstRate: 10_000,
    sustainedPackets: 5000,
    sustainedRate: 1000,
    stormCount: 1_000_000,
    stormRate: 100_000,
    seed: Date.now() % 1_000_000_000,
    outDir: join(REPO, 'docs', 'benchmarks'),
    doc: join(REPO, 'docs', 'benchmarks.md'),
  };
  const set: Partial<Record<string, boolean>> = {};
  const int = (name: string, v: string | undefined, lo: number, hi: number): number => {
    const n = Number(v);
    if (v === undefined || !/^\d+$/.test(v) || n < lo || n > hi)
      throw new UsageError(`${name}: expected a whole number from ${lo} to ${hi}, got ${v ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const v = (): string | undefined => argv[++i];
    set[a] = true;
    switch (a) {
      case '--quick':
        o.quick = true;
        break;
      case '--only': {
        const names = (v() ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        for (const n of names)
          if (!(KIND_NAMES as readonly string[]).includes(n))
            throw new UsageError(`--only: unknown kind ${n} (kinds: ${KIND_NAMES.join(', ')})`);
        if (names.length === 0) throw new UsageError('--only: give at least one kind');
        o.only = KIND_NAMES.filter((k) => names.includes(k));
        break;
      }
      case '--rates':
        o.rates = (v() ?? '').split(',').filter(Boolean).map(parseRate);
        if (o.rates.length === 0) throw new UsageError('--rates: give at least one');
        break;
      case '--trials':
        o.trials = int(a, v(), 1, 100);
        break;
      case '--window':
        o.windowS = int(a, v(), 2, 120);
        break;
      case '--samples':
        o.samples = int(a, v(), 1, 200);
        break;
      case '--parts': {
        const ps = (v() ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        for (const p of ps)
          if (!(PARTS as readonly string[]).includes(p))
            throw new UsageError(`--parts: unknown part ${p} (parts: ${PARTS.join(', ')})`);
        o.parts = PARTS.filter((p) => ps.includes(p));
        break;
      }
      case '--burst-rate':
        o.burstRate = int(a, v(), 100, 1_000_000);
        break;
      case '--storm-count':
        o.stormCount = int(a, v(), 1000, 5_000_000);
        break;
      case '--seed':
        o.seed = int(a, v(), 0, 2 ** 40);
        break;
      case '--out':
        o.outDir = resolve(v() ?? '.');
        break;
      case '--no-doc':
        o.doc = null;
        break;
      case '-h':
      case '--help':
        process.stdout.write(
          `usage: npm run bench -- [--quick] [--only ${KIND_NAMES.join(',')}] [--rates 10k,50k,100k] [--trials N] [--window S] [--samples N] [--parts ${PARTS.join(',')}] [--burst-rate PPS] [--storm-count N] [--seed N] [--out DIR] [--no-doc]\n`,
        );
        process.exit(0);
        break;
      default:
        throw new UsageError(`unknown option ${a}`);
    }
  }
  if (o.quick) {
    if (!set['--trials']) o.trials = 3;
    if (!set['--window']) o.windowS = 4;
    if (!set['--samples']) o.samples = 5;
  }
  return o;
}

async function startSubject(kind: KindName): Promise<Subject> {
  if (kind === 'knockd') return startKnockd();
  if (kind.startsWith('fwknopd-')) return startFwknopd(kind as Extract<KindName, `fwknopd-${string}`>);
  return startKnockgate(kind as Extract<KindName, `knockgate-${string}`>);
}

const t0 = Date.now();
const stamp = (): string => {
  const s = Math.round((Date.now() - t0) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};
const log = (line: string): void => void process.stdout.write(`[${stamp()}] ${line}\n`);

const tracker = new Tracker();
const active = new Set<Subject>();
let scratch: string | null = null;

function cleanup(): void {
  tracker.stopAll();
  for (const s of active) {
    try {
      s.stop();
    } catch {
      /* best effort */
    }
  }
  active.clear();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = null;
}

async function benchSubject(ctx: Ctx, o: Options, kind: KindName, d: DaemonResult): Promise<void> {
  const info = KINDS[kind];
  log(`${kind}: starting (${info.label})`);
  const s = await startSubject(kind);
  active.add(s);
  try {
    d.config = s.config;
    const part = async (name: string, fn: () => Promise<void>): Promise<void> => {
      if (tracker.aborted) throw new Error('interrupted');
      try {
        await fn();
      } catch (err) {
        if (tracker.aborted) throw err;
        const msg = `${name}: ${err instanceof Error ? err.message : String(err)}`;
        d.errors.push(msg);
        log(`${kind}: ERROR ${msg}`);
        if (!s.alive()) d.errors.push(`daemon not running after ${name}; log tail: ${s.logTail().slice(-1500)}`);
      }
    };
    // The daemon settles for 2 s after it is ready; meanwhile, how busy is the rest of the machine?
    await sleep(1000);
    d.backgroundCpuPercent = await machineBusyPercent(1000);
    if (d.backgroundCpuPercent > BUSY_WARN_PERCENT)
      log(
        `${kind}: WARNING: the machine is ${d.backgroundCpuPercent}% busy (of one core) before the run; figures will be perturbed`,
      );
    if (o.parts.includes('idle')) {
      await part('idle', async () => {
        // 2 s after ready, then settled: a Node daemon's heap keeps start-up garbage until V8's
        // memory reducer runs, ~8 s after the heap goes idle; idle is the settled figure.
        const startup = readTree(s.pid);
        await sleep(IDLE_SETTLE_MS);
        const r = readTree(s.pid);
        d.idle = { rssKiB: r.rssKiB, treeRssKiB: r.treeRssKiB, startupTreeRssKiB: startup.treeRssKiB };
        log(
          `${kind}: idle RSS ${(r.treeRssKiB / 1024).toFixed(1)} MiB (${(startup.treeRssKiB / 1024).toFixed(1)} MiB 2 s after start)`,
        );
      });
    }
    if (o.parts.includes('latency')) {
      await part('latency', async () => {
        const l = await measureLatency(ctx, s, o.samples);
        d.latency = l;
        log(
          `${kind}: latency median ${l.summary.median ?? '—'} ms (p10 ${l.summary.p10 ?? '—'}, p90 ${l.summary.p90 ?? '—'}), ${l.samplesMs.length} opened, ${l.failures} failed`,
        );
        if (l.samplesMs.length === 0)
          throw new Error(`the legitimate knock never opened the port; log tail: ${s.logTail().slice(-1500)}`);
      });
    }
    if (o.parts.includes('floods')) {
      await part('floods', async () => {
        d.floods = [];
        for (const rate of o.rates) {
          const trials: FloodTrial[] = [];
          for (let i = 0; i < o.trials; i++) {
            const t = await floodTrial(ctx, s, rate, i, o.windowS, o.seed + rate + i);
            trials.push(t);
            log(
              `${kind}: ${rateLabel(rate)} pps ${t.mode} trial ${i + 1}/${o.trials}: ${t.opened ? `opened in ${t.latencyMs} ms` : 'NOT opened'}; sent ${t.sent ?? '—'} (${t.achievedPps ?? '—'} pps); CPU ${t.cpuPercent}%; peak RSS ${(t.peakTreeRssKiB / 1024).toFixed(1)} MiB${t.idleWaitMs > 1000 ? `; had waited ${(t.idleWaitMs / 1000).toFixed(1)} s for the daemon to go idle` : ''}${t.error ? `; ${t.error}` : ''}`,
            );
            if (!t.daemonAlive)
              throw new Error(`the daemon died during a flood; log tail: ${s.logTail().slice(-1500)}`);
          }
          (d.floods as FloodRate[]).push(summarizeRate(rate, trials, summarize));
        }
      });
    }
    if (o.parts.includes('bursts') && s.validPacket) {
      await part('burst', async () => {
        d.burst = await burst(ctx, s, o.burstPackets, o.burstRate, BURST_SOURCES);
        log(
          `${kind}: burst ${d.burst.granted}/${d.burst.packets} granted, ${d.burst.duplicates} duplicates, last grant at ${d.burst.secondsToLastGrant ?? '—'} s`,
        );
      });
      await part('sustained', async () => {
        d.sustained = await burst(ctx, s, o.sustainedPackets, o.sustainedRate, SUSTAINED_SOURCES, 90);
        log(
          `${kind}: sustained ${d.sustained.granted}/${d.sustained.packets} granted, ${d.sustained.grantsPerSecond ?? '—'} grants/s, ${d.sustained.duplicates} duplicates`,
        );
      });
    }
    if (o.parts.includes('storm') && info.family === 'sequence') {
      await part('storm', async () => {
        // On a fresh daemon, so that "before" is its idle memory, not what the floods left.
        s.stop();
        active.delete(s);
        const fresh = await startSubject(kind);
        active.add(fresh);
        try {
          await sleep(2000);
          log(`${kind}: storm of ${o.stormCount} spoofed first steps at ${rateLabel(o.stormRate)} pps (fresh daemon)`);
          d.storm = await storm(ctx, fresh, o.stormCount, o.stormRate, o.seed + 7);
        } finally {
          fresh.stop();
          active.delete(fresh);
        }
        const st = d.storm;
        log(
          `${kind}: storm sent ${st.sent ?? '—'}; RSS ${(st.rssBeforeKiB / 1024).toFixed(1)} → peak ${(st.peakRssKiB / 1024).toFixed(1)} → ${((st.rssAfterKiB.at(-1) ?? 0) / 1024).toFixed(1)} MiB; legit knock after: ${st.legitAfter.opened ? `opened in ${st.legitAfter.latencyMs} ms` : 'NOT opened'}${st.countersAfter ? `; counters: ${['capture_received', 'capture_dropped', 'sequences_tracked', 'sequences_evicted'].map((k) => `${k} ${st.countersAfter?.[k] ?? '—'}`).join(', ')}` : ''}`,
        );
      });
    }
  } finally {
    s.stop();
    active.delete(s);
  }
}

async function main(): Promise<number> {
  let o: Options;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`bench: ${err.message}\n`);
      return 64;
    }
    throw err;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench: must run as root (network namespaces, nftables, iptables)\n');
    return 69;
  }
  floodBinary(); // compile the sender now, not in the middle of a window
  scratch = mkdtempSync(join(tmpdir(), 'knockgate-bench-run-'));
  const ctx: Ctx = { tracker, log, dir: scratch };
  const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  const results: Results = {
    generatedAt: new Date().toISOString(),
    durationS: 0,
    argv: process.argv.slice(2),
    options: {
      quick: o.quick,
      kinds: o.only,
      rates: o.rates,
      trials: o.trials,
      windowS: o.windowS,
      latencySamples: o.samples,
      parts: o.parts,
      burst: `${o.burstPackets} at ${o.burstRate}/s`,
      sustained: `${o.sustainedPackets} at ${o.sustainedRate}/s`,
      storm: `${o.stormCount} at ${o.stormRate}/s`,
      seed: o.seed,
    },
    machine: machineInfo(version),
    method: {
      latency:
        'client namespace: earlier knock steps sent, t0 taken just before the last SYN or the SPA datagram, then a fresh non-blocking TCP connect to the protected port every 0.5 ms (each attempt kept 25 ms) until one completes; latency = handshake seen − t0; give up after 3 s (a failure). Grants removed and the port checked closed before each sample.',
      floods: `flood from the client namespace (bench/flood.c, AF_PACKET, rate-controlled), sources random in ${JUNK_SOURCES}, to the knock ports (SYN) or the SPA port (random bytes and SPA-shaped datagrams alternating trial by trial); the legitimate knock at the middle of the window; opened = port answered before the window ended. CPU = utime+stime (+ children) of the daemon tree over the window, % of one core; RSS = VmRSS of the daemon tree sampled every 100 ms. Grants removed, conntrack flushed, port checked closed, daemon idle before each trial.`,
      idle: `VmRSS of the daemon and its children ${(2000 + IDLE_SETTLE_MS) / 1000} s after it is ready, once settled (and, as startupTreeRssKiB, 2 s after it is ready).`,
      storm: `on a freshly started daemon: SYNs over IPv6 to the server's IPv6 address, first knock port, from random sources in ${STORM_SOURCES} (IPv4 inside 198.18.0.0/15 has too few addresses for a million distinct sources) at the stated rate; peak RSS during, a legitimate (IPv4) knock right after (opened within 5 s?), RSS each second for sequence_timeout + 20 s.`,
      bursts: `whole Ethernet frames prepared in advance (valid SPA packets, one per distinct spoofed source, bursts from ${BURST_SOURCES.cidr}, sustained from ${SUSTAINED_SOURCES.cidr}, each granting its own source), sent by the flood sender at the stated rate; grants counted (nft set elements / iptables rules for the port) every 250–500 ms until all are in or nothing new for 10 s after the last packet.`,
      cost: 'scripts/spa-bench.ts (openSpa µs per packet, 1 vs 10,000 clients).',
    },
    daemons: [],
    comparisons: [],
    targets: [],
    load: { beforePercent: null, afterPercent: null },
  };
  results.load.beforePercent = await machineBusyPercent(2000);
  if (results.load.beforePercent > BUSY_WARN_PERCENT)
    log(
      `WARNING: the machine is ${results.load.beforePercent}% busy (of one core) before the benchmark starts: other work will perturb the figures`,
    );
  log(
    `knockgate bench: ${o.only.join(', ')}; rates ${o.rates.map(rateLabel).join('/')} pps × ${o.trials} trials × ${o.windowS} s; ${o.samples} latency samples; parts ${o.parts.join(',')}`,
  );
  for (const kind of o.only) {
    const d: DaemonResult = {
      kind,
      label: KINDS[kind].label,
      isKnockgate: KINDS[kind].isKnockgate,
      family: KINDS[kind].family,
      errors: [],
    };
    results.daemons.push(d);
    try {
      await benchSubject(ctx, o, kind, d);
    } catch (err) {
      if (tracker.aborted) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      d.errors.push(msg);
      log(`${kind}: ERROR ${msg}`);
    }
  }
  if (o.parts.includes('cost')) {
    log('SPA cost per packet (scripts/spa-bench.ts) ...');
    results.spaCost = measureSpaCost();
    if (results.spaCost.error) log(`spa-bench: ERROR ${results.spaCost.error}`);
  }
  results.load.afterPercent = await machineBusyPercent(2000);
  results.durationS = (Date.now() - t0) / 1000;
  results.comparisons = compare(results.daemons);
  results.targets = evaluateTargets(results);
  const written = writeOutputs(results, o.rates, o.outDir, o.doc);
  process.stdout.write(`\n${renderText(results, o.rates)}\n\n`);
  log(`done in ${Math.round(results.durationS)} s; wrote ${written.map((f) => f.replace(REPO, '')).join(', ')}`);
  return 0;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    tracker.aborted = true;
    process.stderr.write(`\nbench: ${sig}, cleaning up\n`);
    cleanup();
    process.exit(130);
  });
}
process.on('exit', cleanup);

main().then(
  (code) => {
    cleanup();
    process.exit(code);
  },
  (err: unknown) => {
    cleanup();
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(tracker.aborted ? 130 : 70);
  },
);
