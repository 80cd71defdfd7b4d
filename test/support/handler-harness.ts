/**
 * What the SPA and fwknop handlers need, for unit tests that drive them in process: the first door
 * of a YAML config, a real replay store (by default the journal, in a temporary directory; or the
 * in-memory store, stores/replay-memory.ts, with `replay: 'memory'`), clocks the test sets (`unix`
 * for packet timestamps, `mono` for budgets and known sources), a MemoryLogger, collected grants
 * and counters. settle() lets the journal's group commit (setImmediate) and the grant run.
 */

import { DaemonMetrics } from '../../src/metrics/daemon-metrics.js';
import { MetricRegistry } from '../../src/metrics/registry.js';
import { statsLine } from '../../src/metrics/stats-line.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/load.js';
import type { Door } from '../../src/core/door.js';
import { KnownSources } from '../../src/core/known-sources.js';
import { WorkBudget } from '../../src/core/work-budget.js';
import { LogLimiter } from '../../src/daemon/log-limiter.js';
import { MemoryLogger } from '../../src/ports/logger.js';
import type { ReplayStore } from '../../src/ports/replay-store.js';
import { ReplayJournal } from '../../src/stores/replay-journal.js';
import { MemoryReplayStore } from '../../src/stores/replay-memory.js';

export interface HandlerHarnessOptions {
  /** The clocks' start: `unix` (wall-clock ms) and `mono` (monotonic ms). */
  readonly unixMs: number;
  readonly monoMs?: number;
  readonly freshnessMs?: number;
  readonly journalCapacity?: number;
  /** Default: a budget no test spends. */
  readonly budget?: WorkBudget;
  readonly knownSourcesTtlMs?: number;
  /** Which ReplayStore the handlers get: the journal (default) or the in-memory store. */
  readonly replay?: 'journal' | 'memory';
  /** Log lines let through per reason per second (default: all). */
  readonly logLinesPerS?: number;
}

export async function handlerHarness(yaml: string, o: HandlerHarnessOptions) {
  const dir = mkdtempSync(join(tmpdir(), 'kg-handler-'));
  const config = parseConfigText(join(dir, 'knockgate.yaml'), yaml);
  const clock = { unix: o.unixMs, mono: o.monoMs ?? 1_000 };
  const capacity = o.journalCapacity ?? 100_000;
  const replay: ReplayStore =
    o.replay === 'memory'
      ? new MemoryReplayStore(capacity, () => clock.unix)
      : await ReplayJournal.open(join(dir, 'replay.journal'), capacity, () => clock.unix);
  const grants: string[] = [];
  const door = config.doors[0] as Door;
  const metrics = new MetricRegistry();
  // What the stats line would show: counts.get('spa_rejected_mac1'), as the daemon logs it.
  const counts = { get: (name: string): number | undefined => statsLine(metrics.snapshot())[name] };
  const log = new MemoryLogger();
  const deps = {
    door,
    replay,
    freshnessMs: o.freshnessMs ?? 120_000,
    unixMs: () => clock.unix,
    log,
    limiter: new LogLimiter(o.logLinesPerS ?? 1_000_000, () => clock.mono),
    counters: new DaemonMetrics(metrics, [door.name]).datagramDoor(door.name, door.spa ? 'spa' : 'fwknop'),
    grant: async (_d: Door, g: { source: string }) => {
      grants.push(g.source);
    },
    budget: o.budget ?? new WorkBudget(1_000_000, 1_000_000),
    knownSources: new KnownSources(100, o.knownSourcesTtlMs ?? 3_600_000),
    nowMs: () => clock.mono,
  };
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  return {
    deps,
    clock,
    grants,
    counts,
    settle,
    log,
    replay,
    close: async () => {
      await replay.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
