/**
 * The composition root: the one place knockgated's adapters are built from the frozen
 * configuration. In two stages, so that `knockgated --check` runs exactly the code the daemon
 * runs, up to the point where it would write state or touch the kernel:
 *   1. readConfiguredFiles(): the files the configuration names and the daemon reads once (each
 *      door's one-time sequence file or time-based secret, the server key), read and checked: a bad one is a config
 *      error, and nothing has been written;
 *   2. composeDaemon(): the state files (pending stop commands, the replay journal, the audit
 *      trail, the grant labels, the burnt time-based sequences, each opened and created if need be), the command runner, the sensors and the gate (nftables: a worker
 *      holding libnftables; iptables: chains and ipsets through the iptables and ipset programs;
 *      `firewall: none`: a gate that changes nothing).
 * With `dryRun` (knockgated --dry-run, dry-run.ts) stage 2 opens no state file and builds the
 * in-memory gate, replay store, pending commands and one-time sequences, and a command runner
 * that logs and runs nothing; the sensors stay the real ones.
 * Daemon (daemon.ts) receives them all and does no I/O of its own.
 */

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config/config.js';
import { DEFAULT_REPLAY_JOURNAL } from '../config/schema.js';
import { DEFAULT_REPLAY_ENTRIES, DEFAULT_REPLAY_ENTRIES_PER_CLIENT } from '../core/limits.js';
import { MemoryGate } from '../gates/memory.js';
import { MemoryOneTimeSequences, type OneTimeSequenceStore } from '../ports/one-time-sequences.js';
import { MemoryPendingCommands } from '../ports/pending-commands.js';
import { MemoryReplayStore } from '../stores/replay-memory.js';
import { DryRunCommands, dryRunLogger } from './dry-run.js';
import { IptablesGate } from '../gates/iptables.js';
import { NftablesGate } from '../gates/nftables.js';
import { NoGate } from '../gates/none.js';
import type { Clock } from '../ports/clock.js';
import type { Gate } from '../ports/gate.js';
import type { Logger } from '../ports/logger.js';
import type { PendingCommandStore } from '../ports/pending-commands.js';
import type { ReplayStore } from '../ports/replay-store.js';
import { pcapSourceFactory } from '../sensors/pcap.js';
import { parsedSensorsOf } from './sensor-choice.js';
import { openUdpSource } from '../sensors/udp.js';
import { readPreviousServerKey, readServerKey } from '../stores/key-files.js';
import { AuditFile } from '../stores/audit-file.js';
import { GrantRecordsFile } from '../stores/grant-records-file.js';
import { OneTimeSequenceFile } from '../stores/one-time-sequence-file.js';
import { PendingCommandsFile } from '../stores/pending-commands.js';
import { ReplayJournal } from '../stores/replay-journal.js';
import { TotpBurntFile } from '../stores/totp-burnt-file.js';
import { readTotpSecret } from '../stores/totp-key-files.js';
import { MemoryBurntCounters } from '../ports/totp-burnt.js';
import { systemClock } from './clock.js';
import { FIREWALL_BATCH_OUTCOMES, FIREWALL_BATCH_SECONDS } from '../metrics/daemon-metrics.js';
import { MetricRegistry } from '../metrics/registry.js';
import { CommandRunner } from './command-runner.js';
import type { DaemonDeps } from './daemon-deps.js';
import { hasStopCommand, listenerOf } from '../core/door.js';

/** What the configuration names and the daemon reads once, before anything else. */
export interface ConfiguredFiles {
  /** Each door's one-time sequence file, by door index. */
  readonly oneTimeSequences: ReadonlyMap<number, OneTimeSequenceFile>;
  /** Each time-based sequence door's shared secret, by door index. */
  readonly totpSecrets: ReadonlyMap<number, Uint8Array>;
  /** The server's X25519 private key, when some door is native SPA. */
  readonly serverKey: Uint8Array | null;
  /** Key rotation: the previous server key (spa.previous_server_key), checked like the current one. */
  readonly previousServerKey?: Uint8Array | null;
}

/** Stage 1 (and all of --check past the config): throws ConfigError / KnockgateError naming the file. */
export function readConfiguredFiles(config: Config): ConfiguredFiles {
  const oneTimeSequences = new Map<number, OneTimeSequenceFile>();
  config.doors.forEach((door, i) => {
    if (door.oneTimeSequencesFile !== null)
      oneTimeSequences.set(i, OneTimeSequenceFile.load(door.oneTimeSequencesFile));
  });
  const totpSecrets = new Map<number, Uint8Array>();
  config.doors.forEach((door, i) => {
    if (door.totp !== null) totpSecrets.set(i, readTotpSecret(door.totp.secretFile));
  });
  let serverKey: Uint8Array | null = null;
  if (config.doors.some((d) => d.spa !== null)) {
    const keyFile = config.spa?.serverKeyFile;
    if (!keyFile) throw new Error('SPA doors without a server key (the config loader prevents this)');
    serverKey = readServerKey(keyFile).privateKey;
  }
  const previousServerKey = serverKey === null ? null : readPreviousServerKey(config, serverKey);
  return { oneTimeSequences, totpSecrets, serverKey, previousServerKey };
}

/** Stage 2: every adapter the daemon runs on. The gate is built last (it starts a worker thread). */
export async function composeDaemon(
  config: Config,
  log: Logger,
  files: ConfiguredFiles = readConfiguredFiles(config),
  clock: Clock = systemClock,
  options: { readonly dryRun?: boolean } = {},
): Promise<DaemonDeps> {
  if (options.dryRun) return composeDryRun(config, dryRunLogger(log), files, clock);
  const pendingCommands = openPendingCommands(config);
  const audit = config.audit ? AuditFile.open(config.audit.file, config.audit) : null;
  const grantRecords =
    config.firewall !== 'none'
      ? GrantRecordsFile.open(grantRecordsPath(config), (err) =>
          log.error({ event: 'grant-records-failed', error: err.message }, err.message),
        )
      : null;
  const replay = await openReplayStore(config, clock);
  const metrics = new MetricRegistry();
  const batches = metrics.histogram(FIREWALL_BATCH_SECONDS);
  const observe = new Map(FIREWALL_BATCH_OUTCOMES.map((outcome) => [outcome, batches.with({ outcome })]));
  const observeBatch = (s: number, outcome: 'applied' | 'refused'): void => observe.get(outcome)?.observe(s);
  const gate: Gate =
    config.firewall === 'nftables'
      ? new NftablesGate(config.nftTable, () => clock.nowMs(), undefined, observeBatch)
      : config.firewall === 'iptables'
        ? new IptablesGate(config.nftTable, () => clock.nowMs(), undefined, observeBatch)
        : new NoGate();
  return {
    config,
    log,
    clock,
    gate,
    sources: pcapSourceFactory,
    parsedSources: parsedSensorsOf(config, log),
    datagrams: openUdpSource,
    commands: new CommandRunner(log),
    metrics,
    oneTimeSequences: files.oneTimeSequences,
    totpSecrets: files.totpSecrets,
    totpBurnt: config.doors.some((d) => d.totp !== null)
      ? TotpBurntFile.open(totpBurntPath(config), clock.unixMs())
      : null,
    serverKey: files.serverKey,
    previousServerKey: files.previousServerKey,
    replay,
    pendingCommands,
    audit,
    grantRecords,
  };
}

/** The daemon with every effect held in memory or logged (dry-run.ts). */
function composeDryRun(config: Config, log: Logger, files: ConfiguredFiles, clock: Clock): DaemonDeps {
  const oneTimeSequences = new Map<number, OneTimeSequenceStore>();
  for (const [i, file] of files.oneTimeSequences)
    oneTimeSequences.set(i, new MemoryOneTimeSequences(file.unusedSequences().map((s) => s.steps)));
  const s = config.spa;
  const capacity = s?.maxReplayEntries ?? DEFAULT_REPLAY_ENTRIES;
  return {
    config,
    log,
    clock,
    gate: new MemoryGate(() => clock.nowMs()),
    sources: pcapSourceFactory,
    parsedSources: parsedSensorsOf(config, log),
    datagrams: openUdpSource,
    commands: new DryRunCommands(log),
    metrics: new MetricRegistry(),
    oneTimeSequences,
    totpSecrets: files.totpSecrets,
    totpBurnt: new MemoryBurntCounters(),
    serverKey: files.serverKey,
    replay: new MemoryReplayStore(
      capacity,
      () => clock.unixMs(),
      s?.maxReplayEntriesPerClient ?? DEFAULT_REPLAY_ENTRIES_PER_CLIENT,
    ),
    pendingCommands: new MemoryPendingCommands(),
    // A dry run records no grant anywhere: no audit trail, no labels on disk.
    audit: null,
    grantRecords: null,
  };
}

/** The grant book's labels: beside the pending stop commands, one file per table. */
export function grantRecordsPath(config: Config): string {
  return join(dirname(config.pendingCommands), `grants-${config.nftTable}.json`);
}

/** The burnt counters of time-based sequence doors (stores/totp-burnt-file.ts): beside the pending stop commands, one file per table. */
export function totpBurntPath(config: Config): string {
  return join(dirname(config.pendingCommands), `totp-burnt-${config.nftTable}.txt`);
}

/** The file, when a door has a stop command or records are left from an earlier configuration; else none. */
function openPendingCommands(config: Config): PendingCommandStore | null {
  const needed = config.doors.some(hasStopCommand);
  if (!needed && !existsSync(config.pendingCommands)) return null;
  return PendingCommandsFile.open(config.pendingCommands);
}

/** The replay journal, when some door takes SPA or fwknop datagrams. */
async function openReplayStore(config: Config, clock: Clock): Promise<ReplayStore | null> {
  if (!config.doors.some((d) => listenerOf(d) !== null)) return null;
  const s = config.spa;
  return ReplayJournal.open(
    s?.replayJournal ?? DEFAULT_REPLAY_JOURNAL,
    s?.maxReplayEntries ?? DEFAULT_REPLAY_ENTRIES,
    () => clock.unixMs(),
    undefined,
    s?.maxReplayEntriesPerClient ?? DEFAULT_REPLAY_ENTRIES_PER_CLIENT,
  );
}
