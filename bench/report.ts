/**
 * Turns the benchmark's raw figures into what people read: the side-by-side table (knockgate's
 * rows, each peer's, and knockgate's ratio to each peer), the burst, storm and per-packet-cost
 * tables, the targets from the issue with met/missed, the charts, and the results section of
 * docs/benchmarks.md.
 *
 * Contract: pure formatting over a Results value, except writeOutputs, which writes
 * OUT/results.json, OUT/latency.svg, OUT/open-rate.svg, OUT/cpu.svg and rewrites only the part of
 * the doc between RESULTS_BEGIN and RESULTS_END (creating the doc from a stub when missing).
 * Missing figures print as "—" and are never counted as met.
 */

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { latencyChart, lineChart } from './charts.js';
import type { BurstResult, FloodTrial, LatencyResult, StormResult } from './scenarios.js';
import type { MachineInfo, Summary } from './measure.js';
import type { SpaCost } from './spa-cost.js';
import { KINDS, PEERS_OF, type KindName } from './subject.js';

export const RESULTS_BEGIN = '<!-- results:begin -->';
export const RESULTS_END = '<!-- results:end -->';

export interface FloodRate {
  readonly rate: number;
  readonly trials: FloodTrial[];
  readonly opened: number;
  readonly total: number;
  readonly cpuPercentMean: number | null;
  readonly cpuPercentMax: number | null;
  readonly peakTreeRssKiB: number | null;
  readonly achievedPpsMean: number | null;
  readonly latencyUnderFlood: Summary;
}

export interface DaemonResult {
  readonly kind: KindName;
  readonly label: string;
  readonly isKnockgate: boolean;
  readonly family: 'sequence' | 'spa';
  config?: Record<string, unknown>;
  /** How busy the rest of the machine was (% of one core) just before this subject's run. */
  backgroundCpuPercent?: number;
  idle?: { readonly rssKiB: number; readonly treeRssKiB: number; readonly startupTreeRssKiB?: number };
  latency?: LatencyResult;
  floods?: FloodRate[];
  storm?: StormResult;
  burst?: BurstResult;
  sustained?: BurstResult;
  readonly errors: string[];
}

export interface Comparison {
  readonly knockgate: KindName;
  readonly peer: KindName;
  readonly latencyRatio: number | null;
  readonly idleRssRatio: number | null;
  readonly highestFullRate: { readonly knockgate: number | null; readonly peer: number | null };
}

export interface Target {
  readonly target: string;
  readonly subject: string;
  readonly measured: string;
  readonly met: boolean | null;
}

export interface Results {
  readonly generatedAt: string;
  durationS: number;
  readonly argv: string[];
  readonly options: Record<string, unknown>;
  readonly machine: MachineInfo;
  readonly method: Record<string, string>;
  readonly daemons: DaemonResult[];
  spaCost?: SpaCost;
  comparisons: Comparison[];
  targets: Target[];
  /** Whole-machine CPU busy (% of one core) over 2 s before the run and after it. */
  readonly load: { beforePercent: number | null; afterPercent: number | null };
}

// ---------------------------------------------------------------------------------------------
// Small formatters

const DASH = '—';
export const rateLabel = (r: number): string => (r >= 1000 && r % 1000 === 0 ? `${r / 1000}k` : String(r));
const ms = (v: number | null | undefined): string =>
  v === null || v === undefined
    ? DASH
    : v >= 100
      ? `${v.toFixed(0)} ms`
      : v >= 10
        ? `${v.toFixed(1)} ms`
        : `${v.toFixed(2)} ms`;
const mib = (kib: number | null | undefined): string =>
  kib === null || kib === undefined || kib <= 0 ? DASH : `${(kib / 1024).toFixed(1)} MiB`;
const pct = (v: number | null | undefined): string => (v === null || v === undefined ? DASH : `${v.toFixed(0)}%`);
const ratio = (v: number | null): string =>
  v === null || !Number.isFinite(v)
    ? DASH
    : v >= 10
      ? `${v.toFixed(0)}×`
      : v >= 1
        ? `${v.toFixed(1)}×`
        : `${v.toFixed(2)}×`;
const int = (v: number | null | undefined): string =>
  v === null || v === undefined ? DASH : v.toLocaleString('en-US');

function mean(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function summarizeRate(rate: number, trials: FloodTrial[], summarize: (v: number[]) => Summary): FloodRate {
  const cpu = trials.map((t) => t.cpuPercent);
  const pps = trials.map((t) => t.achievedPps).filter((v): v is number => v !== null);
  return {
    rate,
    trials,
    opened: trials.filter((t) => t.opened).length,
    total: trials.length,
    cpuPercentMean: cpu.length ? Math.round((mean(cpu) as number) * 10) / 10 : null,
    cpuPercentMax: cpu.length ? Math.max(...cpu) : null,
    peakTreeRssKiB: trials.length ? Math.max(...trials.map((t) => t.peakTreeRssKiB)) : null,
    achievedPpsMean: pps.length ? Math.round(mean(pps) as number) : null,
    latencyUnderFlood: summarize(trials.map((t) => t.latencyMs).filter((v): v is number => v !== null)),
  };
}

/** The highest flood rate at which every legitimate knock opened; null if none (or not measured). */
export function highestFullRate(d: DaemonResult | undefined): number | null {
  let best: number | null = null;
  for (const f of d?.floods ?? [])
    if (f.total > 0 && f.opened === f.total && (best === null || f.rate > best)) best = f.rate;
  return best;
}

export function compare(daemons: readonly DaemonResult[]): Comparison[] {
  const by = new Map(daemons.map((d) => [d.kind, d] as const));
  const out: Comparison[] = [];
  for (const kg of daemons.filter((d) => d.isKnockgate)) {
    for (const peerKind of PEERS_OF[kg.kind] ?? []) {
      const peer = by.get(peerKind);
      if (!peer) continue;
      const a = kg.latency?.summary.median ?? null;
      const b = peer.latency?.summary.median ?? null;
      const ia = kg.idle?.treeRssKiB ?? null;
      const ib = peer.idle?.treeRssKiB ?? null;
      out.push({
        knockgate: kg.kind,
        peer: peerKind,
        latencyRatio: a !== null && b !== null && b > 0 ? Math.round((a / b) * 1000) / 1000 : null,
        idleRssRatio: ia !== null && ib !== null && ib > 0 ? Math.round((ia / ib) * 100) / 100 : null,
        highestFullRate: { knockgate: highestFullRate(kg), peer: highestFullRate(peer) },
      });
    }
  }
  return out;
}

const MIB = 1024;

export function evaluateTargets(r: Results): Target[] {
  const t: Target[] = [];
  for (const d of r.daemons.filter((x) => x.isKnockgate)) {
    const label = d.label;
    if (d.latency) {
      const m = d.latency.summary.median;
      t.push({
        target: 'last packet → port answers, median ≤ 5 ms',
        subject: label,
        measured: `${ms(m)} (n=${d.latency.summary.n}, ${d.latency.failures} failed)`,
        met: m === null ? null : m <= 5 && d.latency.failures === 0,
      });
    }
    if (d.floods && d.floods.length > 0) {
      const parts = d.floods.map((f) => `${f.opened}/${f.total} at ${rateLabel(f.rate)}`);
      const all = d.floods.every((f) => f.total > 0 && f.opened === f.total);
      const enough = d.floods.every((f) => f.total >= 10);
      t.push({
        target: 'legit knock opens in every trial (≥10 per rate) under 10k/50k/100k pps of spoofed junk',
        subject: label,
        measured: `${parts.join(', ')}${enough ? '' : ' (fewer than 10 trials per rate: indicative only)'}`,
        met: all && enough ? true : all ? null : false,
      });
      const peak = Math.max(...d.floods.map((f) => f.peakTreeRssKiB ?? 0));
      t.push({
        target: 'RSS under floods ≤ 128 MiB',
        subject: label,
        measured: mib(peak),
        met: peak > 0 ? peak <= 128 * MIB : null,
      });
    }
    if (d.idle)
      t.push({
        target: 'idle RSS ≤ 64 MiB',
        subject: label,
        measured: mib(d.idle.treeRssKiB),
        met: d.idle.treeRssKiB <= 64 * MIB,
      });
    if (d.storm) {
      const s = d.storm;
      const last = s.rssAfterKiB[s.rssAfterKiB.length - 1] ?? null;
      t.push({
        target: '1,000,000 spoofed sources starting a sequence: RSS ≤ 128 MiB',
        subject: label,
        measured: `peak ${mib(s.peakRssKiB)} (${int(s.sent)} sent at ${int(s.achievedPps)} pps)`,
        met: s.peakRssKiB <= 128 * MIB && s.daemonAlive,
      });
      const toward = last !== null && last <= s.rssBeforeKiB + 0.5 * (s.peakRssKiB - s.rssBeforeKiB);
      t.push({
        target: '… and RSS returns toward idle when the state expires (at most halfway between idle and peak)',
        subject: label,
        measured: `${mib(s.rssBeforeKiB)} before, ${mib(last)} ${s.waitedS} s after`,
        met: last === null ? null : toward,
      });
      t.push({
        target: '… and a legitimate knock right after the storm opens',
        subject: label,
        measured: s.legitAfter.opened ? `opened in ${ms(s.legitAfter.latencyMs)}` : 'did not open',
        met: s.legitAfter.opened,
      });
    }
    if (d.burst) {
      const b = d.burst;
      t.push({
        target: `burst of ${int(b.packets)} valid SPA packets from ${int(b.packets)} sources within 1 s: all granted, no duplicate`,
        subject: label,
        measured: `${int(b.granted)}/${int(b.packets)} granted, ${b.duplicates} duplicates, sent in ${b.sendSeconds?.toFixed(2) ?? DASH} s`,
        met: b.granted === b.packets && b.duplicates === 0,
      });
    }
    if (d.sustained) {
      const b = d.sustained;
      const lag = b.secondsToLastGrant !== null && b.sendSeconds !== null ? b.secondsToLastGrant - b.sendSeconds : null;
      t.push({
        target:
          'sustained ≥ 1,000 grants/s (5,000 sources at 1,000/s: all granted, the last within 0.5 s of the last packet)',
        subject: label,
        measured: `${int(b.granted)}/${int(b.packets)} granted, ${int(b.grantsPerSecond)} grants/s, last grant ${lag === null ? DASH : `${lag.toFixed(2)} s ± ${b.lastGrantResolutionS.toFixed(2)} s`} after the last packet`,
        met: b.granted === b.packets && b.duplicates === 0 && lag !== null && lag <= 0.5,
      });
    }
  }
  if (r.spaCost?.worstRatio !== undefined && r.spaCost.worstRatio !== null) {
    t.push({
      target: 'cost per packet with 10,000 SPA clients ≤ 1.5× the cost with 1',
      subject: 'openSpa (scripts/spa-bench.ts)',
      measured: `worst ratio ${ratio(r.spaCost.worstRatio)}`,
      met: r.spaCost.worstRatio <= 1.5,
    });
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// Tables (markdown, also printed to the terminal)

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');
}

export function mainTable(r: Results, rates: readonly number[]): string {
  const rl = rates.map(rateLabel).join(' · ');
  const rows = r.daemons.map((d) => {
    const lat = d.latency
      ? `${ms(d.latency.summary.median)}${d.latency.summary.p10 !== null ? ` (${ms(d.latency.summary.p10).replace(' ms', '')}–${ms(d.latency.summary.p90)})` : ''}${d.latency.failures ? `, ${d.latency.failures}/${d.latency.failures + d.latency.summary.n} failed` : ''}`
      : DASH;
    const byRate = (f: (x: FloodRate) => string): string =>
      rates
        .map((rate) => {
          const x = d.floods?.find((y) => y.rate === rate);
          return x ? f(x) : DASH;
        })
        .join(' · ');
    // When the sender fell more than 5% short of the rate asked for, say what it achieved.
    const opened = byRate(
      (x) =>
        `${x.opened}/${x.total}${x.achievedPpsMean !== null && x.achievedPpsMean < 0.95 * x.rate ? ` (at ${rateLabel(Math.round(x.achievedPpsMean / 1000) * 1000)})` : ''}`,
    );
    const cpu = byRate((x) => pct(x.cpuPercentMean));
    const peak = d.floods?.length ? Math.max(...d.floods.map((f) => f.peakTreeRssKiB ?? 0)) : null;
    const full = highestFullRate(d);
    return [
      d.isKnockgate ? `**${d.label}**` : d.label,
      lat,
      opened,
      cpu,
      d.floods?.length ? (full === null ? 'none' : `${rateLabel(full)} pps`) : DASH,
      mib(d.idle?.treeRssKiB),
      mib(peak),
    ];
  });
  const n = Math.max(0, ...r.daemons.map((d) => (d.latency ? d.latency.summary.n + d.latency.failures : 0)));
  return table(
    [
      'daemon',
      `last packet → port open, median${n > 0 ? ` of ${n}` : ''} (p10–p90)`,
      `legit knock opened under ${rl} pps of junk`,
      `daemon CPU under ${rl} pps (% of a core)`,
      'highest junk rate with every knock opened',
      'idle RSS',
      'peak RSS under floods',
    ],
    rows,
  );
}

export function comparisonTable(r: Results): string {
  const by = new Map(r.daemons.map((d) => [d.kind, d] as const));
  const rows = r.comparisons.map((c) => {
    const a = by.get(c.knockgate);
    const b = by.get(c.peer);
    const hr = c.highestFullRate;
    const rl = (d: DaemonResult | undefined, v: number | null): string =>
      !d?.floods?.length ? DASH : v === null ? 'none' : `${rateLabel(v)} pps`;
    const rateCell = `${rl(a, hr.knockgate)} vs ${rl(b, hr.peer)}${hr.knockgate !== null && hr.peer !== null ? ` (${ratio(hr.knockgate / hr.peer)})` : ''}`;
    return [
      KINDS[c.knockgate].label,
      KINDS[c.peer].label,
      `${ratio(c.latencyRatio)} (${ms(a?.latency?.summary.median)} vs ${ms(b?.latency?.summary.median)})`,
      `${ratio(c.idleRssRatio)} (${mib(a?.idle?.treeRssKiB)} vs ${mib(b?.idle?.treeRssKiB)})`,
      rateCell,
    ];
  });
  return table(
    [
      'knockgate',
      'peer',
      'latency, knockgate ÷ peer',
      'idle RSS, knockgate ÷ peer',
      'highest junk rate fully opened, knockgate vs peer',
    ],
    rows,
  );
}

export function burstTable(r: Results): string | null {
  const ds = r.daemons.filter((d) => d.burst || d.sustained);
  if (ds.length === 0) return null;
  const cell = (b: BurstResult | undefined, sustained: boolean): string => {
    if (!b) return DASH;
    const base = `${int(b.granted)}/${int(b.packets)} granted, ${b.duplicates} dup.`;
    const sent = b.sent === null ? 'sender failed' : `sent in ${b.sendSeconds?.toFixed(2)} s`;
    const timing = sustained
      ? `${int(b.grantsPerSecond)} grants/s`
      : `last grant at ${b.secondsToLastGrant?.toFixed(2) ?? DASH} s`;
    return `${base}; ${sent}; ${timing}${b.gaveUpAfterS ? ` (stopped waiting at ${b.gaveUpAfterS} s)` : ''}; CPU ${pct(b.cpuPercent)}`;
  };
  const b0 = ds.find((d) => d.burst)?.burst;
  const s0 = ds.find((d) => d.sustained)?.sustained;
  return table(
    [
      'daemon',
      `burst: ${int(b0?.packets ?? 1000)} valid packets from as many sources at ${int(b0?.rate ?? 0)}/s`,
      `sustained: ${int(s0?.packets ?? 5000)} from as many sources at ${int(s0?.rate ?? 0)}/s`,
    ],
    ds.map((d) => [d.isKnockgate ? `**${d.label}**` : d.label, cell(d.burst, false), cell(d.sustained, true)]),
  );
}

export function stormTable(r: Results): string | null {
  const ds = r.daemons.filter((d) => d.storm);
  if (ds.length === 0) return null;
  return table(
    [
      'daemon',
      'SYNs sent (pps achieved)',
      'RSS before',
      'peak RSS',
      'RSS after (s after the storm)',
      'daemon CPU',
      'legit knock right after',
    ],
    ds.map((d) => {
      const s = d.storm as StormResult;
      const last = s.rssAfterKiB[s.rssAfterKiB.length - 1];
      return [
        d.isKnockgate ? `**${d.label}**` : d.label,
        `${int(s.sent)} (${int(s.achievedPps)})`,
        mib(s.rssBeforeKiB),
        mib(s.peakRssKiB),
        `${mib(last)} (${s.waitedS} s)`,
        pct(s.cpuPercent),
        s.legitAfter.opened ? `opened, ${ms(s.legitAfter.latencyMs)}` : 'not opened',
      ];
    }),
  );
}

export function costTable(r: Results): string | null {
  if (!r.spaCost || r.spaCost.rows.length === 0) return null;
  return table(
    ['packet (openSpa)', 'µs, 1 client', 'µs, 10,000 clients', '10,000 ÷ 1'],
    r.spaCost.rows.map((x) => [`${x.packet} (${x.outcome})`, x.us1.toFixed(2), x.us10k.toFixed(2), ratio(x.ratio)]),
  );
}

export function targetsTable(r: Results): string | null {
  if (r.targets.length === 0) return null;
  return table(
    ['target (from the issue)', 'knockgate', 'measured', ''],
    r.targets.map((t) => [t.target, t.subject, t.measured, t.met === null ? 'n/a' : t.met ? 'met' : '**missed**']),
  );
}

export function machineLine(r: Results): string {
  const m = r.machine;
  const pk = Object.entries(m.packages)
    .map(([k, v]) => `${k} ${v ?? 'absent'}`)
    .join(', ');
  return `${m.cpuModel}, ${m.cores} cores, ${m.memTotalMiB} MiB; ${m.os}; kernel ${m.kernel}; Node ${m.node}; knockgate ${m.knockgate}; ${pk}.`;
}

function loadLine(r: Results): string {
  const per = r.daemons
    .filter((d) => d.backgroundCpuPercent !== undefined)
    .map((d) => `${d.kind} ${d.backgroundCpuPercent}%`);
  return `Other load on the machine (CPU busy, % of one core): ${r.load.beforePercent ?? DASH}% before the run, ${r.load.afterPercent ?? DASH}% after${per.length ? `; before each subject: ${per.join(', ')}` : ''}.`;
}

export function renderText(r: Results, rates: readonly number[]): string {
  const parts: string[] = [];
  parts.push(`Machine: ${machineLine(r)}`);
  parts.push(loadLine(r));
  parts.push(
    `Run: ${new Date(r.generatedAt).toISOString()}, ${Math.round(r.durationS)} s, options ${JSON.stringify(r.options)}`,
  );
  parts.push('', mainTable(r, rates));
  if (r.comparisons.length) parts.push('', comparisonTable(r));
  for (const t of [burstTable(r), stormTable(r), costTable(r), targetsTable(r)]) if (t) parts.push('', t);
  const errs = r.daemons.flatMap((d) => d.errors.map((e) => `${d.kind}: ${e}`));
  if (errs.length) parts.push('', 'Errors:', ...errs.map((e) => `- ${e}`));
  return parts.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Charts and files

export function charts(r: Results, rates: readonly number[]): Record<string, string> {
  const withLatency = r.daemons.filter((d) => d.latency);
  const out: Record<string, string> = {};
  out['latency.svg'] = latencyChart(
    'Last packet → protected port answers (median, p10–p90)',
    withLatency.map((d) => ({
      label: d.label,
      median: d.latency?.summary.median ?? null,
      p10: d.latency?.summary.p10 ?? null,
      p90: d.latency?.summary.p90 ?? null,
      color: KINDS[d.kind].color,
      ...(d.latency && d.latency.summary.n === 0 ? { note: 'never opened' } : {}),
    })),
    5,
  );
  const withFloods = r.daemons.filter((d) => d.floods?.length);
  const seriesOf = (f: (x: FloodRate) => number | null) =>
    withFloods.map((d) => ({
      name: d.label,
      color: KINDS[d.kind].color,
      dashed: !d.isKnockgate,
      values: rates.map((rate) => {
        const x = d.floods?.find((y) => y.rate === rate);
        return x ? f(x) : null;
      }),
    }));
  out['open-rate.svg'] = lineChart({
    title: 'Legitimate knock opened during spoofed junk floods',
    xLabel: 'junk flood rate (packets per second, random spoofed sources)',
    yLabel: 'trials in which the port opened (%)',
    xs: rates,
    xTick: (x) => `${rateLabel(x)} pps`,
    series: seriesOf((x) => (x.total ? (100 * x.opened) / x.total : null)),
    yMax: 100,
    ySuffix: '%',
  });
  out['cpu.svg'] = lineChart({
    title: 'Daemon CPU during spoofed junk floods (mean over trials)',
    xLabel: 'junk flood rate (packets per second, random spoofed sources)',
    yLabel: 'CPU, % of one core (daemon and its children)',
    xs: rates,
    xTick: (x) => `${rateLabel(x)} pps`,
    series: seriesOf((x) => x.cpuPercentMean),
    ySuffix: '%',
  });
  return out;
}

const DOC_STUB = `# Benchmarks\n\nGenerated by \`npm run bench\`.\n\n${RESULTS_BEGIN}\n${RESULTS_END}\n`;

export function docSection(r: Results, rates: readonly number[], docFile: string, outDir: string): string {
  const rel = (f: string): string => relative(dirname(docFile), join(outDir, f));
  const lines: string[] = [];
  lines.push(
    `_Generated by \`npm run bench\` on ${r.generatedAt.slice(0, 10)} (${Math.round(r.durationS / 60)} min; options: ${Object.entries(
      r.options,
    )
      .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)
      .join(', ')}). Raw figures: [${rel('results.json')}](${rel('results.json')})._`,
  );
  lines.push('', `Machine: ${machineLine(r)}`, '', loadLine(r));
  lines.push('', mainTable(r, rates));
  if (r.comparisons.length)
    lines.push(
      '',
      "knockgate's ratio to each peer (for latency and memory, below 1× is better):",
      '',
      comparisonTable(r),
    );
  lines.push(
    '',
    `![latency](${rel('latency.svg')})`,
    '',
    `![open rate under floods](${rel('open-rate.svg')})`,
    '',
    `![CPU under floods](${rel('cpu.svg')})`,
  );
  const b = burstTable(r);
  if (b) lines.push('', '### Bursts of valid SPA packets', '', b);
  const s = stormTable(r);
  if (s) lines.push('', '### 1,000,000 spoofed sources each starting a sequence', '', s);
  const c = costTable(r);
  if (c) lines.push('', '### Cost per SPA packet, 1 client vs 10,000 (scripts/spa-bench.ts)', '', c);
  const t = targetsTable(r);
  if (t) lines.push('', '### Targets', '', t);
  const errs = r.daemons.flatMap((d) => d.errors.map((e) => `${d.kind}: ${e}`));
  if (errs.length)
    lines.push('', '### Errors during the run', '', ...errs.map((e) => `- ${e.replace(/\s+/g, ' ').slice(0, 400)}`));
  return lines.join('\n');
}

export function writeOutputs(r: Results, rates: readonly number[], outDir: string, docFile: string | null): string[] {
  mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  const jsonFile = join(outDir, 'results.json');
  writeFileSync(jsonFile, `${JSON.stringify(r, null, 2)}\n`);
  written.push(jsonFile);
  for (const [name, svg] of Object.entries(charts(r, rates))) {
    writeFileSync(join(outDir, name), svg);
    written.push(join(outDir, name));
  }
  if (docFile) {
    const doc = existsSync(docFile) ? readFileSync(docFile, 'utf8') : DOC_STUB;
    const a = doc.indexOf(RESULTS_BEGIN);
    const b = doc.indexOf(RESULTS_END);
    const section = docSection(r, rates, docFile, outDir);
    const next =
      a >= 0 && b > a
        ? `${doc.slice(0, a + RESULTS_BEGIN.length)}\n${section}\n${doc.slice(b)}`
        : `${doc.trimEnd()}\n\n${RESULTS_BEGIN}\n${section}\n${RESULTS_END}\n`;
    writeFileSync(docFile, next);
    written.push(docFile);
  }
  return written;
}
