/**
 * `knockgated --install-service [--root DIR] [--force]`: puts in place what the package ships for
 * running knockgated under systemd, with the owners and modes the daemon expects, after `npm
 * install -g` (or from a checkout):
 *   - /etc/systemd/system/knockgated.service: contrib/systemd/knockgated.service with the paths of
 *     the knockgated and knockgate being run (so it works wherever npm put them);
 *   - /etc/logrotate.d/knockgate: contrib/logrotate/knockgate (the audit trail);
 *   - /usr/share/bash-completion/completions/knockgate: `knockgate completion bash`;
 *   - /etc/knockgate, /var/lib/knockgate, /var/log/knockgate: directories 0700, owned by root.
 * It starts nothing and runs no systemctl: it prints the commands that come next. `--root` writes
 * under another directory (a package build, a test). A file already there that differs is left
 * alone and named (exit 73) unless --force; one that is the same is reported unchanged, so running
 * it twice is harmless. No shell is involved; every path is built here.
 */

import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KnockgateError } from '../core/errors.js';

/** The package's root: dist/src/cli/ is three levels below it. */
const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const SHIPPED_DAEMON = '/usr/local/bin/knockgated';
const SHIPPED_CLIENT = '/usr/local/bin/knockgate';

export interface InstallServiceOptions {
  /** Where `/` is; default `/`. */
  readonly root: string;
  readonly force: boolean;
  /** The knockgated being run (process.argv[1]); knockgate is looked for beside it. */
  readonly daemonPath: string;
}

/** Installs, returning the report lines; throws KG_STATE_WRITE_FAILED naming what it left alone. */
export function installService(o: InstallServiceOptions): string[] {
  const daemon = resolve(o.daemonPath);
  const client = clientBeside(daemon);
  const at = (path: string) => join(o.root, path);
  const report: string[] = [];
  const refused: string[] = [];
  const place = (path: string, text: string) => {
    const target = at(path);
    const old = existsSync(target) ? readFileSync(target, 'utf8') : null;
    if (old === text) return void report.push(`unchanged ${target}`);
    if (old !== null && !o.force) return void refused.push(target);
    mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
    writeFileSync(target, text, { mode: 0o644 });
    chmodSync(target, 0o644);
    report.push(`${old === null ? 'wrote' : 'replaced'} ${target}`);
  };
  const unit = shipped('contrib/systemd/knockgated.service')
    .replaceAll(`${SHIPPED_DAEMON} `, `${daemon} `)
    .replaceAll(`${SHIPPED_CLIENT} `, `${client} `);
  place('/etc/systemd/system/knockgated.service', unit);
  place('/etc/logrotate.d/knockgate', shipped('contrib/logrotate/knockgate'));
  place('/usr/share/bash-completion/completions/knockgate', completionScript(client));
  for (const dir of ['/etc/knockgate', '/var/lib/knockgate', '/var/log/knockgate']) report.push(privateDir(at(dir)));
  if (refused.length > 0)
    throw new KnockgateError(
      'KG_STATE_WRITE_FAILED',
      `left alone, as they differ from what this version ships: ${refused.join(', ')}; --force replaces them (${report.join('; ')})`,
    );
  return [
    ...report,
    'next: knockgate keygen; write /etc/knockgate/knockgate.yaml (README, "Configuration"); knockgated --check;',
    '      systemctl daemon-reload && systemctl enable --now knockgated',
  ];
}

/**
 * knockgate next to knockgated: `knockgate` on PATH installs; in a checkout's dist/, the bin
 * package.json names, `knockgate.cjs` (knockgated.js's `knockgate.js` is a shim that loads the
 * whole tool).
 */
function clientBeside(daemon: string): string {
  const base = basename(daemon);
  const name = base === 'knockgated.js' ? 'knockgate.cjs' : base.replace(/^knockgated/, 'knockgate');
  const client = join(dirname(daemon), name);
  if (!existsSync(client))
    throw new KnockgateError('KG_STATE_WRITE_FAILED', `knockgate is not beside ${daemon} (looked for ${client})`);
  return client;
}

function shipped(path: string): string {
  const file = join(PACKAGE_ROOT, path);
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new KnockgateError(
      'KG_STATE_WRITE_FAILED',
      `the package's ${path} cannot be read: ${(err as Error).message}`,
    );
  }
}

function completionScript(client: string): string {
  const r = spawnSync(process.execPath, [client, 'completion', 'bash'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0)
    throw new KnockgateError('KG_STATE_WRITE_FAILED', `knockgate completion bash failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/** A directory only root may enter: made, or its mode and owner set right; the report line says which. */
function privateDir(dir: string): string {
  const existed = existsSync(dir);
  mkdirSync(dirname(dir), { recursive: true, mode: 0o755 }); // /var, /var/lib: as a system has them
  if (!existed) mkdirSync(dir, { mode: 0o700 });
  const before = statSync(dir);
  const wrong = (before.mode & 0o777) !== 0o700 || before.uid !== 0 || before.gid !== 0;
  if (wrong) {
    chownSync(dir, 0, 0);
    chmodSync(dir, 0o700);
  }
  if (!existed) return `created ${dir} (0700, root)`;
  return wrong
    ? `fixed ${dir}: was ${(before.mode & 0o777).toString(8)} ${before.uid}:${before.gid}, now 0700 root`
    : `unchanged ${dir}`;
}
