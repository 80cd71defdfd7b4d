/**
 * Everything the running daemon is given (by the composition root, compose.ts, or by a test): the
 * frozen configuration and one adapter per port. The daemon builds no adapter of its own.
 */

import type { Config } from '../config/config.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { GrantRecordStore } from '../ports/grant-records.js';
import type { Clock } from '../ports/clock.js';
import type { Commands } from '../ports/commands.js';
import type { DatagramSourceFactory } from '../ports/datagram-source.js';
import type { Gate } from '../ports/gate.js';
import type { Logger } from '../ports/logger.js';
import type { Metrics } from '../ports/metrics.js';
import type { OneTimeSequenceStore } from '../ports/one-time-sequences.js';
import type { PacketSourceFactory } from '../ports/packet-source.js';
import type { ParsedPacketSourceFactory } from '../ports/parsed-packet-source.js';
import type { PendingCommandStore } from '../ports/pending-commands.js';
import type { ReplayStore } from '../ports/replay-store.js';
import type { BurntCounterStore } from '../ports/totp-burnt.js';

export interface DaemonDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly clock: Clock;
  readonly gate: Gate;
  readonly sources: PacketSourceFactory;
  /** Sensors of already-parsed packets (a firewall log); none until such a sensor is configured. */
  readonly parsedSources: readonly ParsedPacketSourceFactory[];
  /** Opens a UDP socket for an SPA door in `socket` mode. */
  readonly datagrams: DatagramSourceFactory;
  readonly commands: Commands;
  /** Where the daemon's counters and gauges are declared and kept; exporters read its snapshot. */
  readonly metrics: Metrics;
  /** The one-time sequences of the doors that have them, by door index. */
  readonly oneTimeSequences: ReadonlyMap<number, OneTimeSequenceStore>;
  /** The shared secrets of the doors whose sequence changes with time, by door index; absent: none. */
  readonly totpSecrets?: ReadonlyMap<number, Uint8Array>;
  /** The burnt counters of those doors (opened at start when some door has one); absent or null: none. */
  readonly totpBurnt?: BurntCounterStore | null;
  /** The server's X25519 private key (each SPA door derives its own keys from it); null without native SPA doors. */
  readonly serverKey: Uint8Array | null;
  /** Key rotation: the previous server key, accepted until spa.previous_key_until; absent or null without one. */
  readonly previousServerKey?: Uint8Array | null;
  /** null when no door takes SPA or fwknop datagrams. */
  readonly replay: ReplayStore | null;
  /** null when no door has a stop command and none was left from before. */
  readonly pendingCommands: PendingCommandStore | null;
  /**
   * Where a reload reads its configuration again (knockgated: the same file, validated in full and
   * its files read, as at start); it throws the ConfigError or KnockgateError that names the fault.
   * Absent: the daemon cannot be reloaded (a test that does not need it).
   */
  readonly reloadSource?: () => Promise<Configured>;
  /** The audit trail; null with `audit_log: none`. */
  readonly audit: AuditLog | null;
  /** The grant book's labels across restarts; null when the gate holds no grants (`firewall: none`). */
  readonly grantRecords: GrantRecordStore | null;
}

/** What one configuration brings: the config itself and the files it names (compose.ts reads them). */
export type Configured = Pick<
  DaemonDeps,
  'config' | 'oneTimeSequences' | 'totpSecrets' | 'serverKey' | 'previousServerKey'
>;
