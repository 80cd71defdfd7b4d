/**
 * What the benchmark does to each subject: latency trials, legitimate knocks during junk floods,
 * the spoofed-sequence storm, bursts and sustained streams of valid SPA packets, idle memory.
 *
 * Contract: every scenario starts from a subject with no grants and the protected port verified
 * closed; every packet goes only into the subject's own testbed (flood from the client namespace,
 * source addresses spoofed from a stated CIDR); every load is bounded in count and in time (the
 * sender enforces both, and startFlood kills it if it overruns); probes and floods are registered
 * with the Tracker so that an interrupt can stop them by PID.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { macOf, startFlood, type FloodOptions, type FloodSummary } from './flood.js';
import { udpFrame, writeFramesFile } from './frames.js';
import type { ProbeRequest, ProbeResult } from './knock-probe.js';
import { Sampler, readTree, summarize, waitIdle, type Summary } from './measure.js';
import { JUNK_SOURCES, STORM_SOURCES, burstSource, type SourceRange } from './sources.js';
import { OPEN_PORT, SEQUENCE_TIMEOUT_S, sleep, tryRun, type Subject } from './subject.js';

const PROBE = fileURLToPath(new URL('./knock-probe.js', import.meta.url));

/** Processes and floods in flight, so an interrupt can stop them. */
export class Tracker {
  readonly children = new Set<ChildProcess>();
  readonly floods = new Set<{ stop(): void }>();
  aborted = false;
  stopAll(): void {
    for (const f of this.floods) f.stop();
    for (const c of this.children) {
      if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }
}

export interface Ctx {
  readonly tracker: Tracker;
  readonly log: (line: string) => void;
  /** A private scratch directory (frames files). */
  readonly dir: string;
}

function checkAbort(ctx: Ctx): void {
  if (ctx.tracker.aborted) throw new Error('interrupted');
}

/** Runs the stopwatch client in the subject's client namespace. */
export function runProbe(ctx: Ctx, s: Subject, req: Omit<ProbeRequest, 'host' | 'openPort'>): Promise<ProbeResult> {
  const full: ProbeRequest = { host: s.host, openPort: OPEN_PORT, ...req };
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', s.tb.client.ns, process.execPath, PROBE, JSON.stringify(full)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    ctx.tracker.children.add(child);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-2000)));
    const timer = setTimeout(
      () => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'),
      req.giveUpMs + 15_000,
    );
    child.on('close', () => {
      clearTimeout(timer);
      ctx.tracker.children.delete(child);
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as ProbeResult);
      } catch {
        resolve({
          opened: false,
          latencyMs: null,
          attempts: 0,
          knockAtEpochMs: Date.now(),
          error: `probe failed: ${err.trim() || out.trim()}`,
        });
      }
    });
  });
}

/** Removes grants, forgets conntrack state, and checks the port is closed (up to 3 tries). */
export async function resetAndCheckClosed(ctx: Ctx, s: Subject, flushConntrack: boolean): Promise<boolean> {
  for (let i = 0; i < 3; i++) {
    s.resetGrants();
    if (flushConntrack) tryRun(s.tb, s.tb.server.ns, ['conntrack', '-F']);
    const r = await runProbe(ctx, s, { knock: { kind: 'none' }, giveUpMs: 300, intervalMs: 2 });
    if (!r.opened) return true;
    ctx.log(`  ${s.kind}: port still open after reset (try ${i + 1})`);
    await sleep(300);
  }
  return false;
}

export interface LatencyResult {
  readonly samplesMs: number[];
  readonly failures: number;
  readonly notClosed: number;
  readonly summary: Summary;
}

export async function measureLatency(ctx: Ctx, s: Subject, n: number): Promise<LatencyResult> {
  const samplesMs: number[] = [];
  let failures = 0;
  let notClosed = 0;
  for (let i = 0; i < n; i++) {
    checkAbort(ctx);
    if (!(await resetAndCheckClosed(ctx, s, false))) notClosed++;
    await sleep(50);
    const r = await runProbe(ctx, s, { knock: s.knock, giveUpMs: 3000, intervalMs: 0.5 });
    if (r.opened && r.latencyMs !== null) samplesMs.push(r.latencyMs);
    else failures++;
    if (r.error) ctx.log(`  ${s.kind}: probe error: ${r.error}`);
  }
  s.resetGrants();
  return { samplesMs, failures, notClosed, summary: summarize(samplesMs) };
}

export interface FloodTrial {
  readonly rate: number;
  readonly trial: number;
  readonly mode: FloodOptions['mode'];
  readonly opened: boolean;
  readonly latencyMs: number | null;
  /** When the legitimate knock went out, seconds after the flood started. */
  readonly knockAtS: number;
  readonly sent: number | null;
  readonly achievedPps: number | null;
  readonly senderErrors: number | null;
  readonly cpuPercent: number;
  readonly peakRssKiB: number;
  readonly peakTreeRssKiB: number;
  readonly closedBefore: boolean;
  /** How long the daemon was still busy (≥15% CPU) before this trial could start, ms (15 s at most). */
  readonly idleWaitMs: number;
  readonly daemonAlive: boolean;
  readonly error?: string;
}

interface Wire {
  readonly srcMac: string;
  readonly dstMac: string;
}

const wires = new WeakMap<Subject, Wire>();
function wireOf(s: Subject): Wire {
  let w = wires.get(s);
  if (!w) {
    w = {
      srcMac: macOf(s.tb, s.tb.client.ns, s.tb.client.ifname),
      dstMac: macOf(s.tb, s.tb.server.ns, s.tb.server.clientSide.ifname),
    };
    wires.set(s, w);
  }
  return w;
}

function flood(
  ctx: Ctx,
  s: Subject,
  o: Omit<FloodOptions, 'ifname' | 'srcMac' | 'dstMac' | 'dst'> & { dst?: string },
): { done: Promise<FloodSummary>; stop(): void } {
  const w = wireOf(s);
  const f = startFlood(s.tb, s.tb.client.ns, {
    ifname: s.tb.client.ifname,
    srcMac: w.srcMac,
    dstMac: w.dstMac,
    dst: s.host,
    ...o,
  });
  ctx.tracker.floods.add(f);
  void f.done.then(
    () => ctx.tracker.floods.delete(f),
    () => ctx.tracker.floods.delete(f),
  );
  return f;
}

export async function floodTrial(
  ctx: Ctx,
  s: Subject,
  rate: number,
  trial: number,
  windowS: number,
  seed: number,
): Promise<FloodTrial> {
  checkAbort(ctx);
  const mode = s.info.junk[trial % s.info.junk.length] as FloodOptions['mode'];
  const idleWaitMs = Math.round(await waitIdle(s.pid, 15_000));
  const closedBefore = await resetAndCheckClosed(ctx, s, true);
  const sampler = new Sampler(s.pid, 100);
  const startedAt = Date.now();
  const f = flood(ctx, s, {
    mode,
    spoof: JUNK_SOURCES,
    ports: [...s.targetPorts],
    rate,
    count: Math.round(rate * windowS),
    seconds: windowS,
    seed,
  });
  let error: string | undefined;
  const summary = f.done.catch((e: unknown) => {
    error = String(e);
    return null;
  });
  await sleep((windowS * 1000) / 2);
  const probe = await runProbe(ctx, s, {
    knock: s.knock,
    giveUpMs: windowS * 1000,
    deadlineEpochMs: startedAt + windowS * 1000,
    intervalMs: 1,
  });
  const sum = await summary;
  const used = sampler.stop();
  if (probe.error) error = `${error ?? ''} probe: ${probe.error}`.trim();
  return {
    rate,
    trial,
    mode,
    opened: probe.opened,
    latencyMs: probe.latencyMs,
    knockAtS: Math.round((probe.knockAtEpochMs - startedAt) / 10) / 100,
    sent: sum?.sent ?? null,
    achievedPps: sum ? Math.round(sum.pps) : null,
    senderErrors: sum?.errors ?? null,
    cpuPercent: Math.round(used.cpuPercent * 10) / 10,
    peakRssKiB: used.peakRssKiB,
    peakTreeRssKiB: used.peakTreeRssKiB,
    closedBefore,
    idleWaitMs,
    daemonAlive: s.alive(),
    ...(error !== undefined ? { error } : {}),
  };
}

export interface StormResult {
  readonly sources: string;
  readonly count: number;
  readonly rate: number;
  readonly sent: number | null;
  readonly achievedPps: number | null;
  readonly rssBeforeKiB: number;
  readonly peakRssKiB: number;
  readonly cpuPercent: number;
  readonly legitAfter: { readonly opened: boolean; readonly latencyMs: number | null };
  /** knockgated: its counters right after the legitimate knock (sequences_tracked, sequences_evicted, capture_received, ...). */
  readonly countersAfter?: Record<string, number> | null;
  /** Tree RSS once a second after the storm, while its state expires. */
  readonly rssAfterKiB: number[];
  readonly waitedS: number;
  readonly daemonAlive: boolean;
  readonly error?: string;
}

/**
 * 1,000,000 SYNs to the first knock port, each from a random IPv6 source in STORM_SOURCES, to the
 * server's IPv6 address, then the expiry. The legitimate knock after it is the usual IPv4 one.
 */
export async function storm(ctx: Ctx, s: Subject, count: number, rate: number, seed: number): Promise<StormResult> {
  checkAbort(ctx);
  await waitIdle(s.pid, 5000);
  await resetAndCheckClosed(ctx, s, true);
  const before = readTree(s.pid).treeRssKiB;
  const sampler = new Sampler(s.pid, 100);
  const seconds = Math.ceil(count / rate) + 30;
  const f = flood(ctx, s, {
    mode: 'syn',
    dst: s.tb.server.clientSide.v6,
    spoof: STORM_SOURCES,
    ports: [s.targetPorts[0] as number],
    rate,
    count,
    seconds,
    seed,
  });
  let error: string | undefined;
  const sum = await f.done.catch((e: unknown) => {
    error = String(e);
    return null;
  });
  const legit = await runProbe(ctx, s, { knock: s.knock, giveUpMs: 5000, intervalMs: 1 });
  const countersAfter = s.counters ? await s.counters() : undefined;
  const used = sampler.stop();
  const waitS = SEQUENCE_TIMEOUT_S + 20;
  const after: number[] = [];
  for (let i = 0; i < waitS; i++) {
    checkAbort(ctx);
    await sleep(1000);
    after.push(readTree(s.pid).treeRssKiB);
  }
  s.resetGrants();
  return {
    sources: STORM_SOURCES,
    count,
    rate,
    sent: sum?.sent ?? null,
    achievedPps: sum ? Math.round(sum.pps) : null,
    rssBeforeKiB: before,
    peakRssKiB: Math.max(used.peakTreeRssKiB, ...after),
    cpuPercent: Math.round(used.cpuPercent * 10) / 10,
    legitAfter: { opened: legit.opened, latencyMs: legit.latencyMs },
    ...(countersAfter !== undefined ? { countersAfter } : {}),
    rssAfterKiB: after,
    waitedS: waitS,
    daemonAlive: s.alive(),
    ...(error !== undefined ? { error } : {}),
  };
}

export interface BurstResult {
  readonly packets: number;
  readonly rate: number;
  readonly sent: number | null;
  readonly sendSeconds: number | null;
  /** Distinct sources granted. */
  readonly granted: number;
  /** Grant entries beyond one per source. */
  readonly duplicates: number;
  /**
   * From the first packet sent to the last new grant: the middle between the poll that first saw
   * the final count and the poll before it (polled every 250 to 500 ms).
   */
  readonly secondsToLastGrant: number | null;
  /** ± this much (half the polling interval around the last new grant), s. */
  readonly lastGrantResolutionS: number;
  /** [seconds since the first packet, distinct sources granted] at each poll. */
  readonly polls: [number, number][];
  readonly grantsPerSecond: number | null;
  readonly gaveUpAfterS: number | null;
  readonly cpuPercent: number;
  readonly peakTreeRssKiB: number;
  readonly error?: string;
}

/** A burst is over when nothing new has been granted for this long after its last packet. */
const SETTLE_MS = 10_000;

/**
 * `packets` valid SPA packets, one from each of `packets` distinct sources (the first of `range`), sent at
 * `rate` per second; then counts distinct sources granted and duplicate entries, waiting until all
 * are granted, or nothing new was granted for SETTLE_MS after the last packet, or `capS` have passed.
 */
export async function burst(
  ctx: Ctx,
  s: Subject,
  packets: number,
  rate: number,
  range: SourceRange,
  capS = 60,
): Promise<BurstResult> {
  checkAbort(ctx);
  if (!s.validPacket) throw new Error(`${s.kind} has no SPA packets`);
  await waitIdle(s.pid, 5000);
  await resetAndCheckClosed(ctx, s, true);
  const w = wireOf(s);
  const frames: Buffer[] = [];
  for (let i = 0; i < packets; i++) {
    const src = burstSource(range, i);
    frames.push(
      udpFrame({
        srcMac: w.srcMac,
        dstMac: w.dstMac,
        src,
        dst: s.host,
        sport: 20_000 + (i % 40_000),
        dport: s.targetPorts[0] as number,
        payload: s.validPacket(src),
      }),
    );
  }
  const file = join(ctx.dir, `frames-${s.kind}-${packets}.bin`);
  writeFramesFile(file, frames);
  const sampler = new Sampler(s.pid, 100);
  const start = performance.now();
  const f = flood(ctx, s, { mode: 'frames', framesFile: file, rate, count: packets, seconds: packets / rate + 10 });
  let error: string | undefined;
  let sum: FloodSummary | null | undefined;
  void f.done.then(
    (v) => (sum = v),
    (e: unknown) => {
      error = String(e);
      sum = null;
    },
  );
  let last = { sources: 0, entries: 0 };
  let changeSeenAt = start;
  let changeAfter = start;
  let prevPoll = start;
  const polls: [number, number][] = [];
  let sentDoneAt: number | null = null;
  let gaveUp: number | null = null;
  let pollMs = 250;
  for (;;) {
    checkAbort(ctx);
    await sleep(pollMs);
    const now = performance.now();
    const g = s.grants();
    // Listing thousands of grants costs tens of ms of CPU: keep polling under ~20% of a core.
    pollMs = Math.min(500, Math.max(250, 5 * (performance.now() - now)));
    if (polls.length < 1000) polls.push([Math.round(now - start) / 1000, g.sources]);
    if (g.sources !== last.sources || g.entries !== last.entries) {
      if (g.sources > last.sources) {
        changeSeenAt = now;
        changeAfter = prevPoll;
      }
      last = g;
    }
    if (sum !== undefined && sentDoneAt === null) sentDoneAt = now;
    if (last.sources >= packets && sum !== undefined) break;
    if (sentDoneAt !== null && now - Math.max(changeSeenAt, sentDoneAt) > SETTLE_MS) break;
    if (now - start > capS * 1000) {
      gaveUp = capS;
      break;
    }
    prevPoll = now;
  }
  if (sum === undefined) {
    f.stop();
    await f.done.catch(() => null);
  }
  const used = sampler.stop();
  // The last new grant happened after the poll before the one that saw it, and, when every packet
  // was granted, after the last packet was sent: take the middle of what is left.
  const lo = last.sources === packets && sum ? Math.max(changeAfter, start + sum.seconds * 1000) : changeAfter;
  const lastChange = (Math.min(lo, changeSeenAt) + changeSeenAt) / 2;
  const lastChangeHalfWidth = (changeSeenAt - Math.min(lo, changeSeenAt)) / 2;
  const secondsToLast = last.sources > 0 ? (lastChange - start) / 1000 : null;
  const result: BurstResult = {
    packets,
    rate,
    sent: sum?.sent ?? null,
    sendSeconds: sum?.seconds ?? null,
    granted: last.sources,
    duplicates: last.entries - last.sources,
    secondsToLastGrant: secondsToLast === null ? null : Math.round(secondsToLast * 100) / 100,
    lastGrantResolutionS: Math.round(lastChangeHalfWidth / 10) / 100,
    polls,
    grantsPerSecond: secondsToLast ? Math.round(last.sources / secondsToLast) : null,
    gaveUpAfterS: gaveUp,
    cpuPercent: Math.round(used.cpuPercent * 10) / 10,
    peakTreeRssKiB: used.peakTreeRssKiB,
    ...(error !== undefined ? { error } : {}),
  };
  await waitIdle(s.pid, 10_000);
  s.resetGrants();
  return result;
}
