/**
 * Cost per SPA packet with 1 and with 10,000 clients: runs scripts/spa-bench.ts (built to
 * dist/scripts/spa-bench.js; `npm run bench:spa`) and reads its figures, so the benchmark reports
 * exactly what that script measures, and the ratio 10,000 clients / 1 client for each packet kind.
 *
 * Contract: never throws; on failure returns { error } with what the script printed.
 */

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../scripts/spa-bench.js', import.meta.url));

export interface SpaCostRow {
  readonly packet: string;
  readonly outcome: string;
  readonly us1: number;
  readonly us10k: number;
  /** us10k / us1. */
  readonly ratio: number;
}

export interface SpaCost {
  readonly header?: string;
  readonly rows: SpaCostRow[];
  readonly worstRatio: number | null;
  readonly error?: string;
}

export function measureSpaCost(): SpaCost {
  const r = spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0)
    return {
      rows: [],
      worstRatio: null,
      error: `spa-bench exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout).slice(-2000)}`,
    };
  const lines = r.stdout.split('\n');
  const byPacket = new Map<string, { outcome: string; us1?: number; us10k?: number }>();
  for (const line of lines) {
    const m = /^(.*?), (1 client|10000 clients|10,000 clients)\s+([\d.]+) µs\/packet\s+\((.*)\)\s*$/.exec(line);
    if (!m) continue;
    const packet = (m[1] as string).trim();
    const entry = byPacket.get(packet) ?? { outcome: m[4] as string };
    if (m[2] === '1 client') entry.us1 = Number(m[3]);
    else entry.us10k = Number(m[3]);
    byPacket.set(packet, entry);
  }
  const rows: SpaCostRow[] = [];
  for (const [packet, e] of byPacket) {
    if (e.us1 === undefined || e.us10k === undefined) continue;
    rows.push({
      packet,
      outcome: e.outcome,
      us1: e.us1,
      us10k: e.us10k,
      ratio: Math.round((e.us10k / e.us1) * 100) / 100,
    });
  }
  if (rows.length === 0)
    return { rows, worstRatio: null, error: `no figures in spa-bench output: ${r.stdout.slice(0, 1000)}` };
  return { header: lines[0], rows, worstRatio: Math.max(...rows.map((x) => x.ratio)) };
}
