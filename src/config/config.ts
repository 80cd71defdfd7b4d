/**
 * The compiled, frozen configuration the daemon runs on. Built once by loadConfig(); a future
 * reload builds a whole new one and swaps it in, or keeps the old one.
 */

import type { Door } from '../core/door.js';

export type FirewallKind = 'nftables' | 'iptables' | 'none';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface SpaSettings {
  /** Absolute path of the X25519 server key written by `knockgate keygen` (native SPA doors). */
  readonly serverKeyFile: string | null;
  /**
   * Key rotation: the server key before serverKeyFile's, and the end of its overlap (Unix ms);
   * both set or both null. Packets made for it are accepted before that instant, then refused
   * as `spa-retired-key`.
   */
  readonly previousServerKeyFile: string | null;
  readonly previousKeyUntilMs: number | null;
  /** A packet is accepted when |now - its timestamp| is at most this. */
  readonly freshnessMs: number;
  readonly replayJournal: string;
  readonly maxReplayEntries: number;
  /** Live replay records one client (or fwknop stanza) may hold. */
  readonly maxReplayEntriesPerClient: number;
}

/** Where a followed kernel log comes from (sensor: kernel-log). */
export type KernelLogSource =
  | { readonly kind: 'kmsg' }
  | { readonly kind: 'journal' }
  | { readonly kind: 'file'; readonly path: string };

/**
 * How knocks are seen: libpcap on `interfaces` (the default), an NFLOG group the table's log rule
 * feeds, or the netfilter LOG lines of the kernel log. `logRule`: knockgate's table adds the
 * `log prefix` rule for the knock ports (false: the operator's own LOG rules write the lines).
 */
export type SensorConfig =
  | { readonly kind: 'pcap' }
  | { readonly kind: 'nflog'; readonly group: number }
  | {
      readonly kind: 'kernel-log';
      readonly prefix: string;
      readonly source: KernelLogSource;
      readonly logRule: boolean;
    };

export interface Config {
  /** Absolute path of the file it came from. */
  readonly file: string;
  /** Interfaces to capture on; ['any'] means every interface. */
  readonly interfaces: readonly string[];
  /** Those of `interfaces` that may be missing at start (waited for, captured once they appear). */
  readonly lateInterfaces: readonly string[];
  /** Line of `interfaces:` in `file`, for errors found after loading (a missing interface). */
  readonly interfacesLine: number | null;
  /** How knocks are seen (`sensor:`). */
  readonly sensor: SensorConfig;
  /** Interfaces where protected ports are not dropped, besides lo (always exempt). */
  readonly exemptInterfaces: readonly string[];
  readonly firewall: FirewallKind;
  readonly nftTable: string;
  readonly maxTrackedSequences: number;
  readonly logLevel: LogLevel;
  readonly logFile: string | null;
  readonly syslog: boolean;
  readonly pidFile: string | null;
  /** Absolute path of the pending stop commands file. */
  readonly pendingCommands: string;
  /** The audit trail's file and rotation; null with `audit_log: none`. */
  readonly audit: { readonly file: string; readonly maxBytes: number; readonly keep: number } | null;
  /** Shared settings of SPA doors; null when no `spa:` section is configured. */
  readonly spa: SpaSettings | null;
  /** The Prometheus endpoint; null when no `metrics:` section is configured. */
  readonly metrics: { readonly address: string; readonly port: number } | null;
  readonly doors: readonly Door[];
  /** Non-fatal remarks found while loading (logged at start). */
  readonly warnings: readonly string[];
}
