/**
 * A shipped unit file as systemd reads it, for the unit tests of contrib/systemd: the file copied
 * into a temporary directory under the names given, with /usr/local/bin/knockgate(d) pointed at this
 * checkout's build (nothing is installed here), then `systemd-analyze verify` and `systemd-analyze
 * security --offline=yes` on a copy. The security report's ✗ lines and its overall level are
 * printed, so a run shows what is and is not sandboxed.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KNOCKGATE, KNOCKGATED } from './daemon-process.js';

export interface UnitCopy {
  /** The shipped text, unchanged. */
  readonly text: string;
  readonly dir: string;
  /** The copy's path, for each name given. */
  readonly path: (name: string) => string;
  /** `systemd-analyze verify FILE`: its status and everything it printed. */
  verify(name: string): { status: number | null; stdout: string; stderr: string };
  /** `systemd-analyze security --offline=yes --threshold=T FILE`: status and overall exposure. */
  security(name: string, thresholdTenths: number): { status: number | null; exposure: string | null; output: string };
  remove(): void;
}

export function copyUnit(shipped: string, names: readonly string[]): UnitCopy {
  const dir = mkdtempSync(join(tmpdir(), 'knockgate-unit-'));
  const text = readFileSync(shipped, 'utf8');
  const local = text
    .replaceAll('/usr/local/bin/knockgated ', `${KNOCKGATED} `)
    .replaceAll('/usr/local/bin/knockgate ', `${KNOCKGATE} `);
  for (const name of names) writeFileSync(join(dir, name), local);
  const path = (name: string): string => join(dir, name);
  return {
    text,
    dir,
    path,
    verify(name) {
      const r = spawnSync('systemd-analyze', ['verify', path(name)], { encoding: 'utf8', cwd: dir });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    security(name, thresholdTenths) {
      const r = spawnSync(
        'systemd-analyze',
        ['security', '--offline=yes', `--threshold=${thresholdTenths}`, path(name)],
        { encoding: 'utf8', cwd: dir },
      );
      const overall = /Overall exposure level for \S+: ([\d.]+)/.exec(r.stdout);
      process.stdout.write(
        `${r.stdout
          .split('\n')
          .filter((l) => l.includes('✗') || l.includes('Overall'))
          .join('\n')}\n`,
      );
      return { status: r.status, exposure: overall?.[1] ?? null, output: r.stdout + r.stderr };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
