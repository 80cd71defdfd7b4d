/**
 * Runs the real knockgated (the built CLI) inside a test namespace and reads its JSON log lines,
 * so integration tests can wait for what a user would see in the log.
 */

import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Testbed } from './netns.js';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/test/support → repository root. */
export const REPO_ROOT = resolve(here, '..', '..', '..');
/** The built tree this file runs from: dist, or dist-sanitized under scripts/test-sanitized.sh. */
export const BUILD_ROOT = resolve(here, '..', '..');
export const KNOCKGATED = join(BUILD_ROOT, 'src', 'cli', 'knockgated.js');
export const KNOCKGATE = join(BUILD_ROOT, 'src', 'cli', 'knockgate.cjs');
export const PROBE = join(BUILD_ROOT, 'test', 'support', 'probe.js');
export const BANNER_SERVER = join(BUILD_ROOT, 'test', 'support', 'banner-server.js');

export type LogLine = Record<string, unknown> & { event?: string; msg?: string; level?: string };

export interface DaemonHandle {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly lines: LogLine[];
  readonly stderr: () => string;
  /** Resolves with the first line (already seen or future) that matches; rejects after timeoutMs. */
  waitFor(match: (l: LogLine) => boolean, timeoutMs?: number, what?: string): Promise<LogLine>;
  /** Resolves with the exit code once the process has exited. */
  exited(): Promise<number | null>;
}

const createdDirs: string[] = [];
process.once('exit', () => {
  for (const d of createdDirs) rmSync(d, { recursive: true, force: true });
});

/**
 * A config's text with `audit_log:` in `dir` when it names none, so that no test daemon writes the
 * host's /var/log/knockgate (appended: the lines a test's errors name do not move).
 */
export function withTestAuditLog(yaml: string, dir: string): string {
  if (yaml.trim() === '' || /^audit_log:/m.test(yaml)) return yaml;
  return `${yaml.endsWith('\n') ? yaml : `${yaml}\n`}audit_log: ${JSON.stringify(join(dir, 'audit.jsonl'))}\n`;
}

/** Writes a 0600 config into a fresh temporary directory, removed when the process exits. */
export function writeConfig(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'knockgate-test-'));
  createdDirs.push(dir);
  const file = join(dir, 'knockgate.yaml');
  writeFileSync(file, withTestAuditLog(yaml, dir), { mode: 0o600 });
  return file;
}

export async function startDaemon(tb: Testbed, configFile: string, extraArgs: string[] = []): Promise<DaemonHandle> {
  return startDaemonWith(tb, ['-c', configFile, ...extraArgs]);
}

/**
 * The arguments a test gave, with the audit trail kept beside the config: `-c FILE` gets
 * `audit_log:` in FILE's directory if it names none (withTestAuditLog), `--knockd-conf FILE` gets
 * `--audit-log` there.
 */
function testAuditArgs(args: string[]): string[] {
  const c = args.indexOf('-c');
  const file = c >= 0 ? args[c + 1] : undefined;
  if (file !== undefined) {
    const text = readFileSync(file, 'utf8');
    const with_ = withTestAuditLog(text, dirname(file));
    if (with_ !== text) writeFileSync(file, with_, { mode: 0o600 });
  }
  const k = args.indexOf('--knockd-conf');
  const conf = k >= 0 ? args[k + 1] : undefined;
  if (conf !== undefined && !args.includes('--audit-log'))
    return [...args, '--audit-log', join(dirname(resolve(conf)), 'audit.jsonl')];
  return args;
}

/** Starts knockgated with exactly these arguments (e.g. `--knockd-conf FILE`), its audit trail kept beside its config. */
export async function startDaemonWith(tb: Testbed, givenArgs: string[]): Promise<DaemonHandle> {
  const args = testAuditArgs(givenArgs);
  const child = tb.start(tb.server.ns, [process.execPath, KNOCKGATED, ...args]);
  const lines: LogLine[] = [];
  const waiters = new Set<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  let err = '';
  let buffered = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text };
      }
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.match(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const handle: DaemonHandle = {
    child,
    pid: child.pid as number,
    lines,
    stderr: () => err,
    waitFor(match, timeoutMs = 10_000, what = 'a log line') {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolvePromise, reject) => {
        const w = {
          match,
          resolve: (l: LogLine) => {
            clearTimeout(timer);
            resolvePromise(l);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(
            new Error(
              `timed out after ${timeoutMs} ms waiting for ${what}; stderr: ${err.trim()}; log tail: ${lines
                .slice(-5)
                .map((l) => JSON.stringify(l))
                .join('\n')}`,
            ),
          );
        }, timeoutMs);
        waiters.add(w);
        void exit.then(() => {
          if (waiters.has(w)) {
            waiters.delete(w);
            clearTimeout(timer);
            reject(new Error(`knockgated exited while waiting for ${what}; stderr: ${err.trim()}`));
          }
        });
      });
    },
    exited: () => exit,
  };
  await handle.waitFor((l) => l.event === 'ready', 15_000, 'knockgated to be ready');
  return handle;
}

export interface ProbeResult {
  readonly outcome: 'open' | 'refused' | 'unreachable' | 'timeout' | string;
  readonly banner?: string;
  readonly replies: string[];
}

/** Asks from `ns` whether host:port answers, watching the wire for RST and ICMP meanwhile. */
export function probe(tb: Testbed, ns: string, host: string, port: number, timeoutMs = 1000): ProbeResult {
  return JSON.parse(tb.run(ns, [process.execPath, PROBE, 'tcp', host, String(port), String(timeoutMs)])) as ProbeResult;
}

/** Runs the knockgate CLI here (outside any namespace) and returns its stdout; throws on failure. */
export function knockgateCli(args: readonly string[]): string {
  const r = spawnSync(process.execPath, [KNOCKGATE, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`knockgate ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Sends a knock with knockgate's own client from `ns`. */
export function knock(tb: Testbed, ns: string, host: string, steps: (string | number)[], extra: string[] = []): void {
  tb.run(ns, [process.execPath, KNOCKGATE, 'knock', ...extra, host, ...steps.map(String)]);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
