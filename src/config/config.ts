/**
 * The compiled, frozen configuration the daemon runs on. Built once by loadConfig(); a future
 * reload builds a whole new one and swaps it in, or keeps the old one.
 */

import type { Door } from '../core/door.js';

export type FirewallKind = 'nftables' | 'none';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface Config {
  /** Absolute path of the file it came from. */
  readonly file: string;
  /** Interfaces to capture on; ['any'] means every interface. */
  readonly interfaces: readonly string[];
  readonly firewall: FirewallKind;
  readonly nftTable: string;
  readonly maxTrackedSequences: number;
  readonly logLevel: LogLevel;
  readonly doors: readonly Door[];
}
