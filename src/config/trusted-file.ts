/**
 * Trusted files: the one check that a file knockgate reads its instructions or secrets from (the
 * YAML config, a knockd.conf, an fwknop access.conf and the files it includes, the server key, a
 * client credential, one-time sequence files, the pending stop commands) can only have been
 * written by someone who could run root commands anyway. A config can run root commands through
 * start_shell, so a file that another user can change is a privilege escalation, not a style issue.
 *
 * What must hold, or a ConfigError names the file (and the config key it came from, when given):
 *   - the file is a regular file, owned by root or by the user knockgate runs as (its euid), and
 *     neither group- nor world-writable;
 *   - every directory from `/` down to the file, both on the path as given and on the path with
 *     symbolic links resolved, is owned by root or by that user and is not writable by group or
 *     others unless it has the sticky bit (like /tmp: there nobody can rename or remove a file or
 *     directory they do not own). A writable directory would let anyone swap the file for theirs.
 * The file is opened once, checked with fstat on that descriptor and read from it, so what was
 * checked is what is read. Readability (secrets) is the caller's rule, on the returned stat.
 *
 * Files knockgate writes to a path from its config (pid_file, log_file) are opened with
 * openNoFollow: a symbolic link there is refused (O_NOFOLLOW), and so is anything but a regular
 * file of root's or ours, so a link planted by another user cannot make root write elsewhere.
 */

import { closeSync, constants, fstatSync, openSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { ConfigError, KnockgateError } from '../core/errors.js';

const euid = (): number => process.geteuid?.() ?? 0;
const mode = (st: Stats): string => (st.mode & 0o7777).toString(8).padStart(4, '0');
const STICKY = 0o1000;

/** Why a file is not a regular file of root's or ours, or null: what even a file we only write must be. */
function notOurFileReason(st: Stats, uid: number): string | null {
  if (!st.isFile()) return 'not a regular file';
  if (st.uid !== 0 && st.uid !== uid)
    return `owned by uid ${st.uid}, neither root nor the user knockgate runs as (uid ${uid})`;
  return null;
}

/** Why a file with these attributes may not be trusted, or null. */
export function untrustedFileReason(st: Stats, uid = euid()): string | null {
  const notOurs = notOurFileReason(st, uid);
  if (notOurs !== null) return st.isFile() ? `${notOurs}; chown it` : notOurs;
  if ((st.mode & 0o022) !== 0)
    return `writable by group or others (mode ${mode(st)}), so another user could change it; chmod go-w it`;
  return null;
}

/**
 * The one readability rule of every file that holds a secret (key files, knockgate.yaml with an
 * inline psk or fwknop key, ~/.fwknoprc): group and others may not read it. "readable by group or
 * others (mode 644)" when they can, for the caller's refusal; null when they cannot.
 */
export function readableByOthers(st: Pick<Stats, 'mode'>): string | null {
  return (st.mode & 0o044) !== 0 ? `readable by group or others (mode ${(st.mode & 0o777).toString(8)})` : null;
}

/** Why a directory on the way to a trusted file may not be trusted, or null. */
export function untrustedDirectoryReason(dir: string, st: Stats, uid = euid()): string | null {
  if (!st.isDirectory()) return `${dir} is not a directory`;
  if (st.uid !== 0 && st.uid !== uid)
    return `its directory ${dir} is owned by uid ${st.uid}, neither root nor the user knockgate runs as (uid ${uid}), who could replace the file; chown it`;
  if ((st.mode & 0o022) !== 0 && (st.mode & STICKY) === 0) {
    return `its directory ${dir} is writable by group or others (mode ${mode(st)}), so another user could replace the file; chmod go-w ${dir}`;
  }
  return null;
}

/** `/`, then each directory down to `dir` (absolute). */
function ancestors(dir: string): string[] {
  const out: string[] = [sep];
  let at = '';
  for (const part of dir.split(sep).filter((p) => p !== '')) {
    at += sep + part;
    out.push(at);
  }
  return out;
}

/** Why a directory leading to `file` may not be trusted (or cannot be checked), or null. */
function directoriesProblem(file: string): string | null {
  const given = resolve(file);
  const dirs = new Set(ancestors(dirname(given)));
  try {
    for (const d of ancestors(dirname(realpathSync(given)))) dirs.add(d);
  } catch {
    try {
      for (const d of ancestors(realpathSync(dirname(given)))) dirs.add(d);
    } catch {
      // the directory does not exist (yet): what exists of the path as given is checked below
    }
  }
  for (const dir of dirs) {
    let st: Stats;
    try {
      st = statSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      return `cannot check its directory ${dir}: ${(err as Error).message}`;
    }
    const why = untrustedDirectoryReason(dir, st);
    if (why !== null) return why;
  }
  return null;
}

/**
 * Checks the directories that lead to `file`, which need not exist (then the ancestors of its
 * directory that exist are checked, as for a file knockgate is about to create).
 */
export function checkTrustedDirectories(file: string, key?: string): void {
  const why = directoriesProblem(file);
  if (why !== null) throw new ConfigError(resolve(file), undefined, key, why);
}

export interface TrustedRead {
  readonly data: Buffer;
  /** fstat of the descriptor the data was read from. */
  readonly stat: Stats;
}

/** What went wrong, for callers that word their own messages (the access.conf importer). */
export interface TrustProblem {
  /** open: could not open or read; file: the file itself; size: above maxBytes; directory: a directory leading to it. */
  readonly problem: 'open' | 'file' | 'size' | 'directory';
  readonly detail: string;
}

/** Opens, checks and reads a trusted file (see the top of this file), or says why not. */
export function tryReadTrustedFile(file: string, maxBytes?: number): TrustedRead | TrustProblem {
  const path = resolve(file);
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted here must not hang the daemon; fstat then refuses it.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
  } catch (err) {
    return { problem: 'open', detail: (err as Error).message };
  }
  try {
    const stat = fstatSync(fd);
    const why = untrustedFileReason(stat);
    if (why !== null) return { problem: 'file', detail: why };
    if (maxBytes !== undefined && stat.size > maxBytes)
      return { problem: 'size', detail: `larger than ${maxBytes} bytes` };
    const dirs = directoriesProblem(path);
    if (dirs !== null) return { problem: 'directory', detail: dirs };
    return { data: readFileSync(fd), stat };
  } catch (err) {
    return { problem: 'open', detail: (err as Error).message };
  } finally {
    closeSync(fd);
  }
}

/**
 * tryReadTrustedFile, with a ConfigError naming the file (and `key`, the config key the path came
 * from) when it fails; `what` words an open or read error ("cannot read" when absent).
 */
export function readTrustedFile(file: string, o: { key?: string; maxBytes?: number; what?: string } = {}): TrustedRead {
  const r = tryReadTrustedFile(file, o.maxBytes);
  if ('problem' in r)
    throw new ConfigError(
      resolve(file),
      undefined,
      o.key,
      r.problem === 'open' ? `${o.what ?? 'cannot read'}: ${r.detail}` : r.detail,
    );
  return r;
}

/**
 * Opens a file knockgate writes (pid_file, log_file) without following a symbolic link, creating
 * it with `createMode` if absent. Throws KG_STATE_WRITE_FAILED naming the file and `what`.
 */
export function openNoFollow(file: string, flags: number, createMode: number, what: string): number {
  let fd: number;
  try {
    fd = openSync(
      file,
      flags | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY,
      createMode,
    );
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ELOOP'
        ? 'it is a symbolic link, which knockgate does not follow there (replace it by the file itself)'
        : e.message;
    throw new KnockgateError('KG_STATE_WRITE_FAILED', `cannot open the ${what} ${file}: ${why}`, { cause: err });
  }
  // Group-writable is the operator's choice for a file we only write; not being ours or root's is not.
  const why = notOurFileReason(fstatSync(fd), euid());
  if (why !== null) {
    closeSync(fd);
    throw new KnockgateError('KG_STATE_WRITE_FAILED', `cannot open the ${what} ${file}: ${why}`);
  }
  return fd;
}
