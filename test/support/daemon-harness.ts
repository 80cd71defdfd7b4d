/**
 * The daemon in process, on the in-memory adapters (issue 11: "the daemon, in process, in unit
 * tests"): a MemoryGate with kernel-like expiry (NoGate with `firewall: none`), MemoryPacketSources (raw IP frames, see
 * frames.ts) and MemoryDatagramSources, MemoryCommands (nothing forks), MemoryPendingCommands,
 * MemoryAuditLog and MemoryGrantRecords,
 * a real replay journal in a temporary directory, and a ManualClock that the test moves: a grant's
 * whole life runs in milliseconds. Options swap in real adapters where a test needs them (the
 * command runner and the system clock, for tests of commands that must really run).
 *
 * settle() lets the promises of a grant (gate, journal group commit, setImmediate layout step) run.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/load.js';
import { ManualClock } from '../../src/daemon/clock.js';
import { type Configured, Daemon } from '../../src/daemon/daemon.js';
import { MetricRegistry } from '../../src/metrics/registry.js';
import { MemoryGate } from '../../src/gates/memory.js';
import { NoGate } from '../../src/gates/none.js';
import type { Clock } from '../../src/ports/clock.js';
import { MemoryAuditLog } from '../../src/ports/audit-log.js';
import { MemoryCommands, type Commands } from '../../src/ports/commands.js';
import { MemoryGrantRecords } from '../../src/ports/grant-records.js';
import { MemoryLogger, type Logger } from '../../src/ports/logger.js';
import type { OneTimeSequenceStore } from '../../src/ports/one-time-sequences.js';
import { MemoryPendingCommands, type PendingCommandStore } from '../../src/ports/pending-commands.js';
import { MemoryDatagramSources, MemoryPacketSources, MemoryParsedPackets } from '../../src/sensors/memory.js';
import { ReplayJournal } from '../../src/stores/replay-journal.js';
import { type BurntCounterStore, MemoryBurntCounters } from '../../src/ports/totp-burnt.js';

/** 2026-09-21, a fixed wall clock for packet timestamps. */
export const T0_UNIX_MS = 1_790_000_000_000;

export interface DaemonHarnessOptions {
  /** Default: a ManualClock at T0_UNIX_MS. */
  readonly clock?: Clock;
  /** Default: MemoryCommands; a function gets the daemon's logger (for a real CommandRunner). */
  readonly commands?: Commands | ((log: Logger) => Commands);
  /** Default: an empty MemoryPendingCommands; null: no store (as without stop commands). */
  readonly pending?: PendingCommandStore | null;
  readonly serverKey?: Uint8Array;
  readonly oneTimeSequences?: ReadonlyMap<number, OneTimeSequenceStore>;
  /** Time-based doors' secrets, by door index (the files the YAML names are not read). */
  readonly totpSecrets?: ReadonlyMap<number, Uint8Array>;
  /** Default: a new MemoryBurntCounters (give the last one's to restart with what it burnt); null: none, as knockgated without time-based doors. */
  readonly totpBurnt?: BurntCounterStore | null;
  /** Default: an empty MemoryAuditLog. */
  readonly audit?: MemoryAuditLog;
  /** Default: an empty MemoryGrantRecords (what a restart finds: give it the last one's `saved`). */
  readonly grantRecords?: MemoryGrantRecords;
  /** Default: a new MemoryGate on the clock (give the last one's to restart on the same kernel). */
  readonly gate?: MemoryGate;
  /** Called with the directory before the config is parsed (files the YAML names go there). */
  readonly dir?: string;
  /** Where Daemon.reloadFromSource() reads the configuration again (none by default). */
  readonly reloadSource?: () => Promise<Configured>;
}

export async function daemonHarness(yaml: string | ((dir: string) => string), o: DaemonHarnessOptions = {}) {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'kg-daemon-'));
  const config = parseConfigText(join(dir, 'knockgate.yaml'), typeof yaml === 'string' ? yaml : yaml(dir));
  const clock = o.clock ?? new ManualClock(T0_UNIX_MS);
  const manual = clock instanceof ManualClock ? clock : undefined;
  const gate = o.gate ?? new MemoryGate(() => clock.nowMs());
  const audit = o.audit ?? new MemoryAuditLog();
  const grantRecords = o.grantRecords ?? new MemoryGrantRecords();
  const frames = new MemoryPacketSources('raw');
  const parsed = new MemoryParsedPackets();
  const datagrams = new MemoryDatagramSources();
  const log = new MemoryLogger();
  const commands = typeof o.commands === 'function' ? o.commands(log) : (o.commands ?? new MemoryCommands());
  const pending = o.pending === undefined ? new MemoryPendingCommands() : o.pending;
  const takesDatagrams = config.doors.some((d) => d.spa !== null || d.fwknop !== null);
  const replay = takesDatagrams
    ? await ReplayJournal.open(join(dir, 'replay.journal'), 100_000, () => clock.unixMs())
    : null;
  const metrics = new MetricRegistry();
  const totpBurnt = o.totpBurnt === undefined ? new MemoryBurntCounters() : o.totpBurnt;
  const daemon = new Daemon({
    config,
    log,
    clock,
    gate: config.firewall === 'none' ? new NoGate() : gate,
    sources: frames,
    parsedSources: [parsed],
    datagrams: datagrams.open,
    commands,
    metrics,
    oneTimeSequences: o.oneTimeSequences ?? new Map(),
    totpSecrets: o.totpSecrets ?? new Map(),
    totpBurnt,
    serverKey: o.serverKey ?? null,
    replay,
    pendingCommands: pending,
    reloadSource: o.reloadSource,
    audit,
    grantRecords,
  });
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 8; i++) await new Promise((r) => setImmediate(r));
  };
  /** Moves the manual clock and lets what falls due run. */
  const advance = async (ms: number): Promise<void> => {
    if (manual === undefined) throw new Error('advance() needs the ManualClock');
    manual.advance(ms);
    await settle();
  };
  const events = (event: string) => log.lines.filter((l) => l.fields.event === event);
  return {
    daemon,
    metrics,
    config,
    clock,
    gate,
    frames,
    parsed,
    datagrams,
    commands,
    pending,
    audit,
    grantRecords,
    totpBurnt,
    log,
    dir,
    settle,
    advance,
    events,
    close: async () => {
      await daemon.stop();
      if (o.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}
