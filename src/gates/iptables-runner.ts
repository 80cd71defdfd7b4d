/**
 * How the iptables gate reaches the kernel: ipset(8), iptables(8)/ip6tables(8) and their
 * -restore programs, each spawned with an argv array (never a shell), a fixed PATH, a time limit
 * and a cap on what is read back; restore input goes through stdin. Whichever iptables the host's
 * alternatives name is used: iptables-nft (Debian 12's default) and iptables-legacy both take the
 * same restore text and the same ipset match.
 *
 * The programs are looked for at the gate's first use: a missing one is KG_FIREWALL_UNAVAILABLE
 * (exit 69) naming the Debian package that holds it, before anything is changed.
 */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { KnockgateError } from '../core/errors.js';
import { FIREWALL_COMMAND_TIMEOUT_MS, MAX_IPSET_LISTING_BYTES, MAX_IPTABLES_LISTING_BYTES } from '../core/limits.js';

const DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];
/** Each program and the Debian package it comes in. */
const PROGRAMS = {
  ipset: 'ipset',
  iptables: 'iptables',
  ip6tables: 'iptables',
  'iptables-restore': 'iptables',
  'ip6tables-restore': 'iptables',
} as const;
export type IptablesProgram = keyof typeof PROGRAMS;

/** How long iptables waits for the xtables lock (iptables-legacy; iptables-nft ignores it), in seconds. */
const XTABLES_WAIT_S = '5';

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
}

/** What the gate runs; the real one spawns, tests give a fake. */
export interface IptablesExecutor {
  run(program: IptablesProgram, args: readonly string[], input?: string): Promise<RunResult>;
}

export function findProgram(program: IptablesProgram): string {
  for (const dir of DIRS) {
    const path = `${dir}/${program}`;
    if (existsSync(path)) return path;
  }
  throw new KnockgateError(
    'KG_FIREWALL_UNAVAILABLE',
    `${program} not found (looked in ${DIRS.join(', ')}); firewall: iptables needs it: install the ${PROGRAMS[program]} package (apt-get install ${PROGRAMS[program]})`,
  );
}

/** Looks every program up now, so that a missing one stops the start before anything is changed. */
export function requirePrograms(): void {
  for (const p of Object.keys(PROGRAMS) as IptablesProgram[]) findProgram(p);
}

export class SpawnIptables implements IptablesExecutor {
  run(program: IptablesProgram, args: readonly string[], input?: string): Promise<RunResult> {
    const path = findProgram(program);
    const limit = program === 'ipset' ? MAX_IPSET_LISTING_BYTES : MAX_IPTABLES_LISTING_BYTES;
    return new Promise((resolve, reject) => {
      const child = spawn(path, [...args], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      });
      let stdout = '';
      let stderr = '';
      let overflow = false;
      const timer = setTimeout(() => child.kill('SIGKILL'), FIREWALL_COMMAND_TIMEOUT_MS);
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        if (stdout.length + d.length > limit) {
          overflow = true;
          child.kill('SIGKILL');
        } else stdout += d;
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        if (stderr.length < 4096) stderr += d;
      });
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(new KnockgateError('KG_FIREWALL_UNAVAILABLE', `cannot run ${path}: ${err.message}`, { cause: err }));
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        if (overflow)
          reject(
            new KnockgateError('KG_FIREWALL_FAILED', `${program} ${args.join(' ')} printed more than ${limit} bytes`),
          );
        else resolve({ stdout, stderr, code });
      });
      child.stdin.on('error', () => undefined); // a program that exits early: its exit code says why
      child.stdin.end(input ?? '');
    });
  }
}

/** `-w SECONDS` for iptables and its restore programs. */
export const WAIT_ARGS: readonly string[] = ['-w', XTABLES_WAIT_S];

/** The first lines of a program's complaint, for an error message. */
export function complaint(r: RunResult): string {
  return (r.stderr.trim() || r.stdout.trim()).split('\n').slice(0, 3).join(' | ');
}
