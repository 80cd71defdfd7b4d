/**
 * The benchmark's packet sender, from TypeScript: builds bench/flood.c when needed and runs it in a
 * testbed namespace. See the comment at the top of bench/flood.c for what the sender does.
 *
 * Contract:
 *  - floodBinary() returns the path of dist/bench/flood, first compiling it with
 *    `cc -O2 -Wall -Wextra` when it is missing or older than bench/flood.c (into a temporary name,
 *    renamed into place, so concurrent callers never run a half-written binary). Throws if cc fails.
 *  - startFlood() starts it in namespace `ns` through tb.start (so the testbed kills it on destroy).
 *    `done` resolves with the sender's JSON summary when it exits 0, and rejects (with its stderr)
 *    on any other exit, on a missing summary, or if it outlives `seconds` + 15 s (then it is killed
 *    by PID). stop() sends SIGTERM by PID; the sender then stops and still reports its summary.
 *  - macOf() reads an interface's MAC address with `ip -j link show`.
 */

import { renameSync, statSync, unlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Testbed } from '../test/support/netns.js';

export interface FloodOptions {
  mode: 'syn' | 'udp-random' | 'udp-native' | 'udp-fwknop' | 'frames';
  ifname: string;
  srcMac: string;
  dstMac: string;
  dst: string;
  spoof?: string;
  ports?: number[];
  framesFile?: string;
  rate: number;
  count: number;
  seconds: number;
  seed?: number;
}

export interface FloodSummary {
  sent: number;
  errors: number;
  seconds: number;
  pps: number;
  seed: number;
}

/** Time a sender may outlive its own --seconds before it is killed and `done` rejects. */
const EXIT_GRACE_MS = 15_000;
/** Bytes of the sender's stdout/stderr kept. */
const MAX_OUTPUT_BYTES = 64 * 1024;

const ROOT = fileURLToPath(new URL('../../', import.meta.url)); // dist/bench/ -> repository root
const SOURCE = `${ROOT}bench/flood.c`;
const BINARY = `${ROOT}dist/bench/flood`;

function mtimeMs(path: string): number | null {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

export function floodBinary(): string {
  const src = mtimeMs(SOURCE);
  const bin = mtimeMs(BINARY);
  if (src === null) {
    if (bin !== null) return BINARY; // shipped without its source: use what is there
    throw new Error(`neither ${BINARY} nor its source ${SOURCE} exists`);
  }
  if (bin !== null && bin >= src) return BINARY;
  const tmp = `${BINARY}.tmp-${process.pid}`;
  const r = spawnSync('cc', ['-O2', '-Wall', '-Wextra', '-o', tmp, SOURCE], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) {
    try {
      unlinkSync(tmp);
    } catch {
      /* nothing written */
    }
    throw new Error(`cc bench/flood.c failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? '').trim()}`);
  }
  renameSync(tmp, BINARY);
  return BINARY;
}

function argvOf(o: FloodOptions): string[] {
  const a = ['--mode', o.mode, '--ifname', o.ifname, '--src-mac', o.srcMac, '--dst-mac', o.dstMac, '--dst', o.dst];
  if (o.spoof !== undefined) a.push('--spoof', o.spoof);
  if (o.ports !== undefined && o.ports.length > 0) a.push('--ports', o.ports.join(','));
  if (o.framesFile !== undefined) a.push('--frames', o.framesFile);
  a.push('--rate', String(o.rate), '--count', String(o.count), '--seconds', String(o.seconds));
  if (o.seed !== undefined) a.push('--seed', String(o.seed));
  return a;
}

function isSummary(v: unknown): v is FloodSummary {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return ['sent', 'errors', 'seconds', 'pps', 'seed'].every((k) => typeof r[k] === 'number');
}

export function startFlood(tb: Testbed, ns: string, o: FloodOptions): { done: Promise<FloodSummary>; stop(): void } {
  const child = tb.start(ns, [floodBinary(), ...argvOf(o)]); // `ip netns exec` execs: child.pid is flood's
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    if (stdout.length < MAX_OUTPUT_BYTES) stdout += d;
  });
  child.stderr?.on('data', (d: string) => {
    if (stderr.length < MAX_OUTPUT_BYTES) stderr += d;
  });
  const signal = (sig: NodeJS.Signals): void => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, sig);
      } catch {
        /* already gone */
      }
    }
  };

  const done = new Promise<FloodSummary>((resolve, reject) => {
    const limitMs = Math.max(0, o.seconds) * 1000 + EXIT_GRACE_MS;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      signal('SIGKILL');
    }, limitMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`flood could not start: ${err.message}`));
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      let summary: unknown = null;
      try {
        summary = JSON.parse(line);
      } catch {
        /* no summary */
      }
      if (timedOut)
        reject(
          new Error(
            `flood outlived its ${o.seconds} s by ${EXIT_GRACE_MS} ms and was killed; stderr: ${stderr.trim()}`,
          ),
        );
      else if (code === 0 && isSummary(summary)) resolve(summary);
      else
        reject(
          new Error(
            `flood ${o.mode} exited ${code ?? sig}${isSummary(summary) ? ` after ${summary.sent} packets` : ''}: ${stderr.trim()}`,
          ),
        );
    });
  });
  return { done, stop: () => signal('SIGTERM') };
}

export function macOf(tb: Testbed, ns: string, ifname: string): string {
  const out = tb.run(ns, ['ip', '-j', 'link', 'show', 'dev', ifname]);
  const parsed = JSON.parse(out) as Array<{ address?: unknown }>;
  const mac = parsed[0]?.address;
  if (typeof mac !== 'string' || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac))
    throw new Error(`no MAC address for ${ifname} in ${ns}`);
  return mac.toLowerCase();
}
