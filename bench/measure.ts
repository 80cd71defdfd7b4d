/**
 * What the benchmark reads about a daemon from /proc, and the small statistics it reports.
 *
 * Contract:
 *  - A daemon's cost is that of its process tree: the daemon itself plus every live descendant
 *    (knockgated's libnftables worker, fwknopd's iptables children), found by scanning /proc for
 *    parent links. CPU is utime+stime of the tree, plus cutime+cstime (children already reaped),
 *    in clock ticks (sysconf(_SC_CLK_TCK) = 100 on Linux); CPU% is of one core. RSS is VmRSS, KiB.
 *  - A Sampler reads every `intervalMs` (default 100 ms) and keeps only the peak RSS and the first
 *    and last CPU readings; it never throws because a process went away (it stops counting).
 *  - Nothing here sends a packet or changes anything; it only reads.
 */

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';

/** USER_HZ: fixed at 100 by the Linux ABI for /proc/PID/stat. */
export const CLK_TCK = 100;

interface StatFields {
  readonly ppid: number;
  /** utime + stime + cutime + cstime, ticks. */
  readonly ticks: number;
}

function readStat(pid: number): StatFields | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // The command name is in parentheses and may itself contain spaces or parentheses.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number): number => Number(rest[i] ?? 0);
  // After ")": state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
  return { ppid: n(1), ticks: n(11) + n(12) + n(13) + n(14) };
}

/** VmRSS of one process, KiB; null when it is gone. */
export function rssKiB(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) : 0; // a zombie has no VmRSS line
  } catch {
    return null;
  }
}

/** Every live descendant of `pid` (not `pid` itself). */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) parentOf.set(Number(name), s.ppid);
  }
  const out: number[] = [];
  const frontier = [pid];
  while (frontier.length > 0) {
    const p = frontier.pop() as number;
    for (const [child, parent] of parentOf) {
      if (parent === p) {
        out.push(child);
        frontier.push(child);
      }
    }
  }
  return out;
}

export interface TreeReading {
  readonly alive: boolean;
  /** VmRSS of the daemon process alone, KiB. */
  readonly rssKiB: number;
  /** VmRSS summed over the daemon and its live descendants, KiB. */
  readonly treeRssKiB: number;
  /** CPU ticks of the tree (see the contract). */
  readonly ticks: number;
  /** When, ms (performance.now()). */
  readonly at: number;
}

export function readTree(pid: number): TreeReading {
  const at = performance.now();
  const self = readStat(pid);
  const selfRss = rssKiB(pid);
  if (!self || selfRss === null) return { alive: false, rssKiB: 0, treeRssKiB: 0, ticks: 0, at };
  let ticks = self.ticks;
  let tree = selfRss;
  for (const d of descendants(pid)) {
    ticks += readStat(d)?.ticks ?? 0;
    tree += rssKiB(d) ?? 0;
  }
  return { alive: true, rssKiB: selfRss, treeRssKiB: tree, ticks, at };
}

export interface SamplerResult {
  readonly seconds: number;
  /** Of one core, over the sampled interval. */
  readonly cpuPercent: number;
  readonly peakRssKiB: number;
  readonly peakTreeRssKiB: number;
  readonly lastTreeRssKiB: number;
  readonly samples: number;
  readonly alive: boolean;
}

/** Samples a daemon's tree every intervalMs until stop(). */
export class Sampler {
  private readonly first: TreeReading;
  private last: TreeReading;
  private peak = 0;
  private peakTree = 0;
  private n = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 100,
  ) {
    this.first = readTree(pid);
    this.last = this.first;
    this.take(this.first);
    this.timer = setInterval(() => this.take(readTree(this.pid)), intervalMs);
  }

  private take(r: TreeReading): void {
    if (!r.alive) return;
    this.last = r;
    this.n++;
    if (r.rssKiB > this.peak) this.peak = r.rssKiB;
    if (r.treeRssKiB > this.peakTree) this.peakTree = r.treeRssKiB;
  }

  stop(): SamplerResult {
    clearInterval(this.timer);
    this.take(readTree(this.pid));
    const seconds = (this.last.at - this.first.at) / 1000;
    const cpu = seconds > 0 ? ((this.last.ticks - this.first.ticks) / CLK_TCK / seconds) * 100 : 0;
    return {
      seconds,
      cpuPercent: Math.max(0, cpu),
      peakRssKiB: this.peak,
      peakTreeRssKiB: this.peakTree,
      lastTreeRssKiB: this.last.treeRssKiB,
      samples: this.n,
      alive: readStat(this.pid) !== null,
    };
  }
}

/** CPU% of the tree over `ms` milliseconds. */
export async function cpuOver(pid: number, ms: number): Promise<number> {
  const s = new Sampler(pid, Math.max(50, ms));
  await new Promise((r) => setTimeout(r, ms));
  return s.stop().cpuPercent;
}

/**
 * Waits until the daemon's tree uses less than `belowPercent` of a core over 250 ms (it has worked
 * through what it had queued), for at most `maxMs`; returns how long it took.
 */
export async function waitIdle(pid: number, maxMs = 5000, belowPercent = 15): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < maxMs) {
    if ((await cpuOver(pid, 250)) < belowPercent) break;
  }
  return performance.now() - start;
}

function cpuJiffies(): { busy: number; total: number } {
  const f = (readFileSync('/proc/stat', 'latin1').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user/nice)
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total };
}

/** How busy the whole machine is over `ms`, in % of one core (200% = both of two cores busy). */
export async function machineBusyPercent(ms: number): Promise<number> {
  const a = cpuJiffies();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuJiffies();
  const total = b.total - a.total;
  return total > 0 ? Math.round(((b.busy - a.busy) / total) * cpus().length * 1000) / 10 : 0;
}

export interface Summary {
  readonly n: number;
  readonly median: number | null;
  readonly p10: number | null;
  readonly p90: number | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly mean: number | null;
}

/** Percentile by linear interpolation between closest ranks. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 1) return sorted[0] as number;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (rank - lo);
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { n: 0, median: null, p10: null, p90: null, min: null, max: null, mean: null };
  const s = [...values].sort((a, b) => a - b);
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    n: s.length,
    median: r(percentile(s, 50)),
    p10: r(percentile(s, 10)),
    p90: r(percentile(s, 90)),
    min: r(s[0] as number),
    max: r(s[s.length - 1] as number),
    mean: r(s.reduce((a, b) => a + b, 0) / s.length),
  };
}

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly kernel: string;
  readonly node: string;
  readonly memTotalMiB: number;
  readonly os: string;
  readonly packages: Record<string, string | null>;
  readonly knockgate: string;
}

const PACKAGES = ['knockd', 'fwknop-server', 'fwknop-client', 'iptables', 'nftables', 'libpcap0.8', 'conntrack'];

export function machineInfo(knockgateVersion: string): MachineInfo {
  const packages: Record<string, string | null> = {};
  for (const p of PACKAGES) {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax, not a template
    const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', p], { encoding: 'utf8' });
    packages[p] = r.status === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : null;
  }
  let os = 'unknown';
  try {
    os = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    /* not there */
  }
  let memTotalMiB = 0;
  try {
    memTotalMiB = Math.round(
      Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024,
    );
  } catch {
    /* not there */
  }
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    kernel: release(),
    node: process.version,
    memTotalMiB,
    os,
    packages,
    knockgate: knockgateVersion,
  };
}
