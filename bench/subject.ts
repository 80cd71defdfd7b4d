/**
 * A daemon under test, whichever it is (knockgated with one kind of door, knockd, fwknopd in one of
 * its modes), behind one interface, so that the harness puts every one of them through exactly the
 * same client actions.
 *
 * Contract: every subject runs in its own fresh testbed (test/support/netns.ts) whose server
 * namespace has a TCP banner server on OPEN_PORT that is unreachable from the client until the
 * daemon grants it; reverse-path filtering is off in the server namespace (so spoofed flood
 * sources are delivered, as on a host with a default route); conntrack is in use there (every
 * ruleset has an established/related accept). stop() kills what the subject started, by PID, and
 * destroys the testbed; it is safe to call twice.
 */

import { spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BANNER_SERVER } from '../test/support/daemon-process.js';
import { createTestbed, type Testbed } from '../test/support/netns.js';
import type { FloodOptions } from './flood.js';
import type { ProbeKnock } from './knock-probe.js';

export const KIND_NAMES = [
  'knockgate-seq',
  'knockgate-spa',
  'knockgate-fwknop',
  'knockd',
  'fwknopd-pcap',
  'fwknopd-pcap-tuned',
  'fwknopd-udp',
] as const;
export type KindName = (typeof KIND_NAMES)[number];

export const OPEN_PORT = 22;
export const KNOCK_PORTS = [7000, 8000, 9000] as const;
export const SPA_PORT = 62201;
export const SEQUENCE_TIMEOUT_S = 10;
export const GRANT_S = 120;

export interface KindInfo {
  readonly label: string;
  readonly family: 'sequence' | 'spa';
  readonly isKnockgate: boolean;
  /** Junk flood modes, alternated trial by trial. */
  readonly junk: readonly FloodOptions['mode'][];
  readonly color: string;
}

export const KINDS: Readonly<Record<KindName, KindInfo>> = {
  'knockgate-seq': {
    label: 'knockgate, 3-port sequence door',
    family: 'sequence',
    isKnockgate: true,
    junk: ['syn'],
    color: '#1b7f3b',
  },
  'knockgate-spa': {
    label: 'knockgate, native SPA (ed25519)',
    family: 'spa',
    isKnockgate: true,
    junk: ['udp-random', 'udp-native'],
    color: '#2f9e5a',
  },
  'knockgate-fwknop': {
    label: 'knockgate, fwknop-compatible SPA',
    family: 'spa',
    isKnockgate: true,
    junk: ['udp-random', 'udp-fwknop'],
    color: '#6cc08b',
  },
  knockd: {
    label: 'knockd 0.8, 3-port sequence',
    family: 'sequence',
    isKnockgate: false,
    junk: ['syn'],
    color: '#c0392b',
  },
  'fwknopd-pcap': {
    label: 'fwknopd 2.6.10, pcap, defaults',
    family: 'spa',
    isKnockgate: false,
    junk: ['udp-random', 'udp-fwknop'],
    color: '#2c6fbb',
  },
  'fwknopd-pcap-tuned': {
    label: 'fwknopd 2.6.10, pcap, tuned loop',
    family: 'spa',
    isKnockgate: false,
    junk: ['udp-random', 'udp-fwknop'],
    color: '#8e44ad',
  },
  'fwknopd-udp': {
    label: 'fwknopd 2.6.10, UDP-server mode',
    family: 'spa',
    isKnockgate: false,
    junk: ['udp-random', 'udp-fwknop'],
    color: '#d68910',
  },
};

/** knockgate's door compared with which peers. */
export const PEERS_OF: Readonly<Partial<Record<KindName, readonly KindName[]>>> = {
  'knockgate-seq': ['knockd'],
  'knockgate-spa': ['fwknopd-pcap', 'fwknopd-pcap-tuned', 'fwknopd-udp'],
  'knockgate-fwknop': ['fwknopd-pcap', 'fwknopd-pcap-tuned', 'fwknopd-udp'],
};

export interface GrantCount {
  /** Distinct IPv4 sources holding a grant for OPEN_PORT. */
  readonly sources: number;
  /** Grant entries (set elements, iptables rules) for OPEN_PORT; more than sources = duplicates. */
  readonly entries: number;
}

export interface Subject {
  readonly kind: KindName;
  readonly info: KindInfo;
  readonly tb: Testbed;
  /** The daemon's PID (`ip netns exec` execs it, so the child's PID is the daemon's). */
  readonly pid: number;
  /** The server address the client knocks. */
  readonly host: string;
  /** Sequence: the knock ports; SPA: [the SPA port]. */
  readonly targetPorts: readonly number[];
  /** What the legitimate client sends. */
  readonly knock: ProbeKnock;
  /** A configuration summary for the results (no keys). */
  readonly config: Record<string, unknown>;
  /** Removes every grant for OPEN_PORT (the port is unreachable again for everyone). */
  resetGrants(): void;
  grants(): GrantCount;
  /** SPA subjects: a fresh valid packet that grants OPEN_PORT to `source` when it comes from there. */
  validPacket?(source: string): Uint8Array;
  /** knockgated only: its counters (SIGUSR1, then its `stats` log line), or null if none came within 3 s. */
  counters?(): Promise<Record<string, number> | null>;
  alive(): boolean;
  /** The end of the daemon's output, for error messages. */
  logTail(): string;
  stop(): void;
}

/** A fresh testbed with the protected service and spoofing-friendly sysctls, and a private temp dir. */
/**
 * A fresh testbed with the protected service and reverse-path filtering off, a scratch directory,
 * and `dispose`, which removes both; idempotent, for a subject's stop() and its failed start alike.
 */
export function prepareTestbed(): { tb: Testbed; dir: string; dispose: () => void } {
  const tb = createTestbed();
  const dir = mkdtempSync(join(tmpdir(), 'knockgate-bench-'));
  let disposed = false;
  const dispose = (): void => {
    if (disposed) return;
    disposed = true;
    tb.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ifs = [tb.server.clientSide.ifname, tb.server.otherSide.ifname, 'all', 'default'];
    tb.run(tb.server.ns, ['sysctl', '-q', '-w', ...ifs.map((i) => `net.ipv4.conf.${i}.rp_filter=0`)]);
    const banner = tb.start(tb.server.ns, [process.execPath, BANNER_SERVER, String(OPEN_PORT)]);
    drain(banner);
  } catch (err) {
    dispose();
    throw err;
  }
  return { tb, dir, dispose };
}

/** Reads a child's output so it never blocks on a full pipe; keeps the last `keep` characters. */
export function drain(child: ChildProcess, keep = 8192): () => string {
  let tail = '';
  const add = (d: Buffer | string): void => {
    tail = (tail + d.toString()).slice(-keep);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => tail;
}

/** Runs a command in a namespace; returns stdout, or null on failure (no throw). */
export function tryRun(_tb: Testbed, ns: string, argv: readonly string[]): string | null {
  const r = spawnSync('ip', ['netns', 'exec', ns, ...argv], {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return r.status === 0 ? r.stdout : null;
}

export function isAlive(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return false;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until(what: string, check: () => boolean, timeoutMs: number, stepMs = 100): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (check()) return;
    await sleep(stepMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Counts grants for OPEN_PORT in `iptables-save` output (rules of the form -s ADDR ... --dport 22 ... -j ACCEPT). */
export function countIptablesGrants(save: string, chain: string): GrantCount {
  const sources = new Set<string>();
  let entries = 0;
  const re = new RegExp(`^-A ${chain} -s (\\S+?)(?:/32)? .*--dport ${OPEN_PORT}\\b.*-j ACCEPT`);
  for (const line of save.split('\n')) {
    const m = re.exec(line);
    if (m) {
      entries++;
      sources.add(m[1] as string);
    }
  }
  return { sources: sources.size, entries };
}
